//! How long each stage of a layering took, for the daemon's log: one line
//! per layering, e.g. `Layered 1 packages on 1086b87 (overlaid) in 40 ms
//! (resolve 30, import 0, ...)`.

/// How long each stage of a layering took, for the daemon's log.
pub(crate) struct Stages {
    last: std::time::Instant,
    start: std::time::Instant,
    done: Vec<(&'static str, u128)>,
}

impl Stages {
    pub(crate) fn new() -> Self {
        let now = std::time::Instant::now();
        Self {
            last: now,
            start: now,
            done: Vec::new(),
        }
    }

    pub(crate) fn mark(&mut self, stage: &'static str) {
        let now = std::time::Instant::now();
        self.done.push((stage, (now - self.last).as_millis()));
        self.last = now;
    }

    pub(crate) fn log(&self, what: &str) {
        let parts: Vec<String> = self
            .done
            .iter()
            .map(|(s, ms)| format!("{s} {ms}"))
            .collect();
        glib::g_message!(
            "rpm-ostreed",
            "{what} in {} ms ({})",
            self.start.elapsed().as_millis(),
            parts.join(", ")
        );
    }
}
