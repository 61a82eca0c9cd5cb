//! The human `rpm-ostree status` output (§9.3), rendered from the daemon's
//! dictionaries by pure functions (golden-tested from fixtures).

use glib::Variant;
use std::collections::BTreeMap;
use std::fmt::Write;

use crate::pkgdiff::PkgDiff;

mod overrides;

pub(crate) type Dict = BTreeMap<String, Variant>;

/// Width of the key column: `len("InactiveRemoteOverrides")`.
const KEY_WIDTH: usize = 23;
/// Width of the key column of the `AvailableUpdate:` block.
const UPDATE_KEY_WIDTH: usize = 13;

/// Everything status shows, gathered from the daemon and the system.
#[derive(Debug, Default)]
pub(crate) struct StatusInput {
    pub deployments: Vec<Dict>,
    pub policy: String,
    /// e.g. `rpm-ostreed-automatic.timer: inactive`.
    pub timer_state: String,
    /// (name, unit, state) of a registered update driver.
    pub driver: Option<(String, String, String)>,
    /// (title, initiator) of the active transaction.
    pub transaction: Option<(String, String)>,
    pub busy: bool,
    pub cached_update: Option<Dict>,
    pub default_checksum: Option<String>,
    /// The package changes of the pending deployment (shown with it).
    pub pending_diff: Option<PkgDiff>,
    pub verbose: bool,
    pub booted_only: bool,
    pub color: bool,
}

fn s(d: &Dict, k: &str) -> Option<String> {
    d.get(k).and_then(|v| v.str().map(String::from))
}
fn b(d: &Dict, k: &str) -> bool {
    d.get(k).and_then(|v| v.get::<bool>()).unwrap_or(false)
}
/// `key: ...` of what is `requested` but not `active`, sorted; nothing when
/// all of it is active.
fn inactive_line(out: &mut Out, w: usize, key: &str, requested: Vec<String>, active: &[String]) {
    let mut inactive: Vec<String> = requested
        .into_iter()
        .filter(|r| !active.contains(r))
        .collect();
    inactive.sort_by_key(|p| p.to_lowercase());
    if !inactive.is_empty() {
        out.kv(w, key, &inactive.join(" "));
    }
}

fn strv(d: &Dict, k: &str) -> Vec<String> {
    d.get(k)
        .and_then(|v| v.get::<Vec<String>>())
        .unwrap_or_default()
}

/// `%Y-%m-%dT%H:%M:%SZ` in UTC.
pub(crate) fn format_timestamp(secs: u64) -> String {
    glib::DateTime::from_unix_utc(secs as i64)
        .ok()
        .and_then(|d| d.format("%Y-%m-%dT%H:%M:%SZ").ok())
        .map(|s| s.to_string())
        .unwrap_or_else(|| secs.to_string())
}

struct Out {
    text: String,
    color: bool,
}

impl Out {
    fn kv(&mut self, width: usize, key: &str, value: &str) {
        let _ = writeln!(self.text, "  {key:>width$}: {value}");
    }
    /// A continuation line, aligned with the values.
    fn cont(&mut self, width: usize, value: &str) {
        let _ = writeln!(self.text, "  {:width$}  {value}", "");
    }
    fn kv_red(&mut self, width: usize, key: &str, value: &str) {
        let v = if self.color {
            format!("\x1b[31m{value}\x1b[0m")
        } else {
            value.to_string()
        };
        self.kv(width, key, &v);
    }
    fn line(&mut self, l: &str) {
        self.text.push_str(l);
        self.text.push('\n');
    }
    fn bold(&self, v: &str) -> String {
        if self.color {
            format!("\x1b[1m{v}\x1b[22m")
        } else {
            v.to_string()
        }
    }
}

/// One signature of a `signatures` array: libostree's positional attribute tuple.
struct Signature {
    valid: bool,
    sig_expired: bool,
    key_expired: bool,
    key_revoked: bool,
    key_missing: bool,
    fingerprint: String,
    timestamp: i64,
    pubkey_algo: String,
    user_name: String,
    user_email: String,
}

fn signature(v: &Variant) -> Option<Signature> {
    let t = v.as_variant().unwrap_or_else(|| v.clone());
    if !t.is_container() || t.n_children() < 12 {
        return None;
    }
    let c = |i: usize| t.child_value(i);
    Some(Signature {
        valid: c(0).get().unwrap_or(false),
        sig_expired: c(1).get().unwrap_or(false),
        key_expired: c(2).get().unwrap_or(false),
        key_revoked: c(3).get().unwrap_or(false),
        key_missing: c(4).get().unwrap_or(false),
        fingerprint: c(5).str().unwrap_or_default().to_string(),
        timestamp: c(6).get().unwrap_or(0),
        pubkey_algo: c(8).str().unwrap_or_default().to_string(),
        user_name: c(10).str().unwrap_or_default().to_string(),
        user_email: c(11).str().unwrap_or_default().to_string(),
    })
}

fn signature_summary(sig: &Signature) -> String {
    let fpr = &sig.fingerprint;
    if sig.key_missing {
        format!("Can't check signature: public key {fpr} not found")
    } else if sig.valid {
        format!("Valid signature by {fpr}")
    } else if sig.key_revoked {
        format!("Signature by revoked key {fpr}")
    } else if sig.sig_expired || sig.key_expired {
        format!("Expired signature by {fpr}")
    } else {
        format!("BAD signature by {fpr}")
    }
}

fn signature_details(sig: &Signature) -> Vec<String> {
    let keyid = sig
        .fingerprint
        .get(sig.fingerprint.len().saturating_sub(16)..)
        .unwrap_or(&sig.fingerprint);
    let mut lines = vec![format!(
        "Signature made {} using {} key ID {keyid}",
        format_timestamp(sig.timestamp.max(0) as u64),
        sig.pubkey_algo
    )];
    lines.push(if sig.key_missing {
        format!(
            "Can't check signature: public key {} not found",
            sig.fingerprint
        )
    } else if sig.valid {
        format!(
            "Good signature from \"{} <{}>\"",
            sig.user_name, sig.user_email
        )
    } else {
        format!(
            "BAD signature from \"{} <{}>\"",
            sig.user_name, sig.user_email
        )
    });
    lines
}

fn gpg_lines(out: &mut Out, width: usize, d: &Dict, verbose: bool) {
    if !b(d, "gpg-enabled") {
        return;
    }
    let sigs: Vec<Signature> = d
        .get("signatures")
        .map(|v| v.iter().filter_map(|s| signature(&s)).collect())
        .unwrap_or_default();
    if sigs.is_empty() {
        out.kv(width, "GPGSignature", "(unsigned)");
        return;
    }
    if verbose {
        let n = sigs.len();
        out.kv(
            width,
            "GPGSignature",
            &format!("{n} signature{}", if n == 1 { "" } else { "s" }),
        );
        for sig in &sigs {
            for l in signature_details(sig) {
                out.cont(width, &l);
            }
        }
    } else {
        for (i, sig) in sigs.iter().enumerate() {
            if i == 0 {
                out.kv(width, "GPGSignature", &signature_summary(sig));
            } else {
                out.cont(width, &signature_summary(sig));
            }
        }
    }
}

fn version_line(out: &mut Out, width: usize, d: &Dict) {
    // A layered deployment shows when its base was made.
    let ts = d
        .get("base-timestamp")
        .or_else(|| d.get("timestamp"))
        .and_then(|v| v.get::<u64>());
    match (s(d, "version"), ts) {
        (Some(v), Some(t)) => {
            let v = out.bold(&v);
            out.kv(width, "Version", &format!("{v} ({})", format_timestamp(t)))
        }
        (Some(v), None) => {
            let v = out.bold(&v);
            out.kv(width, "Version", &v)
        }
        (None, Some(t)) => out.kv(width, "Timestamp", &format_timestamp(t)),
        (None, None) => {}
    }
}

fn deployment(out: &mut Out, d: &Dict, index: usize, input: &StatusInput, multiple_os: bool) {
    let glyph = if b(d, "booted") { "●" } else { " " };
    let title = d
        .get("custom-origin")
        .and_then(|v| v.get::<(String, String)>())
        .map(|(url, _)| url)
        .or_else(|| s(d, "origin"))
        .or_else(|| s(d, "container-image-reference"))
        .or_else(|| s(d, "checksum"))
        .unwrap_or_default();
    let mut first = format!("{glyph} {title}");
    if input.verbose {
        let _ = write!(first, " (index: {index})");
    }
    out.line(&first);
    let w = KEY_WIDTH;
    if let Some(digest) = s(d, "container-image-reference-digest") {
        out.kv(w, "Digest", &digest);
    } else if let Some((_, desc)) = d
        .get("custom-origin")
        .and_then(|v| v.get::<(String, String)>())
    {
        out.kv(w, "CustomOrigin", &desc);
    }
    if let Some(err) = s(d, "remote-error") {
        out.kv_red(w, "OstreeRemoteStatus", &err);
    }
    version_line(out, w, d);
    if let Some(c) = s(d, "checksum")
        && (d.contains_key("origin") || input.verbose)
    {
        match s(d, "base-checksum") {
            Some(base) => {
                out.kv(w, "BaseCommit", &base);
                if input.verbose {
                    out.kv(w, "Commit", &c);
                }
            }
            None => out.kv(w, "Commit", &c),
        }
    }
    if b(d, "staged") {
        out.kv(w, "Staged", "yes");
    } else if input.verbose && index == 0 {
        out.kv(w, "Staged", "no");
    }
    if (input.verbose || multiple_os)
        && let Some(os) = s(d, "osname")
    {
        out.kv(w, "StateRoot", &os);
    }
    gpg_lines(out, w, d, input.verbose);
    if index == 0
        && !b(d, "booted")
        && let Some(diff) = &input.pending_diff
    {
        diff_lines(out, w, diff, input.verbose);
    }
    overrides::lines(out, w, d, input.verbose);
    let mut layered = strv(d, "packages");
    layered.sort_by_key(|p| p.to_lowercase());
    if input.verbose {
        let requested = strv(d, "requested-packages");
        inactive_line(out, w, "InactiveRequests", requested, &layered);
    }
    if !layered.is_empty() {
        out.kv(w, "LayeredPackages", &layered.join(" "));
    }
    let mut local = strv(d, "requested-local-packages");
    local.sort_by_key(|p| p.to_lowercase());
    if !local.is_empty() {
        out.kv(w, "LocalPackages", &local.join(" "));
    }
    if b(d, "regenerate-initramfs") {
        let args = strv(d, "initramfs-args");
        let v = if args.is_empty() {
            "regenerate".to_string()
        } else {
            args.join(" ")
        };
        out.kv(w, "Initramfs", &v);
    }
    let etc = strv(d, "initramfs-etc");
    if !etc.is_empty() {
        out.kv(w, "InitramfsEtc", &etc.join(" "));
    }
    if b(d, "pinned") {
        out.kv(w, "Pinned", "yes");
    }
    if let Some(u) = s(d, "unlocked").filter(|u| u != "none") {
        out.kv_red(w, "Unlocked", &u);
    }
    if let Some(eol) = s(d, "endoflife") {
        out.kv_red(w, "EndOfLife", &eol);
    }
}

/// `Diff: N upgraded, ...`, or with `verbose` the changed packages.
fn diff_lines(out: &mut Out, width: usize, diff: &PkgDiff, verbose: bool) {
    if verbose {
        out.text.push_str(&diff.aligned(width));
    } else if !diff.is_empty() {
        out.kv(width, "Diff", &diff.summary());
    }
}

/// The `AvailableUpdate:` block of a cached update.
pub(crate) fn render_cached_update(update: &Dict, verbose: bool, color: bool) -> String {
    let mut out = Out {
        text: String::new(),
        color,
    };
    out.line("AvailableUpdate:");
    let layers: BTreeMap<String, Variant> = update
        .get("manifest-diff")
        .and_then(|v| v.get())
        .unwrap_or_default();
    // The layer keys are the longest: the block aligns on them when they come.
    let w = if layers.is_empty() {
        UPDATE_KEY_WIDTH
    } else {
        UPDATE_KEY_WIDTH.max("Removed layers".len())
    };
    if b(update, "ref-has-new-commit") || !update.contains_key("ref-has-new-commit") {
        version_line(&mut out, w, update);
        if let Some(c) = s(update, "checksum") {
            out.kv(w, "Commit", &c);
        }
        gpg_lines(&mut out, w, update, verbose);
    }
    if let Some(diff) = update.get("rpm-diff").and_then(PkgDiff::from_rpm_diff) {
        diff_lines(&mut out, w, &diff, verbose);
    }
    let n = |k: &str| layers.get(k).and_then(|v| v.get::<u64>()).unwrap_or(0);
    if !layers.is_empty() {
        for (key, count, size) in [
            ("Total layers", "total", "total-size"),
            ("Removed layers", "n-removed", "removed-size"),
            ("Added layers", "n-added", "added-size"),
        ] {
            out.kv(w, key, &n(count).to_string());
            out.kv(w, "Size", &glib::format_size(n(size)));
        }
    }
    out.text
}

/// The whole human status output.
pub(crate) fn render(input: &StatusInput) -> String {
    let mut out = Out {
        text: String::new(),
        color: input.color,
    };
    out.line(&format!(
        "State: {}",
        if input.busy { "busy" } else { "idle" }
    ));
    if let Some((name, unit, state)) = &input.driver {
        if input.verbose {
            out.line(&format!("AutomaticUpdatesDriver: {name} ({unit})"));
        } else {
            out.line(&format!("AutomaticUpdatesDriver: {name}"));
        }
        out.line(&format!("  DriverState: {state}"));
    } else if input.policy == "none" || input.policy.is_empty() {
        if input.verbose {
            out.line("AutomaticUpdates: disabled");
        }
    } else {
        out.line(&format!(
            "AutomaticUpdates: {}; {}",
            input.policy, input.timer_state
        ));
    }
    if let Some((title, initiator)) = &input.transaction {
        out.line(&format!("Transaction: {title}"));
        out.line(&format!("  Initiator: {initiator}"));
    }
    out.line(if input.booted_only {
        "BootedDeployment:"
    } else {
        "Deployments:"
    });
    let oses: std::collections::BTreeSet<String> = input
        .deployments
        .iter()
        .filter_map(|d| s(d, "osname"))
        .collect();
    let shown: Vec<(usize, &Dict)> = input
        .deployments
        .iter()
        .enumerate()
        .filter(|(_, d)| !input.booted_only || b(d, "booted"))
        .collect();
    for (n, (index, d)) in shown.iter().enumerate() {
        if n > 0 {
            out.line("");
        }
        deployment(&mut out, d, *index, input, oses.len() > 1);
    }
    if let Some(update) = &input.cached_update
        && !input.booted_only
        && input.policy != "none"
        && s(update, "checksum") != input.default_checksum
    {
        out.line("");
        out.text
            .push_str(&render_cached_update(update, input.verbose, input.color));
    }
    out.text
}

#[cfg(test)]
mod tests;
