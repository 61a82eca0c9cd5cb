//! Deploy-family calls (`Upgrade`, `Deploy`, `Rebase`, `UpdateDeployment`,
//! `AutomaticUpdateTrigger`) parsed into one typed request: the legacy methods
//! mapped onto `UpdateDeployment`'s modifiers and options, strict option checks
//! and conflicts, the polkit action set, the title, and the `Deploy` kind.

use glib::Variant;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use crate::authz::Needed;
use crate::config::UpdatePolicy;
use crate::error::BusError;
use crate::options::{self, OptionSpec, Options};
use crate::transaction::kinds::deploy::{Deploy, DeployFlags, LAYERING_UNSUPPORTED, Verb};

const DEPLOY_OPTIONS: &[OptionSpec] = &[
    OptionSpec::new("reboot", "b"),
    OptionSpec::new("allow-downgrade", "b"),
    OptionSpec::new("skip-purge", "b"),
    OptionSpec::new("skip-branch-check", "b"),
    OptionSpec::new("no-pull-base", "b"),
    OptionSpec::new("dry-run", "b"),
    OptionSpec::new("download-only", "b"),
    OptionSpec::new("cache-only", "b"),
    OptionSpec::new("no-layering", "b"),
    OptionSpec::new("no-overrides", "b"),
    OptionSpec::new("no-initramfs", "b"),
    OptionSpec::new("allow-inactive", "b"),
    OptionSpec::new("allow-inactive-requests", "b"),
    OptionSpec::new("idempotent-layering", "b"),
    OptionSpec::new("apply-live", "b"),
    OptionSpec::new("lock-finalization", "b"),
    OptionSpec::new("register-driver", "s"),
    OptionSpec::new("initiating-command-line", "s"),
    OptionSpec::new("custom-origin", "(ss)"),
    OptionSpec::new("ex-cliwrap", "b"),
    OptionSpec::new("output-to-self", "b"),
    OptionSpec::new("print-interactive", "b"),
    // Only meaningful for Rebase and AutomaticUpdateTrigger; checked there.
    OptionSpec::new("revision", "s"),
    OptionSpec::new("mode", "s"),
];

const MODIFIERS: &[OptionSpec] = &[
    OptionSpec::new("set-refspec", "s"),
    OptionSpec::new("set-revision", "s"),
    OptionSpec::new("install-packages", "as"),
    OptionSpec::new("uninstall-packages", "as"),
    OptionSpec::new("install-local-packages", "ah"),
    OptionSpec::new("install-fileoverride-local-packages", "ah"),
    OptionSpec::new("install-local-fileoverride-packages", "ah"),
    OptionSpec::new("install-fileoverride-packages", "as"),
    OptionSpec::new("override-remove-packages", "as"),
    OptionSpec::new("override-replace-packages", "as"),
    OptionSpec::new("override-replace-local-packages", "ah"),
    OptionSpec::new("override-reset-packages", "as"),
    OptionSpec::new("enable-modules", "as"),
    OptionSpec::new("disable-modules", "as"),
    OptionSpec::new("install-modules", "as"),
    OptionSpec::new("uninstall-modules", "as"),
    OptionSpec::new("ex-local-repo-remote", "h"),
    OptionSpec::new("treefile", "s"),
    OptionSpec::new("custom-origin", "(ss)"),
];

/// Modifiers that need package layering (phase 2): refused when non-empty.
const PACKAGE_MODIFIERS: &[&str] = &[
    "install-packages",
    "uninstall-packages",
    "install-local-packages",
    "install-fileoverride-local-packages",
    "install-local-fileoverride-packages",
    "override-remove-packages",
    "override-replace-local-packages",
    "override-reset-packages",
    "enable-modules",
    "disable-modules",
    "install-modules",
    "uninstall-modules",
];

/// A parsed deploy-family call.
#[derive(Debug, Clone)]
pub(crate) struct DeployCall {
    pub verb: Verb,
    pub modifiers: Options,
    pub options: Options,
    /// `AutomaticUpdateTrigger`'s `mode`, unresolved (`None` = `auto`).
    pub mode: Option<UpdatePolicy>,
}

fn with_entry(dict: &Options, key: &str, value: Variant) -> Options {
    let mut m: std::collections::BTreeMap<String, Variant> = std::collections::BTreeMap::new();
    for k in dict.keys() {
        if let Some(v) = dict.get(&k) {
            m.insert(k, v.clone());
        }
    }
    m.insert(key.to_string(), value);
    Options::from_map(m)
}

impl DeployCall {
    /// Parses the parameters of `method` (one of the deploy family).
    pub(crate) fn parse(method: &str, params: &Variant) -> Result<Self, BusError> {
        use glib::prelude::*;
        let opts = |i: usize| options::parse(&params.child_value(i), DEPLOY_OPTIONS, method);
        let none = Options::default();
        let (verb, modifiers, options) = match method {
            "Upgrade" => (Verb::Upgrade, none, opts(0)?),
            "Deploy" => {
                let revision: String = params.child_value(0).get().unwrap_or_default();
                let m = with_entry(&none, "set-revision", revision.to_variant());
                (Verb::Deploy, m, opts(1)?)
            }
            "Rebase" => {
                let o = opts(0)?;
                let refspec: String = params.child_value(1).get().unwrap_or_default();
                let mut m = with_entry(&none, "set-refspec", refspec.to_variant());
                if let Some(rev) = o.string("revision") {
                    m = with_entry(&m, "set-revision", rev.to_variant());
                }
                (Verb::Rebase, m, o)
            }
            "UpdateDeployment" => {
                let m = options::parse(&params.child_value(0), MODIFIERS, method)?;
                (Verb::UpdateDeployment, m, opts(1)?)
            }
            "AutomaticUpdateTrigger" => (Verb::AutomaticUpdate, none, opts(0)?),
            other => return Err(BusError::failed(format!("{other} is not a deploy method"))),
        };
        if options.contains("revision") && verb != Verb::Rebase {
            return Err(BusError::invalid_args(format!(
                "{method}: unknown option 'revision'"
            )));
        }
        let mode = match (verb, options.string("mode")) {
            (Verb::AutomaticUpdate, Some(m)) if m == "auto" => None,
            (Verb::AutomaticUpdate, Some(m)) => {
                Some(UpdatePolicy::parse(&m).map_err(|e| BusError::failed(e.to_string()))?)
            }
            (Verb::AutomaticUpdate, None) => None,
            (_, Some(_)) => {
                return Err(BusError::invalid_args(format!(
                    "{method}: unknown option 'mode'"
                )));
            }
            (_, None) => None,
        };
        Ok(Self {
            verb,
            modifiers,
            options,
            mode,
        })
    }

    fn has_modifier(&self, key: &str) -> bool {
        self.modifiers.contains(key)
    }

    /// The polkit actions this call needs (§6.3).
    pub(crate) fn needed(&self) -> Needed {
        let fixed = |a: &'static str| Needed::Actions(vec![a]);
        match self.verb {
            Verb::Upgrade | Verb::AutomaticUpdate => fixed("upgrade"),
            Verb::Deploy => fixed("deploy"),
            Verb::Rebase => fixed("rebase"),
            Verb::UpdateDeployment => {
                let m = &self.modifiers;
                let o = &self.options;
                let mut set = BTreeSet::new();
                if o.flag("no-initramfs") {
                    set.insert("bootconfig");
                }
                if m.contains("set-refspec") {
                    set.insert("rebase");
                } else if m.contains("set-revision") {
                    set.insert("deploy");
                } else if !o.flag("no-pull-base") {
                    set.insert("upgrade");
                }
                let pkg_keys = [
                    "install-packages",
                    "uninstall-packages",
                    "enable-modules",
                    "disable-modules",
                    "install-modules",
                    "uninstall-modules",
                ];
                if pkg_keys.iter().any(|k| m.contains(k)) || o.flag("no-layering") {
                    set.insert("install-uninstall-packages");
                }
                if [
                    "install-local-packages",
                    "install-local-fileoverride-packages",
                    "install-fileoverride-local-packages",
                ]
                .iter()
                .any(|k| m.array_len(k) > 0)
                {
                    set.insert("install-local-packages");
                }
                let override_keys = [
                    "override-replace-packages",
                    "override-remove-packages",
                    "override-reset-packages",
                ];
                if override_keys.iter().any(|k| m.contains(k))
                    || m.array_len("override-replace-local-packages") > 0
                    || o.flag("no-overrides")
                {
                    set.insert("override");
                }
                if set.is_empty() {
                    set.insert("override");
                }
                Needed::Actions(set.into_iter().collect())
            }
        }
    }

    /// The effective `allow-downgrade`: explicit option, else the method's default.
    fn allow_downgrade(&self) -> bool {
        self.options
            .boolean("allow-downgrade")
            .unwrap_or(match self.verb {
                Verb::Deploy | Verb::Rebase => true,
                Verb::UpdateDeployment => self.has_modifier("set-refspec"),
                _ => false,
            })
    }

    /// Checks conflicts and unsupported requests; builds the work.
    pub(crate) fn build(&self, osname: &str, env: &BuildEnv) -> Result<Deploy, BusError> {
        let o = &self.options;
        let m = &self.modifiers;
        let fail = |msg: &str| Err(BusError::failed(msg));
        for key in PACKAGE_MODIFIERS {
            if m.array_len(key) > 0 {
                return Err(BusError::failed(format!(
                    "{LAYERING_UNSUPPORTED} (modifier '{key}')"
                )));
            }
        }
        if m.array_len("install-fileoverride-packages") > 0 {
            return fail("Non-local fileoverrides not implemented");
        }
        if m.array_len("override-replace-packages") > 0 {
            return fail("Non-local replacement overrides not implemented yet");
        }
        for key in ["ex-local-repo-remote", "treefile"] {
            if m.contains(key) {
                return Err(BusError::failed(format!(
                    "{LAYERING_UNSUPPORTED} (modifier '{key}')"
                )));
            }
        }
        let refspec = m.string("set-refspec");
        if let Some(r) = &refspec {
            check_refspec(r)?;
        }
        let revision = m.string("set-revision");
        if o.flag("skip-purge") && refspec.is_none() {
            return fail("Can't specify skip-purge if not setting a new refspec");
        }
        let real_revision = revision.as_deref().is_some_and(|r| !r.is_empty());
        if o.flag("no-pull-base") && (refspec.is_some() || real_revision) {
            return fail("Can't specify no-pull-base if setting a new refspec or revision");
        }
        if o.flag("dry-run") && o.flag("download-only") {
            return fail("Can't specify dry-run and download-only");
        }
        if o.flag("cache-only") && o.flag("download-only") {
            return fail("Can't specify cache-only and download-only");
        }
        if o.flag("no-overrides") && PACKAGE_MODIFIERS[5..8].iter().any(|k| m.contains(k)) {
            return fail("Can't specify no-overrides if setting override modifiers");
        }
        if o.flag("apply-live") && o.flag("reboot") {
            return fail("Cannot specify `apply-live` and `reboot`");
        }
        if o.flag("apply-live") {
            return fail("apply-live is not supported yet by this rpm-ostree daemon");
        }
        if o.contains("ex-cliwrap") {
            return fail("cliwrap is not supported yet by this rpm-ostree daemon");
        }
        let custom_origin = m
            .get("custom-origin")
            .or_else(|| o.get("custom-origin"))
            .and_then(glib::prelude::FromVariant::from_variant)
            .map(|(u, d): (String, String)| (u, d));
        if let Some((_, desc)) = &custom_origin
            && desc.is_empty()
        {
            return fail("Invalid custom-origin");
        }
        let check_only = self.verb == Verb::AutomaticUpdate && env.policy == UpdatePolicy::Check;
        let flags = DeployFlags {
            allow_downgrade: self.allow_downgrade(),
            skip_purge: o.flag("skip-purge"),
            skip_branch_check: o.flag("skip-branch-check"),
            no_pull_base: o.flag("no-pull-base"),
            dry_run: o.flag("dry-run"),
            download_only: o.flag("download-only"),
            cache_only: o.flag("cache-only"),
            lock_finalization: o.flag("lock-finalization"),
            check_only,
            reboot: o.flag("reboot")
                || (self.verb == Verb::AutomaticUpdate && env.policy == UpdatePolicy::Apply),
            no_initramfs: o.flag("no-initramfs"),
            output_to_self: o
                .boolean("output-to-self")
                .unwrap_or(self.verb == Verb::AutomaticUpdate),
        };
        let register_driver = o
            .string("register-driver")
            .map(|name| (name, env.caller_unit.clone()));
        let mut deploy = Deploy {
            osname: osname.to_string(),
            verb: self.verb,
            refspec,
            revision,
            flags,
            custom_origin,
            register_driver,
            runtime_dir: env.runtime_dir.clone(),
            title: String::new(),
            command_line: o.string("initiating-command-line"),
            agent: env.agent.clone(),
            agent_unit: env.caller_unit.clone(),
            stall_timeout: env.stall_timeout,
        };
        deploy.title = title(&deploy);
        Ok(deploy)
    }
}

/// Refuses malformed rebase targets at call time (`InvalidRefspec`).
fn check_refspec(r: &str) -> Result<(), BusError> {
    use crate::deployment::refspec::{Refspec, is_checksum};
    let r = r.strip_prefix("ostree://").unwrap_or(r);
    if r.is_empty() {
        return Err(BusError::invalid_refspec("Refspec is empty"));
    }
    if is_checksum(r) || matches!(Refspec::parse(r), Refspec::Container(_)) {
        return Ok(());
    }
    // `remote:` (switch remote) and `:ref` (local ref) are partial forms.
    let full = match (r.strip_suffix(':'), r.strip_prefix(':')) {
        (Some(remote), _) => format!("{remote}:placeholder"),
        (_, Some(branch)) => branch.to_string(),
        _ => r.to_string(),
    };
    ostree::parse_refspec(&full)
        .map(|_| ())
        .map_err(|e| BusError::invalid_refspec(e.message()))
}

/// What building a deploy request needs from the daemon.
#[derive(Debug, Clone)]
pub(crate) struct BuildEnv {
    pub runtime_dir: PathBuf,
    pub stall_timeout: Duration,
    /// The effective policy (AutomaticUpdateTrigger only).
    pub policy: UpdatePolicy,
    pub agent: Option<String>,
    pub caller_unit: Option<String>,
}

/// The title shown while the transaction runs (§5.1).
pub(crate) fn title(d: &Deploy) -> String {
    if let Some(cmd) = &d.command_line {
        if cmd.contains("--trigger-automatic-update-policy") {
            let mode = if d.flags.check_only { "check" } else { "stage" };
            return format!("automatic ({mode})");
        }
        return cmd.clone();
    }
    let mut t = if d.refspec.is_some() {
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
    t
}

#[cfg(test)]
mod tests;
