//! Pulls from a remote. The pull itself runs in a helper process
//! (`rpm-ostreed internal-pull`), because libostree's HTTP fetcher does not
//! notice cancellation while a request stalls: killing the helper does, at
//! once, and leaves the repository consistent (refs only move when a pull
//! completes; partial objects stay in the staging area, which libostree
//! reclaims later). Its progress comes back as typed lines and becomes
//! `DownloadProgress`, `Message` and `SignatureProgress`; a watchdog kills a
//! pull that reports nothing for too long.

use anyhow::{Result, anyhow};
use glib::Variant;
use glib::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use crate::helper::{Helper, Stalled, protocol};
use crate::progress::{DownloadProgress, Event, ProgressSink};

/// What to pull, into which repository.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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
    /// Pull only these directories of the tree (with the commit).
    #[serde(default)]
    pub subdirs: Vec<String>,
}

/// libostree's counters, in the layout of the `DownloadProgress` signal.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Counts {
    /// Start of the pull, monotonic microseconds (0: not started).
    pub start: u64,
    pub outstanding: (u32, u32),
    pub metadata: (u32, u32, u32),
    pub delta: (u32, u32, u32, u64),
    pub content: (u32, u32),
    pub bytes: u64,
}

/// A progress line of the pull helper.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum PullProgress {
    Status(String),
    Counts(Counts),
    /// GPG results of a commit, as the text of an `av` GVariant.
    Signatures {
        signatures: String,
        commit: String,
    },
}

fn download_progress(c: &Counts) -> DownloadProgress {
    let elapsed = if c.start > 0 {
        (glib::monotonic_time() as u64).saturating_sub(c.start) / 1_000_000
    } else {
        0
    };
    DownloadProgress {
        time: (c.start, elapsed),
        outstanding: c.outstanding,
        metadata: c.metadata,
        delta: c.delta,
        content: c.content,
        transfer: (c.bytes, c.bytes.checked_div(elapsed).unwrap_or(c.bytes)),
    }
}

/// Turns one progress line into an event.
fn report(p: PullProgress, sink: &ProgressSink) {
    match p {
        PullProgress::Status(s) => sink.message(s),
        PullProgress::Counts(c) => sink.send(Event::DownloadProgress(download_progress(&c))),
        PullProgress::Signatures { signatures, commit } => {
            let ty = glib::VariantTy::new("av").expect("valid type");
            if let Ok(sigs) = Variant::parse(Some(ty), &signatures) {
                sink.send(Event::SignatureProgress(sigs, commit));
            }
        }
    }
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
    let result = Helper::<PullProgress, ()>::spawn("internal-pull", spec, cancellable)
        .and_then(|h| h.wait(stall_timeout, |p| report(p, sink)));
    sink.progress_end();
    result.map_err(|e| match e.downcast_ref::<Stalled>() {
        Some(Stalled(t)) => anyhow!(
            "Pulling from remote '{}' stalled: nothing received for {} seconds",
            spec.remote,
            t.as_secs()
        ),
        None => e,
    })
}

/// How often the helper reports counters (the final ones always go out).
const COUNTS_INTERVAL: Duration = Duration::from_millis(100);

fn counts(p: &ostree::AsyncProgress) -> Counts {
    Counts {
        start: p.uint64("start-time"),
        outstanding: (p.uint("outstanding-fetches"), p.uint("outstanding-writes")),
        metadata: (
            p.uint("scanned-metadata"),
            p.uint("metadata-fetched"),
            p.uint("outstanding-metadata-fetches"),
        ),
        delta: (
            p.uint("total-delta-parts"),
            p.uint("fetched-delta-parts"),
            p.uint("total-delta-superblocks"),
            p.uint64("total-delta-part-size"),
        ),
        content: (p.uint("fetched"), p.uint("requested")),
        bytes: p.uint64("bytes-transferred"),
    }
}

fn run(spec: &PullSpec, out: &protocol::Emitter<PullProgress>) -> Result<()> {
    let repo = ostree::Repo::new_for_path(&spec.repo);
    repo.open(gio::Cancellable::NONE)?;
    let progress = ostree::AsyncProgress::new();
    let o = out.clone();
    // libostree reports every change; the daemon shows a few per second.
    let last = std::cell::Cell::new(None::<std::time::Instant>);
    progress.connect_changed(move |p| match p.status().filter(|s| !s.is_empty()) {
        Some(status) => o.progress(PullProgress::Status(status.to_string())),
        None => {
            let now = std::time::Instant::now();
            if last
                .get()
                .is_none_or(|t| now.duration_since(t) >= COUNTS_INTERVAL)
            {
                last.set(Some(now));
                o.progress(PullProgress::Counts(counts(p)));
            }
        }
    });
    let o = out.clone();
    repo.connect_gpg_verify_result(move |_, commit, result| {
        let sigs: Vec<Variant> = (0..result.count_all())
            .map(|i| Variant::from_variant(&result.all(i)))
            .collect();
        let av = Variant::array_from_iter_with_type(glib::VariantTy::VARIANT, sigs);
        o.progress(PullProgress::Signatures {
            signatures: av.print(true).to_string(),
            commit: commit.to_string(),
        });
    });
    let opts = glib::VariantDict::new(None);
    opts.insert_value("refs", &vec![spec.branch.as_str()].to_variant());
    if let Some(c) = &spec.commit {
        opts.insert_value("override-commit-ids", &vec![c.as_str()].to_variant());
    }
    let flags = if spec.metadata_only {
        ostree::RepoPullFlags::COMMIT_ONLY
    } else {
        ostree::RepoPullFlags::NONE
    };
    opts.insert_value("flags", &(flags.bits() as i32).to_variant());
    if spec.depth != 0 {
        opts.insert_value("depth", &spec.depth.to_variant());
    }
    if !spec.subdirs.is_empty() {
        opts.insert_value("subdirs", &spec.subdirs.to_variant());
    }
    let result = repo.pull_with_options(
        &spec.remote,
        &opts.end(),
        Some(&progress),
        gio::Cancellable::NONE,
    );
    // The final counts, also for pulls too quick for a progress update.
    if result.is_ok() {
        out.progress(PullProgress::Counts(counts(&progress)));
    }
    progress.finish();
    result.map_err(|e| anyhow!("{}", e.message()))
}

/// Entry point of the helper `rpm-ostreed internal-pull`.
pub fn helper_main() -> ExitCode {
    protocol::serve(|spec: PullSpec, out| {
        // libostree iterates the thread-default context during pulls.
        let ctx = glib::MainContext::new();
        ctx.with_thread_default(|| run(&spec, out))
            .map_err(|e| anyhow!("{e}"))?
    })
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
            subdirs: Vec::new(),
        };
        let text = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<PullSpec>(&text).unwrap(), s);
        assert!(serde_json::from_str::<PullSpec>("{}").is_err());
    }

    #[test]
    fn progress_lines() {
        let (tx, rx) = async_channel::unbounded();
        let sink = ProgressSink::new(tx);
        report(PullProgress::Status("Writing objects".into()), &sink);
        report(
            PullProgress::Counts(Counts {
                start: 0,
                outstanding: (1, 2),
                metadata: (3, 4, 5),
                delta: (6, 7, 8, 9),
                content: (10, 11),
                bytes: 12,
            }),
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
