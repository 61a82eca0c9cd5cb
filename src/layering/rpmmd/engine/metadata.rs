//! Getting the enabled repositories' metadata up to date and loading it
//! into the package sack, with upstream's messages: what `RefreshMd` does,
//! and the first step of a layering.

use anyhow::{Result, anyhow, bail};
use std::collections::BTreeSet;

use super::super::Progress;
use crate::ffi::dnf::{self, Context, Repo, State};
use crate::helper::protocol::Emitter;
use dnf_sys as sys;

/// "Does not expire" for `dnf_repo_check` and the context's cache age.
pub(super) const FOREVER: u32 = u32::MAX;
/// The repository's own `metadata_expire` decides.
const DEFAULT_AGE: u32 = u32::MAX - 1;

/// How fresh the metadata must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Freshness {
    /// What `metadata_expire` allows.
    Default,
    /// Fetched again, however fresh (`refresh-md --force`).
    Force,
    /// What is cached, however old; nothing is fetched (`--cache-only`).
    CacheOnly,
}

/// What to load besides the repositories' primary metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Load {
    pub filelists: bool,
    /// The installed packages of the context's install root (`@System`).
    pub rpmdb: bool,
}

/// The repositories whose packages are enabled, in libdnf's order.
pub(super) fn enabled(ctx: &Context) -> Vec<Repo> {
    ctx.repos()
        .into_iter()
        .filter(|r| r.enabled() & sys::DNF_REPO_ENABLED_PACKAGES != 0)
        .collect()
}

/// Gets the enabled repositories' metadata as fresh as `fresh` asks, then
/// loads it (and what `load` adds), reporting each step as upstream does.
pub(super) fn refresh(
    ctx: &Context,
    fresh: Freshness,
    load_also: Load,
    out: &Emitter<Progress>,
) -> Result<()> {
    ctx.set_enable_filelists(load_also.filelists);
    let repos = enabled(ctx);
    let say = |t: String| out.progress(Progress::Message(t));
    if repos.is_empty() {
        say("No enabled rpm-md repositories.".into());
    } else {
        let ids: String = repos.iter().map(|r| format!(" {}", r.id())).collect();
        say(format!("Enabled rpm-md repositories:{ids}"));
    }
    let mut updated = BTreeSet::new();
    let mut skipped = BTreeSet::new();
    for repo in &repos {
        let id = repo.id();
        let state = State::new();
        // The check also tells libdnf which files the repository needs.
        // With `force`, they are fetched again even when fresh (upstream's
        // check with age 0 still keeps metadata written in the same second).
        let age = match fresh {
            Freshness::Default => DEFAULT_AGE,
            Freshness::Force => 0,
            Freshness::CacheOnly => FOREVER,
        };
        let checked = repo.check(age, &state);
        match (fresh, checked) {
            (Freshness::Force, _) => {}
            (_, Ok(())) => continue,
            (Freshness::CacheOnly, Err(e)) => bail!(
                "rpm-md repo '{id}' has no usable cached metadata ({}); cache-only: nothing is fetched",
                e.message()
            ),
            (Freshness::Default, Err(_)) => {}
        }
        state.reset();
        let text = format!("Updating metadata for '{id}'");
        let (o, t) = (out.clone(), text.clone());
        state.on_percentage(move |p| o.progress(Progress::Percent(t.clone(), p)));
        out.progress(Progress::Percent(text, 0));
        match repo.update(sys::DNF_REPO_UPDATE_FLAG_FORCE, &state) {
            Ok(()) => {
                out.progress(Progress::End);
                updated.insert(id);
            }
            Err(e) if !repo.required() && dnf::is_unavailable(&e) => {
                out.progress(Progress::End);
                say(format!("Skipping refresh of {id}: {}", e.message()));
                repo.set_enabled(sys::DNF_REPO_ENABLED_NONE);
                skipped.insert(id);
            }
            Err(e) => bail!("Updating rpm-md repo '{id}': {}", e.message()),
        }
    }
    out.progress(Progress::Percent("Importing rpm-md".into(), 0));
    load(ctx, load_also, &State::new())?;
    out.progress(Progress::End);
    for repo in repos.iter().filter(|r| !skipped.contains(&r.id())) {
        let id = repo.id();
        let cached = if updated.contains(&id) {
            ""
        } else {
            " (cached)"
        };
        say(format!(
            "rpm-md repo '{id}'{cached}; generated: {} solvables: {}",
            generated(repo.timestamp_generated()),
            repo.n_solvables()
        ));
    }
    Ok(())
}

/// Loads the enabled repositories' cached metadata (never fetching).
pub(super) fn load(ctx: &Context, what: Load, state: &State) -> Result<()> {
    ctx.set_cache_age(FOREVER);
    let mut flags = sys::DNF_CONTEXT_SETUP_SACK_FLAG_LOAD_UPDATEINFO;
    if !what.rpmdb {
        flags |= sys::DNF_CONTEXT_SETUP_SACK_FLAG_SKIP_RPMDB;
    }
    if !what.filelists {
        flags |= sys::DNF_CONTEXT_SETUP_SACK_FLAG_SKIP_FILELISTS;
    }
    ctx.setup_sack(state, flags)
        .map_err(|e| anyhow!("Importing rpm-md: {}", e.message()))
}

/// `%FT%H:%M:%SZ` in UTC, as upstream prints a repository's generation time.
fn generated(ts: u64) -> String {
    i64::try_from(ts)
        .ok()
        .filter(|t| *t > 0)
        .and_then(|t| glib::DateTime::from_unix_utc(t).ok())
        .and_then(|d| d.format("%FT%H:%M:%SZ").ok())
        .map(|s| s.to_string())
        .unwrap_or_else(|| "(invalid timestamp)".into())
}
