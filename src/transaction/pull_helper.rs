//! The child side of a pull (`rpm-ostreed internal-pull SPEC`): runs libostree's
//! pull and reports progress as JSON lines on stdout. Pulls run in a child
//! process because libostree's HTTP fetcher does not notice cancellation while a
//! request stalls; killing the child does, at once, and leaves the repository
//! consistent (refs only move when the pull completes).

use glib::Variant;
use glib::prelude::*;
use serde_json::{Value, json};
use std::io::Write;
use std::process::ExitCode;

use super::pull::PullSpec;

fn emit(v: Value) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{v}");
    let _ = out.flush();
}

fn progress_json(p: &ostree::AsyncProgress) -> Value {
    json!({
        "start": p.uint64("start-time"),
        "outstanding": [p.uint("outstanding-fetches"), p.uint("outstanding-writes")],
        "metadata": [p.uint("scanned-metadata"), p.uint("metadata-fetched"), p.uint("outstanding-metadata-fetches")],
        "delta": [p.uint("total-delta-parts"), p.uint("fetched-delta-parts"), p.uint("total-delta-superblocks"), p.uint64("total-delta-part-size")],
        "content": [p.uint("fetched"), p.uint("requested")],
        "bytes": p.uint64("bytes-transferred"),
    })
}

fn run(spec: &PullSpec) -> Result<(), String> {
    let repo = ostree::Repo::new_for_path(&spec.repo);
    repo.open(gio::Cancellable::NONE)
        .map_err(|e| e.message().to_string())?;
    let progress = ostree::AsyncProgress::new();
    progress.connect_changed(|p| match p.status().filter(|s| !s.is_empty()) {
        Some(status) => emit(json!({ "status": status.as_str() })),
        None => emit(json!({ "progress": progress_json(p) })),
    });
    repo.connect_gpg_verify_result(|_, commit, result| {
        let sigs: Vec<Variant> = (0..result.count_all())
            .map(|i| Variant::from_variant(&result.all(i)))
            .collect();
        let av = Variant::array_from_iter_with_type(glib::VariantTy::VARIANT, sigs);
        emit(json!({ "signatures": av.print(true).as_str(), "commit": commit }));
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
    let result = repo.pull_with_options(
        &spec.remote,
        &opts.end(),
        Some(&progress),
        gio::Cancellable::NONE,
    );
    // The final counts, also for pulls too quick for a progress update.
    if result.is_ok() {
        emit(json!({ "progress": progress_json(&progress) }));
    }
    progress.finish();
    result.map_err(|e| e.message().to_string())
}

/// Entry point of `rpm-ostreed internal-pull SPEC-JSON`.
pub fn main(args: &[std::ffi::OsString]) -> ExitCode {
    let spec = args
        .get(2)
        .and_then(|a| a.to_str())
        .and_then(PullSpec::from_json);
    let Some(spec) = spec else {
        emit(json!({ "error": "internal-pull: invalid pull specification" }));
        return ExitCode::FAILURE;
    };
    let ctx = glib::MainContext::new();
    let result = ctx
        .with_thread_default(|| run(&spec))
        .unwrap_or_else(|e| Err(e.to_string()));
    match result {
        Ok(()) => {
            emit(json!({ "done": true }));
            ExitCode::SUCCESS
        }
        Err(msg) => {
            emit(json!({ "error": msg }));
            ExitCode::FAILURE
        }
    }
}
