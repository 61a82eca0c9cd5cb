//! The helper's output: JSON lines in the daemon's helper protocol
//! (src/helper/protocol.rs): any number of `{"progress": P}`, then exactly one
//! `{"done": R}` or `{"error": "one line"}`. The protocol gets the original
//! stdout; fd 1 is pointed at stderr so that nothing a library prints can
//! corrupt it.

use serde::Serialize;
use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::{Arc, Mutex};

/// One line of the helper's output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Line<P, R> {
    Progress(P),
    Done(R),
    Error(String),
}

/// Where the lines go. Cheap to clone.
#[derive(Clone)]
pub struct Out {
    file: Arc<Mutex<std::fs::File>>,
}

impl Out {
    /// Moves the protocol off fd 1: keeps a copy of stdout for the lines and
    /// points fd 1 at stderr.
    pub fn take_stdout() -> std::io::Result<Out> {
        let stdout = std::io::stdout();
        let proto: OwnedFd = rustix::io::fcntl_dupfd_cloexec(stdout.as_fd(), 3)?;
        rustix::stdio::dup2_stdout(std::io::stderr().as_fd())?;
        Ok(Out {
            file: Arc::new(Mutex::new(std::fs::File::from(proto))),
        })
    }

    fn line<T: Serialize>(&self, value: &T) {
        let mut text = serde_json::to_string(value).unwrap_or_else(|e| {
            serde_json::to_string(&Line::<(), ()>::Error(format!("Encoding a reply: {e}")))
                .unwrap_or_default()
        });
        text.push('\n');
        let mut f = self.file.lock().unwrap_or_else(|e| e.into_inner());
        // If the reader is gone there is nobody left to tell.
        let _ = f.write_all(text.as_bytes()).and_then(|_| f.flush());
    }

    pub fn progress<P: Serialize>(&self, p: P) {
        self.line(&Line::<P, ()>::Progress(p))
    }

    pub fn done<R: Serialize>(&self, r: R) {
        self.line(&Line::<(), R>::Done(r))
    }

    pub fn error(&self, message: &str) {
        self.line(&Line::<(), ()>::Error(message.to_string()))
    }
}

/// An error chain as one line: the causes joined by ": ", newlines (skopeo's
/// stderr, for one) folded into spaces, and repeated parts dropped.
pub fn one_line(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let text = cause
            .to_string()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        match parts.last_mut() {
            _ if text.is_empty() => {}
            Some(last) if last.ends_with(&text) => {}
            // A cause that repeats its context's words ("failed to X" then
            // "failed to X: why"): keep the longer one only.
            Some(last) if text.starts_with(last.as_str()) => *last = text,
            _ => parts.push(text),
        }
    }
    // Messages that repeat their own prefix ("failed to X: failed to X: why",
    // as the image proxy words them) lose the repetition.
    let mut segments: Vec<&str> = Vec::new();
    let joined = parts.join(": ");
    for seg in joined.split(": ") {
        if segments.last() != Some(&seg) {
            segments.push(seg);
        }
    }
    segments.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_match_the_daemon_protocol() {
        let l: Line<u32, String> = Line::Progress(5);
        assert_eq!(serde_json::to_string(&l).unwrap(), r#"{"progress":5}"#);
        let l: Line<u32, String> = Line::Done("x".into());
        assert_eq!(serde_json::to_string(&l).unwrap(), r#"{"done":"x"}"#);
        let l: Line<u32, String> = Line::Error("bad".into());
        assert_eq!(serde_json::to_string(&l).unwrap(), r#"{"error":"bad"}"#);
    }

    #[test]
    fn errors_are_one_line() {
        let e = anyhow::anyhow!("skopeo said\n  no such\nthing").context("Importing x");
        assert_eq!(one_line(&e), "Importing x: skopeo said no such thing");
        let e = anyhow::anyhow!("failed to X: why").context("failed to X");
        assert_eq!(one_line(&e), "failed to X: why");
        let e = anyhow::anyhow!("failed to X: failed to X: why").context("Importing y");
        assert_eq!(one_line(&e), "Importing y: failed to X: why");
    }
}
