//! Rendering transaction progress: pure text for each signal (golden-tested),
//! and a renderer that shows it as live bars on a terminal or plain lines
//! otherwise, or nothing at all with `--quiet`.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::Write;

/// Human-readable byte counts, as upstream prints them (`1.2 MB`).
pub(crate) fn format_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "kB", "MB", "GB", "TB"];
    if bytes < 1000 {
        return format!("{bytes} bytes");
    }
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1000.0 && unit < UNITS.len() - 1 {
        v /= 1000.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// The one-line text of a `DownloadProgress` signal.
#[allow(clippy::type_complexity)]
pub(crate) fn download_line(
    outstanding: (u32, u32),
    metadata: (u32, u32, u32),
    delta: (u32, u32, u32, u64),
    content: (u32, u32),
    transfer: (u64, u64),
) -> String {
    let (outstanding_fetches, outstanding_writes) = outstanding;
    let (scanned, meta_fetched, outstanding_meta) = metadata;
    let (total_parts, fetched_parts, _, total_part_size) = delta;
    let (fetched, requested) = content;
    let (bytes, rate) = transfer;
    if outstanding_fetches == 0 && outstanding_writes > 0 {
        return format!("Writing objects: {outstanding_writes}");
    }
    if outstanding_fetches == 0 && outstanding_meta == 0 && fetched == 0 && meta_fetched == 0 {
        return format!("Scanning metadata: {scanned}");
    }
    if total_parts > 0 {
        return format!(
            "Receiving delta parts: {fetched_parts}/{total_parts} {}/s {}/{}",
            format_size(rate),
            format_size(bytes),
            format_size(total_part_size)
        );
    }
    if outstanding_meta > 0 {
        return format!(
            "Receiving metadata objects: {meta_fetched}/(estimating) {}/s {}",
            format_size(rate),
            format_size(bytes)
        );
    }
    let pct = if requested > 0 {
        (u64::from(fetched) * 100 / u64::from(requested)).min(100)
    } else {
        0
    };
    format!(
        "Receiving objects; {pct}% ({fetched}/{requested}) {}/s {}",
        format_size(rate),
        format_size(bytes)
    )
}

/// Shows progress for one transaction.
pub(crate) struct Renderer {
    quiet: bool,
    tty: bool,
    bar: Option<ProgressBar>,
    /// A task line waiting for its "done" (non-tty).
    task_open: bool,
    /// A percent step waiting for its "done" (non-tty).
    percent_open: Option<String>,
    last_line: Option<String>,
}

impl Renderer {
    pub(crate) fn new(quiet: bool) -> Self {
        use std::io::IsTerminal;
        Self {
            quiet,
            tty: std::io::stdout().is_terminal(),
            bar: None,
            task_open: false,
            percent_open: None,
            last_line: None,
        }
    }

    fn close_task(&mut self) {
        if self.task_open {
            println!();
            self.task_open = false;
        }
    }

    pub(crate) fn message(&mut self, text: &str) {
        if self.quiet {
            return;
        }
        self.end();
        self.close_task();
        println!("{text}");
    }

    pub(crate) fn task_begin(&mut self, text: &str) {
        if self.quiet {
            return;
        }
        self.end();
        self.close_task();
        if self.tty {
            let bar = ProgressBar::new_spinner();
            bar.set_message(format!("{text}..."));
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            self.bar = Some(bar);
        } else {
            print!("{text}...");
            let _ = std::io::stdout().flush();
            self.task_open = true;
        }
    }

    pub(crate) fn task_end(&mut self, text: &str) {
        if self.quiet {
            return;
        }
        if let Some(bar) = self.bar.take() {
            let msg = bar.message();
            bar.finish_and_clear();
            println!("{msg} {text}");
        } else if self.task_open {
            println!("{text}");
            self.task_open = false;
        } else {
            println!("{text}");
        }
    }

    pub(crate) fn percent(&mut self, text: &str, pct: u32) {
        if self.quiet {
            return;
        }
        self.close_task();
        if self.tty {
            let bar = self.bar.get_or_insert_with(|| {
                let b = ProgressBar::new(100);
                b.set_style(
                    ProgressStyle::with_template("{msg} [{bar:30}] {pos}%")
                        .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
                b
            });
            bar.set_message(text.to_string());
            bar.set_position(u64::from(pct.min(100)));
        } else if self.percent_open.as_deref() != Some(text) {
            // As a task off a terminal: the step's name, then "done" at its end.
            self.end();
            print!("{text}...");
            let _ = std::io::stdout().flush();
            self.percent_open = Some(text.to_string());
        }
    }

    pub(crate) fn download(&mut self, text: String) {
        if self.quiet {
            return;
        }
        self.close_task();
        if self.tty {
            let bar = self.bar.get_or_insert_with(|| {
                let b = ProgressBar::new_spinner();
                b.enable_steady_tick(std::time::Duration::from_millis(120));
                b
            });
            bar.set_message(text);
        } else {
            self.line(text);
        }
    }

    /// Non-tty: print a progress line unless it repeats the previous one.
    fn line(&mut self, text: String) {
        if self.last_line.as_deref() != Some(text.as_str()) {
            println!("{text}");
            self.last_line = Some(text);
        }
    }

    /// The transaction failed: an open step line ends without "done".
    pub(crate) fn interrupt(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.abandon();
        }
        if self.percent_open.take().is_some() || self.task_open {
            println!();
            self.task_open = false;
        }
        self.last_line = None;
    }

    /// `ProgressEnd`: whatever bar is showing is finished.
    pub(crate) fn end(&mut self) {
        if let Some(bar) = self.bar.take() {
            let msg = bar.message();
            let percent = bar.length() == Some(100);
            bar.finish_and_clear();
            if !msg.is_empty() && !self.quiet {
                if percent {
                    println!("{msg}... done");
                } else {
                    println!("{msg}");
                }
            }
        }
        if self.percent_open.take().is_some() {
            println!("done");
        }
        self.last_line = None;
    }
}

impl Drop for Renderer {
    fn drop(&mut self) {
        self.end();
        self.close_task();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(format_size(999), "999 bytes");
        assert_eq!(format_size(1_200_000), "1.2 MB");
        assert_eq!(format_size(3_400_000), "3.4 MB");
        assert_eq!(format_size(2_000), "2.0 kB");
    }

    #[test]
    fn download_lines() {
        assert_eq!(
            download_line(
                (2, 0),
                (3, 0, 0),
                (0, 0, 0, 0),
                (9, 20),
                (3_400_000, 1_200_000)
            ),
            "Receiving objects; 45% (9/20) 1.2 MB/s 3.4 MB"
        );
        assert_eq!(
            download_line((1, 0), (0, 5, 2), (0, 0, 0, 0), (0, 0), (100, 50)),
            "Receiving metadata objects: 5/(estimating) 50 bytes/s 100 bytes"
        );
        assert_eq!(
            download_line(
                (1, 0),
                (0, 1, 0),
                (4, 1, 1, 8_000_000),
                (0, 0),
                (2_000_000, 1_000_000)
            ),
            "Receiving delta parts: 1/4 1.0 MB/s 2.0 MB/8.0 MB"
        );
        assert_eq!(
            download_line((0, 7), (0, 0, 0), (0, 0, 0, 0), (3, 3), (0, 0)),
            "Writing objects: 7"
        );
        assert_eq!(
            download_line((0, 0), (12, 0, 0), (0, 0, 0, 0), (0, 0), (0, 0)),
            "Scanning metadata: 12"
        );
    }
}
