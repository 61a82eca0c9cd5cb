//! The title of a deploy-family transaction while it runs (§5.1): the
//! caller's command line, else what the call changes.

use crate::transaction::kinds::deploy::Deploy;

/// The title shown while the transaction runs (§5.1).
pub(super) fn title(d: &Deploy) -> String {
    if let Some(cmd) = &d.command_line {
        if cmd.contains("--trigger-automatic-update-policy") {
            let mode = if d.flags.check_only { "check" } else { "stage" };
            return format!("automatic ({mode})");
        }
        return cmd.clone();
    }
    let p = &d.packages;
    let overrides = !p.override_remove.is_empty()
        || !p.override_reset.is_empty()
        || !p.replace_remote.is_empty()
        || !d.local.replace.is_empty()
        || p.no_overrides;
    let mut t = if d.flags.no_pull_base && (!p.install.is_empty() || !d.local.install.is_empty()) {
        "install"
    } else if d.flags.no_pull_base && (!p.uninstall.is_empty() || p.no_layering) {
        "uninstall"
    } else if d.flags.no_pull_base && overrides {
        "override"
    } else if d.refspec.is_some() {
        "rebase"
    } else if d.revision.is_some() {
        "deploy"
    } else {
        "upgrade"
    }
    .to_string();
    if d.flags.cache_only {
        t.push_str(" (cache only)");
    } else if d.flags.check_only {
        t.push_str(" (check only)");
    } else if d.flags.download_only {
        t.push_str(" (download only)");
    }
    if !p.uninstall.is_empty() {
        t.push_str(&format!("; uninstall: {}", p.uninstall.len()));
    }
    if !p.install.is_empty() {
        t.push_str(&format!("; install: {}", p.install.len()));
    }
    if !d.local.install.is_empty() {
        t.push_str(&format!("; localinstall: {}", d.local.install.len()));
    }
    t
}
