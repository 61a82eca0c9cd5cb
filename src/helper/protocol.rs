//! The helper protocol: the request is one JSON document on the helper's
//! stdin; the helper answers with JSON lines on its stdout, any number of
//! `{"progress": P}` and then exactly one `{"done": R}` or `{"error": "..."}`.
//! Each verb has its own request, progress and result types.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::process::ExitCode;

/// One line of a helper's output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Line<P, R> {
    Progress(P),
    Done(R),
    Error(String),
}

/// Where the helper writes its lines: the original stdout, kept apart from
/// what libraries print (which goes to stderr, the daemon's log). Cheap to
/// clone into callbacks.
pub(crate) struct Emitter<P> {
    out: std::sync::Arc<std::sync::Mutex<std::fs::File>>,
    _progress: std::marker::PhantomData<fn(P)>,
}

impl<P> Clone for Emitter<P> {
    fn clone(&self) -> Self {
        Self {
            out: self.out.clone(),
            _progress: std::marker::PhantomData,
        }
    }
}

impl<P: Serialize> Emitter<P> {
    fn line<R: Serialize>(&self, line: &Line<P, R>) {
        let mut text = serde_json::to_string(line).unwrap_or_else(|e| {
            serde_json::to_string(&Line::<(), ()>::Error(format!("Encoding a reply: {e}")))
                .unwrap_or_default()
        });
        text.push('\n');
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        // The daemon reading us is gone if this fails: nobody left to tell.
        let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
    }

    /// Reports progress.
    pub(crate) fn progress(&self, p: P) {
        self.line::<()>(&Line::Progress(p))
    }
}

/// Moves the protocol off fd 1: returns it, and points fd 1 at stderr.
fn take_stdout() -> std::io::Result<std::fs::File> {
    let stdout = std::io::stdout();
    let proto: OwnedFd = rustix::io::fcntl_dupfd_cloexec(stdout.as_fd(), 3)?;
    rustix::stdio::dup2_stdout(std::io::stderr().as_fd())?;
    Ok(std::fs::File::from(proto))
}

/// The helper's side: reads the request `Q` from stdin, runs `work`, and
/// writes its result line. The exit code says whether it succeeded.
pub(crate) fn serve<Q, P, R>(work: impl FnOnce(Q, &Emitter<P>) -> anyhow::Result<R>) -> ExitCode
where
    Q: DeserializeOwned,
    P: Serialize,
    R: Serialize,
{
    let out = match take_stdout() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("helper: setting up its output: {e}");
            return ExitCode::FAILURE;
        }
    };
    let emitter = Emitter {
        out: std::sync::Arc::new(std::sync::Mutex::new(out)),
        _progress: std::marker::PhantomData,
    };
    let mut input = String::new();
    let request = std::io::stdin()
        .read_to_string(&mut input)
        .map_err(anyhow::Error::from)
        .and_then(|_| serde_json::from_str::<Q>(&input).map_err(anyhow::Error::from));
    let result = match request {
        Ok(q) => work(q, &emitter),
        Err(e) => Err(e.context("Reading the helper request")),
    };
    match result {
        Ok(r) => {
            emitter.line(&Line::<P, R>::Done(r));
            ExitCode::SUCCESS
        }
        Err(e) => {
            emitter.line(&Line::<P, R>::Error(format!("{e:#}")));
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_tagged() {
        let l: Line<u32, String> = Line::Progress(5);
        assert_eq!(serde_json::to_string(&l).unwrap(), r#"{"progress":5}"#);
        let l: Line<u32, String> = Line::Done("x".into());
        assert_eq!(serde_json::to_string(&l).unwrap(), r#"{"done":"x"}"#);
        let back: Line<u32, String> = serde_json::from_str(r#"{"error":"bad"}"#).unwrap();
        assert_eq!(back, Line::Error("bad".into()));
        assert!(serde_json::from_str::<Line<u32, String>>(r#"{"progress":"x"}"#).is_err());
    }
}
