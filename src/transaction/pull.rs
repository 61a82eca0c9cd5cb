//! Pulls from a remote inside a transaction. The pull itself runs in a child
//! process (`pull_helper`): its progress comes back as JSON lines and becomes
//! `DownloadProgress`/`Message`/`SignatureProgress`; `Cancel` kills it at once; a
//! watchdog kills it when nothing arrives for too long (a stalled remote fails
//! with a clear error instead of hanging the transaction).

use anyhow::{Context, Result, anyhow};
use gio::prelude::*;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::Duration;

use super::child::{Helper, Line};
use super::progress::{DownloadProgress, Event, ProgressSink};

/// What to pull, into which repository.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PullSpec {
    pub repo: PathBuf,
    pub remote: String,
    pub branch: String,
    /// Pull this commit of the branch instead of its head.
    pub commit: Option<String>,
    /// Commit objects only (update checks, history walks).
    pub metadata_only: bool,
    /// History depth of commit objects (-1: all).
    pub depth: i32,
}

impl PullSpec {
    pub(crate) fn to_json(&self) -> String {
        json!({
            "repo": self.repo.to_string_lossy(),
            "remote": self.remote,
            "branch": self.branch,
            "commit": self.commit,
            "metadata_only": self.metadata_only,
            "depth": self.depth,
        })
        .to_string()
    }

    pub(crate) fn from_json(s: &str) -> Option<Self> {
        let v: Value = serde_json::from_str(s).ok()?;
        Some(Self {
            repo: PathBuf::from(v["repo"].as_str()?),
            remote: v["remote"].as_str()?.to_string(),
            branch: v["branch"].as_str()?.to_string(),
            commit: v["commit"].as_str().map(String::from),
            metadata_only: v["metadata_only"].as_bool()?,
            depth: v["depth"].as_i64()? as i32,
        })
    }
}

fn u32s<const N: usize>(v: &Value) -> [u32; N] {
    let mut out = [0u32; N];
    for (i, o) in out.iter_mut().enumerate() {
        *o = v[i].as_u64().unwrap_or(0) as u32;
    }
    out
}

fn download_progress(p: &Value) -> DownloadProgress {
    let start = p["start"].as_u64().unwrap_or(0);
    let elapsed = if start > 0 {
        (glib::monotonic_time() as u64).saturating_sub(start) / 1_000_000
    } else {
        0
    };
    let bytes = p["bytes"].as_u64().unwrap_or(0);
    let [of, ow] = u32s::<2>(&p["outstanding"]);
    let [sm, mf, om] = u32s::<3>(&p["metadata"]);
    let [tp, fp, ts] = u32s::<3>(&p["delta"]);
    let [fetched, requested] = u32s::<2>(&p["content"]);
    DownloadProgress {
        time: (start, elapsed),
        outstanding: (of, ow),
        metadata: (sm, mf, om),
        delta: (tp, fp, ts, p["delta"][3].as_u64().unwrap_or(0)),
        content: (fetched, requested),
        transfer: (bytes, bytes.checked_div(elapsed).unwrap_or(bytes)),
    }
}

/// Turns one line of the helper into an event; returns the result a final line
/// carries (`done`, or an error's text).
fn handle_line(line: &str, sink: &ProgressSink) -> Option<Result<(), String>> {
    let v: Value = serde_json::from_str(line).ok()?;
    if v["done"].as_bool() == Some(true) {
        return Some(Ok(()));
    }
    if let Some(status) = v["status"].as_str() {
        sink.message(status);
    } else if v.get("progress").is_some() {
        sink.send(Event::DownloadProgress(download_progress(&v["progress"])));
    } else if let Some(text) = v["signatures"].as_str() {
        if let Ok(sigs) = glib::Variant::parse(Some(glib::VariantTy::new("av").ok()?), text) {
            let commit = v["commit"].as_str().unwrap_or_default().to_string();
            sink.send(Event::SignatureProgress(sigs, commit));
        }
    } else if let Some(e) = v["error"].as_str() {
        return Some(Err(e.to_string()));
    }
    None
}

/// Pulls `spec`, reporting through `sink`. Fails with the cancellation error when
/// `cancellable` fires, and with a clear error when nothing arrives for
/// `stall_timeout`.
pub(crate) fn pull(
    spec: &PullSpec,
    sink: &ProgressSink,
    cancellable: &gio::Cancellable,
    stall_timeout: Duration,
) -> Result<()> {
    cancellable.set_error_if_cancelled()?;
    let mut helper =
        Helper::spawn("internal-pull", &spec.to_json()).context("Starting the pull")?;
    let mut outcome = None;
    let result = loop {
        match helper.next_line(cancellable, stall_timeout) {
            Err(e) => break Err(e),
            Ok(Line::Text(line)) => {
                if let Some(o) = handle_line(&line, sink) {
                    outcome = Some(o);
                }
            }
            Ok(Line::Ended) => {
                break match outcome.take() {
                    Some(Ok(())) => Ok(()),
                    Some(Err(e)) => Err(anyhow!("{e}")),
                    None => Err(anyhow!("The pull ended without a result")),
                };
            }
            Ok(Line::Stalled) => {
                break Err(anyhow!(
                    "Pulling from remote '{}' stalled: nothing received for {} seconds",
                    spec.remote,
                    stall_timeout.as_secs()
                ));
            }
        }
    };
    sink.progress_end();
    // A killed pull leaves its partial objects in the repository's staging
    // area, which libostree reclaims on a later transaction; refs never moved.
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_roundtrip() {
        let s = PullSpec {
            repo: "/sysroot/ostree/repo".into(),
            remote: "r".into(),
            branch: "os/x".into(),
            commit: Some("c".repeat(64)),
            metadata_only: true,
            depth: -1,
        };
        assert_eq!(PullSpec::from_json(&s.to_json()), Some(s));
        assert_eq!(PullSpec::from_json("{}"), None);
    }

    #[test]
    fn progress_lines() {
        let (tx, rx) = async_channel::unbounded();
        let sink = ProgressSink::new(tx);
        assert_eq!(handle_line(r#"{"status": "Writing objects"}"#, &sink), None);
        assert_eq!(
            handle_line(r#"{"error": "No such branch"}"#, &sink),
            Some(Err("No such branch".into()))
        );
        assert_eq!(handle_line(r#"{"done": true}"#, &sink), Some(Ok(())));
        handle_line(
            r#"{"progress": {"start": 0, "outstanding": [1, 2], "metadata": [3, 4, 5], "delta": [6, 7, 8, 9], "content": [10, 11], "bytes": 12}}"#,
            &sink,
        );
        let evs: Vec<Event> = std::iter::from_fn(|| rx.try_recv().ok()).collect();
        assert!(matches!(&evs[0], Event::Message(m) if m == "Writing objects"));
        let Event::DownloadProgress(d) = &evs[1] else {
            panic!("{evs:?}")
        };
        assert_eq!(d.outstanding, (1, 2));
        assert_eq!(d.metadata, (3, 4, 5));
        assert_eq!(d.delta, (6, 7, 8, 9));
        assert_eq!(d.content, (10, 11));
        assert_eq!(d.transfer.0, 12);
    }
}
