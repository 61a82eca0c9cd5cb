//! Progress of running work: one `Event` enum that mirrors the `Transaction`
//! signals, and the `Send` sink any thread reports through. Lossy events
//! (percent, download) are throttled; the others are never dropped.

use glib::Variant;
use glib::prelude::*;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// libostree pull progress, in the tuple layout of the `DownloadProgress` signal.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct DownloadProgress {
    /// (start time in seconds since the epoch, elapsed seconds)
    pub time: (u64, u64),
    /// (outstanding fetches, outstanding writes)
    pub outstanding: (u32, u32),
    /// (scanned metadata, metadata fetched, outstanding metadata fetches)
    pub metadata: (u32, u32, u32),
    /// (total delta parts, fetched delta parts, total delta superblocks, total delta part size)
    pub delta: (u32, u32, u32, u64),
    /// (fetched, requested)
    pub content: (u32, u32),
    /// (bytes transferred, bytes per second)
    pub transfer: (u64, u64),
}

/// Everything a worker reports while it runs.
#[derive(Debug, Clone)]
pub(crate) enum Event {
    Message(String),
    TaskBegin(String),
    TaskEnd(String),
    PercentProgress(String, u32),
    DownloadProgress(DownloadProgress),
    SignatureProgress(Variant, String),
    ProgressEnd,
    /// The title became known at execution start.
    Title(String),
}

impl Event {
    /// The signal name and body on the peer connections; `None` for internal events.
    pub(crate) fn to_signal(&self) -> Option<(&'static str, Variant)> {
        Some(match self {
            Self::Message(t) => ("Message", (t,).to_variant()),
            Self::TaskBegin(t) => ("TaskBegin", (t,).to_variant()),
            Self::TaskEnd(t) => ("TaskEnd", (t,).to_variant()),
            Self::PercentProgress(t, p) => ("PercentProgress", (t, *p).to_variant()),
            Self::DownloadProgress(d) => (
                "DownloadProgress",
                (
                    d.time,
                    d.outstanding,
                    d.metadata,
                    d.delta,
                    d.content,
                    d.transfer,
                )
                    .to_variant(),
            ),
            Self::SignatureProgress(sigs, commit) => {
                let body = Variant::tuple_from_iter([sigs.clone(), commit.to_variant()]);
                ("SignatureProgress", body)
            }
            Self::ProgressEnd => ("ProgressEnd", ().to_variant()),
            Self::Title(_) => return None,
        })
    }

    fn is_lossy(&self) -> bool {
        matches!(self, Self::PercentProgress(..) | Self::DownloadProgress(_))
    }
}

/// Lossy events closer together than this are dropped.
const THROTTLE: Duration = Duration::from_millis(100);

/// When the last lossy event went out, and the step (percent text) it belonged to.
type LastLossy = (Instant, Option<String>);

/// Where a worker sends its events; cheap to clone, usable from any thread.
#[derive(Clone)]
pub(crate) struct ProgressSink {
    tx: async_channel::Sender<Event>,
    last_lossy: std::sync::Arc<Mutex<Option<LastLossy>>>,
    /// `output-to-self`: progress goes to the daemon's log, not to the peers.
    to_self: bool,
}

impl ProgressSink {
    pub(crate) fn new(tx: async_channel::Sender<Event>) -> Self {
        Self {
            tx,
            last_lossy: Default::default(),
            to_self: false,
        }
    }

    /// A sink that logs progress instead of sending it to the peers.
    pub(crate) fn with_output_to_self(mut self, yes: bool) -> Self {
        self.to_self = yes;
        self
    }

    pub(crate) fn send(&self, ev: Event) {
        if self.to_self && ev.to_signal().is_some() {
            match &ev {
                Event::Message(t) | Event::TaskBegin(t) => glib::g_message!("rpm-ostreed", "{t}"),
                _ => {}
            }
            return;
        }
        if ev.is_lossy() {
            let mut last = self.last_lossy.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            let step = match &ev {
                Event::PercentProgress(t, _) => Some(t.clone()),
                _ => None,
            };
            // The end of a step, and the start of another, always go out.
            let complete = matches!(ev, Event::PercentProgress(_, 100));
            let same_step = last.as_ref().is_some_and(|(_, s)| *s == step);
            if !complete
                && same_step
                && last
                    .as_ref()
                    .is_some_and(|(t, _)| now.duration_since(*t) < THROTTLE)
            {
                return;
            }
            *last = Some((now, step));
        }
        // The receiver only goes away when the daemon is shutting down.
        let _ = self.tx.send_blocking(ev);
    }

    pub(crate) fn message(&self, text: impl Into<String>) {
        self.send(Event::Message(text.into()))
    }
    pub(crate) fn task_begin(&self, text: impl Into<String>) {
        self.send(Event::TaskBegin(text.into()))
    }
    pub(crate) fn task_end(&self, text: impl Into<String>) {
        self.send(Event::TaskEnd(text.into()))
    }
    pub(crate) fn progress_end(&self) {
        self.send(Event::ProgressEnd)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_bodies_have_the_contract_types() {
        let cases = [
            (Event::Message("m".into()), "Message", "(s)"),
            (Event::TaskBegin("t".into()), "TaskBegin", "(s)"),
            (Event::TaskEnd("done".into()), "TaskEnd", "(s)"),
            (
                Event::PercentProgress("p".into(), 5),
                "PercentProgress",
                "(su)",
            ),
            (
                Event::DownloadProgress(DownloadProgress::default()),
                "DownloadProgress",
                "((tt)(uu)(uuu)(uuut)(uu)(tt))",
            ),
            (
                Event::SignatureProgress(Vec::<Variant>::new().to_variant(), "c".into()),
                "SignatureProgress",
                "(avs)",
            ),
            (Event::ProgressEnd, "ProgressEnd", "()"),
        ];
        for (ev, name, sig) in cases {
            let (n, body) = ev.to_signal().unwrap();
            assert_eq!(n, name);
            assert_eq!(body.type_().as_str(), sig, "{name}");
        }
        assert!(Event::Title("x".into()).to_signal().is_none());
    }

    #[test]
    fn lossy_events_are_throttled_but_messages_never() {
        let (tx, rx) = async_channel::unbounded();
        let sink = ProgressSink::new(tx);
        for i in 0..50 {
            sink.send(Event::PercentProgress("p".into(), i));
            sink.message(format!("m{i}"));
        }
        sink.send(Event::PercentProgress("p".into(), 100));
        let evs: Vec<Event> = std::iter::from_fn(|| rx.try_recv().ok()).collect();
        let messages = evs
            .iter()
            .filter(|e| matches!(e, Event::Message(_)))
            .count();
        let percents = evs
            .iter()
            .filter(|e| matches!(e, Event::PercentProgress(..)))
            .count();
        assert_eq!(messages, 50);
        assert!(percents < 10, "{percents}");
        assert!(matches!(evs.last(), Some(Event::PercentProgress(_, 100))));
    }
}
