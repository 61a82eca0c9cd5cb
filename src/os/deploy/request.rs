//! Deploy-family calls (`Upgrade`, `Deploy`, `Rebase`, `UpdateDeployment`,
//! `AutomaticUpdateTrigger`) parsed into one typed request: the legacy methods
//! mapped onto `UpdateDeployment`'s modifiers and options, strict option checks
//! and conflicts, the polkit action set, the title, and the `Deploy` kind.

use glib::Variant;
use std::collections::BTreeSet;
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::time::Duration;

use crate::authz::Needed;
use crate::config::UpdatePolicy;
use crate::error::BusError;
use crate::layering::request::{PackageChanges, treefile_replacements};
use crate::options::{self, OptionSpec, Options};
use crate::transaction::kinds::deploy::{Deploy, DeployFlags, LOCAL_UNSUPPORTED, Verb};
use crate::transaction::kinds::local::LocalFiles;
use std::sync::Arc;

#[cfg(test)]
mod tests;
mod title;

use title::title;

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

const MODULE_KEYS: [&str; 4] = [
    "enable-modules",
    "disable-modules",
    "install-modules",
    "uninstall-modules",
];

/// `UpdateDeployment`'s modifiers. A list that is present but empty still
/// counts for the polkit actions (upstream looks at presence there).
#[derive(Debug, Default)]
pub(crate) struct Modifiers {
    pub set_refspec: Option<String>,
    pub set_revision: Option<String>,
    pub install_packages: Option<Vec<String>>,
    pub uninstall_packages: Option<Vec<String>>,
    pub install_local_packages: Option<Vec<OwnedFd>>,
    /// `install-fileoverride-local-packages` (or its other spelling).
    pub install_fileoverride_local_packages: Option<Vec<OwnedFd>>,
    pub install_fileoverride_packages: Option<Vec<String>>,
    pub override_remove_packages: Option<Vec<String>>,
    pub override_replace_packages: Option<Vec<String>>,
    pub override_replace_local_packages: Option<Vec<OwnedFd>>,
    pub override_reset_packages: Option<Vec<String>>,
    /// `enable-modules`, `disable-modules`, `install-modules`, `uninstall-modules`.
    pub modules: Vec<(&'static str, Vec<String>)>,
    pub ex_local_repo_remote: Option<OwnedFd>,
    pub treefile: Option<String>,
    pub custom_origin: Option<(String, String)>,
}

fn merge<T>(a: Option<Vec<T>>, b: Option<Vec<T>>) -> Option<Vec<T>> {
    match (a, b) {
        (Some(mut a), Some(b)) => {
            a.extend(b);
            Some(a)
        }
        (a, b) => a.or(b),
    }
}

fn non_empty<T>(v: &Option<Vec<T>>) -> bool {
    v.as_ref().is_some_and(|v| !v.is_empty())
}

impl Modifiers {
    fn from_options(mut m: Options) -> Self {
        let modules = MODULE_KEYS
            .iter()
            .filter_map(|k| m.strv(k).map(|v| (*k, v)))
            .collect();
        Self {
            set_refspec: m.string("set-refspec"),
            set_revision: m.string("set-revision"),
            install_packages: m.strv("install-packages"),
            uninstall_packages: m.strv("uninstall-packages"),
            install_local_packages: m.take_fds("install-local-packages"),
            install_fileoverride_local_packages: merge(
                m.take_fds("install-fileoverride-local-packages"),
                m.take_fds("install-local-fileoverride-packages"),
            ),
            install_fileoverride_packages: m.strv("install-fileoverride-packages"),
            override_remove_packages: m.strv("override-remove-packages"),
            override_replace_packages: m.strv("override-replace-packages"),
            override_replace_local_packages: m.take_fds("override-replace-local-packages"),
            override_reset_packages: m.strv("override-reset-packages"),
            modules,
            ex_local_repo_remote: m
                .take_fds("ex-local-repo-remote")
                .and_then(|v| v.into_iter().next()),
            treefile: m.string("treefile"),
            custom_origin: m.string_pair("custom-origin"),
        }
    }

    /// Any override modifier (what `no-overrides` conflicts with).
    fn has_override_modifier(&self) -> bool {
        self.override_remove_packages.is_some()
            || self.override_replace_local_packages.is_some()
            || self.override_reset_packages.is_some()
            || self.treefile.is_some()
    }

    /// The first modifier asking for what is not supported yet (local
    /// packages that may replace files), by its key.
    fn unsupported_request(&self) -> Option<&'static str> {
        non_empty(&self.install_fileoverride_local_packages)
            .then_some("install-fileoverride-local-packages")
    }

    /// The local RPMs of the call, as files (the descriptors duplicated).
    fn local_files(&self) -> Result<LocalFiles, BusError> {
        let files = |fds: &Option<Vec<OwnedFd>>| -> Result<Vec<std::fs::File>, BusError> {
            fds.iter()
                .flatten()
                .map(|fd| {
                    fd.try_clone().map(std::fs::File::from).map_err(|e| {
                        BusError::failed(format!("Duplicating a package descriptor: {e}"))
                    })
                })
                .collect()
        };
        Ok(LocalFiles {
            install: Arc::new(files(&self.install_local_packages)?),
            replace: Arc::new(files(&self.override_replace_local_packages)?),
        })
    }

    /// The modifier of a local assembly from a local repository.
    fn assembly_request(&self) -> Option<&'static str> {
        self.ex_local_repo_remote
            .is_some()
            .then_some("ex-local-repo-remote")
    }
}

/// The options of the deploy family.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DeployOptions {
    pub reboot: bool,
    pub allow_downgrade: Option<bool>,
    pub skip_purge: bool,
    pub skip_branch_check: bool,
    pub no_pull_base: bool,
    pub dry_run: bool,
    pub download_only: bool,
    pub cache_only: bool,
    pub no_layering: bool,
    pub no_overrides: bool,
    pub no_initramfs: bool,
    pub allow_inactive: bool,
    pub idempotent_layering: bool,
    pub apply_live: bool,
    pub lock_finalization: bool,
    pub register_driver: Option<String>,
    pub initiating_command_line: Option<String>,
    pub custom_origin: Option<(String, String)>,
    /// Present at all (`ex-cliwrap` is refused whatever its value).
    pub ex_cliwrap: bool,
    pub output_to_self: Option<bool>,
    pub revision: Option<String>,
    pub mode: Option<String>,
}

impl DeployOptions {
    fn from_options(o: &Options) -> Self {
        Self {
            reboot: o.flag("reboot"),
            allow_downgrade: o.boolean("allow-downgrade"),
            skip_purge: o.flag("skip-purge"),
            skip_branch_check: o.flag("skip-branch-check"),
            no_pull_base: o.flag("no-pull-base"),
            dry_run: o.flag("dry-run"),
            download_only: o.flag("download-only"),
            cache_only: o.flag("cache-only"),
            no_layering: o.flag("no-layering"),
            no_overrides: o.flag("no-overrides"),
            no_initramfs: o.flag("no-initramfs"),
            allow_inactive: o.flag("allow-inactive") || o.flag("allow-inactive-requests"),
            idempotent_layering: o.flag("idempotent-layering"),
            apply_live: o.flag("apply-live"),
            lock_finalization: o.flag("lock-finalization"),
            register_driver: o.string("register-driver"),
            initiating_command_line: o.string("initiating-command-line"),
            custom_origin: o.string_pair("custom-origin"),
            ex_cliwrap: o.contains("ex-cliwrap"),
            output_to_self: o.boolean("output-to-self"),
            revision: o.string("revision"),
            mode: o.string("mode"),
        }
    }
}

/// A parsed deploy-family call.
#[derive(Debug)]
pub(crate) struct DeployCall {
    pub verb: Verb,
    pub modifiers: Modifiers,
    pub options: DeployOptions,
    /// `AutomaticUpdateTrigger`'s `mode`, unresolved (`None` = `auto`).
    pub mode: Option<UpdatePolicy>,
    /// `PkgChange`: authorized as such, whatever its options.
    pub pkg_change: bool,
}

impl DeployCall {
    /// Parses the parameters of `method` (one of the deploy family); `fds`
    /// is the message's descriptor list (local packages).
    pub(crate) fn parse(method: &str, params: &Variant, fds: &[OwnedFd]) -> Result<Self, BusError> {
        let opts = |i: usize| {
            options::parse(&params.child_value(i), DEPLOY_OPTIONS, method)
                .map(|o| DeployOptions::from_options(&o))
        };
        let none = Modifiers::default;
        let (verb, modifiers, options) = match method {
            "Upgrade" => (Verb::Upgrade, none(), opts(0)?),
            "Deploy" => {
                let revision: String = params.child_value(0).get().unwrap_or_default();
                let m = Modifiers {
                    set_revision: Some(revision),
                    ..none()
                };
                (Verb::Deploy, m, opts(1)?)
            }
            "Rebase" => {
                let o = opts(0)?;
                let refspec: String = params.child_value(1).get().unwrap_or_default();
                let m = Modifiers {
                    set_refspec: Some(refspec),
                    set_revision: o.revision.clone(),
                    ..none()
                };
                (Verb::Rebase, m, o)
            }
            "UpdateDeployment" => {
                let m = options::parse_with_fds(&params.child_value(0), MODIFIERS, method, fds)?;
                (Verb::UpdateDeployment, Modifiers::from_options(m), opts(1)?)
            }
            "AutomaticUpdateTrigger" => (Verb::AutomaticUpdate, none(), opts(0)?),
            "PkgChange" => {
                let mut o = opts(0)?;
                let list =
                    |i: usize| -> Vec<String> { params.child_value(i).get().unwrap_or_default() };
                let m = Modifiers {
                    install_packages: Some(list(1)),
                    uninstall_packages: Some(list(2)),
                    ..none()
                };
                // PkgChange does not pull the base unless asked to.
                let explicit = options::parse(&params.child_value(0), DEPLOY_OPTIONS, method)?
                    .boolean("no-pull-base");
                o.no_pull_base = explicit.unwrap_or(true);
                (Verb::UpdateDeployment, m, o)
            }
            other => return Err(BusError::failed(format!("{other} is not a deploy method"))),
        };
        if options.revision.is_some() && verb != Verb::Rebase {
            return Err(BusError::invalid_args(format!(
                "{method}: unknown option 'revision'"
            )));
        }
        let mode = match (verb, options.mode.as_deref()) {
            (Verb::AutomaticUpdate, Some("auto")) | (Verb::AutomaticUpdate, None) => None,
            (Verb::AutomaticUpdate, Some(m)) => {
                Some(UpdatePolicy::parse(m).map_err(|e| BusError::failed(e.to_string()))?)
            }
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
            pkg_change: method == "PkgChange",
        })
    }

    /// The polkit actions this call needs (§6.3).
    pub(crate) fn needed(&self) -> Needed {
        let fixed = |a: &'static str| Needed::Actions(vec![a]);
        if self.pkg_change {
            return fixed("install-uninstall-packages");
        }
        match self.verb {
            Verb::Upgrade | Verb::AutomaticUpdate => fixed("upgrade"),
            Verb::Deploy => fixed("deploy"),
            Verb::Rebase => fixed("rebase"),
            Verb::UpdateDeployment => {
                let m = &self.modifiers;
                let o = &self.options;
                let mut set = BTreeSet::new();
                if o.no_initramfs {
                    set.insert("bootconfig");
                }
                if m.set_refspec.is_some() {
                    set.insert("rebase");
                } else if m.set_revision.is_some() {
                    set.insert("deploy");
                } else if !o.no_pull_base {
                    set.insert("upgrade");
                }
                if m.install_packages.is_some()
                    || m.uninstall_packages.is_some()
                    || !m.modules.is_empty()
                    || o.no_layering
                {
                    set.insert("install-uninstall-packages");
                }
                if non_empty(&m.install_local_packages)
                    || non_empty(&m.install_fileoverride_local_packages)
                {
                    set.insert("install-local-packages");
                }
                if m.override_replace_packages.is_some()
                    || m.treefile.is_some()
                    || m.override_remove_packages.is_some()
                    || m.override_reset_packages.is_some()
                    || non_empty(&m.override_replace_local_packages)
                    || o.no_overrides
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
        self.options.allow_downgrade.unwrap_or(match self.verb {
            Verb::Deploy | Verb::Rebase => true,
            Verb::UpdateDeployment => self.modifiers.set_refspec.is_some(),
            _ => false,
        })
    }

    /// Checks conflicts and unsupported requests; builds the work.
    pub(crate) fn build(&self, osname: &str, env: &BuildEnv) -> Result<Deploy, BusError> {
        let o = &self.options;
        let m = &self.modifiers;
        let fail = |msg: &str| Err(BusError::failed(msg));
        if let Some(key) = m.unsupported_request() {
            return Err(BusError::failed(format!(
                "{LOCAL_UNSUPPORTED} (modifier '{key}')"
            )));
        }
        if non_empty(&m.install_fileoverride_packages) {
            return fail("Non-local fileoverrides not implemented");
        }
        if non_empty(&m.override_replace_packages) {
            return fail("Non-local replacement overrides not implemented yet");
        }
        if let Some(key) = m.assembly_request() {
            return Err(BusError::failed(format!(
                "Local assembly from a local repository is not supported yet by \
                 this rpm-ostree daemon (modifier '{key}')"
            )));
        }
        let refspec = m.set_refspec.clone();
        if let Some(r) = &refspec {
            check_refspec(r)?;
        }
        let revision = m.set_revision.clone();
        if let Some(r) = &revision {
            crate::validate::size("Revision", r, crate::validate::MAX_ARG)
                .map_err(BusError::invalid_args)?;
        }
        if o.skip_purge && refspec.is_none() {
            return fail("Can't specify skip-purge if not setting a new refspec");
        }
        let real_revision = revision.as_deref().is_some_and(|r| !r.is_empty());
        if o.no_pull_base && (refspec.is_some() || real_revision) {
            return fail("Can't specify no-pull-base if setting a new refspec or revision");
        }
        if o.dry_run && o.download_only {
            return fail("Can't specify dry-run and download-only");
        }
        if o.cache_only && o.download_only {
            return fail("Can't specify cache-only and download-only");
        }
        if o.no_overrides && m.has_override_modifier() {
            return fail("Can't specify no-overrides if setting override modifiers");
        }
        if o.apply_live && o.reboot {
            return fail("Cannot specify `apply-live` and `reboot`");
        }
        if o.apply_live {
            return fail("apply-live is not supported yet by this rpm-ostree daemon");
        }
        if o.ex_cliwrap {
            return fail("cliwrap is not supported yet by this rpm-ostree daemon");
        }
        let custom_origin = m.custom_origin.clone().or_else(|| o.custom_origin.clone());
        if let Some((_, desc)) = &custom_origin
            && desc.is_empty()
        {
            return fail("Invalid custom-origin");
        }
        let check_only = self.verb == Verb::AutomaticUpdate && env.policy == UpdatePolicy::Check;
        let flags = DeployFlags {
            allow_downgrade: self.allow_downgrade(),
            skip_purge: o.skip_purge,
            skip_branch_check: o.skip_branch_check,
            no_pull_base: o.no_pull_base,
            dry_run: o.dry_run,
            download_only: o.download_only,
            cache_only: o.cache_only,
            lock_finalization: o.lock_finalization,
            check_only,
            diff_only: false,
            reboot: o.reboot
                || (self.verb == Verb::AutomaticUpdate && env.policy == UpdatePolicy::Apply),
            no_initramfs: o.no_initramfs,
            output_to_self: o
                .output_to_self
                .unwrap_or(self.verb == Verb::AutomaticUpdate),
        };
        let register_driver = o
            .register_driver
            .clone()
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
            command_line: o.initiating_command_line.clone(),
            agent: env.agent.clone(),
            agent_unit: env.caller_unit.clone(),
            stall_timeout: env.stall_timeout,
            packages: PackageChanges {
                install: m.install_packages.clone().unwrap_or_default(),
                uninstall: m.uninstall_packages.clone().unwrap_or_default(),
                no_layering: o.no_layering,
                idempotent: o.idempotent_layering,
                allow_inactive: o.allow_inactive,
                override_remove: m.override_remove_packages.clone().unwrap_or_default(),
                override_reset: m.override_reset_packages.clone().unwrap_or_default(),
                no_overrides: o.no_overrides,
                replace_remote: match &m.treefile {
                    Some(t) => {
                        treefile_replacements(t).map_err(|e| BusError::failed(e.to_string()))?
                    }
                    None => Vec::new(),
                },
                ..Default::default()
            },
            lock_layering: env.lock_layering,
            insecure_loopback_registries: env.insecure_loopback_registries,
            local: m.local_files()?,
        };
        deploy.title = title(&deploy);
        Ok(deploy)
    }
}

/// Refuses malformed rebase targets at call time (`InvalidRefspec`).
fn check_refspec(r: &str) -> Result<(), BusError> {
    use crate::deployment::refspec::{Refspec, is_checksum};
    crate::validate::size("Refspec", r, crate::validate::MAX_ARG)
        .map_err(BusError::invalid_args)?;
    let r = r.strip_prefix("ostree://").unwrap_or(r);
    if r.is_empty() {
        return Err(BusError::invalid_refspec("Refspec is empty"));
    }
    if matches!(Refspec::parse(r), Refspec::Container(_)) {
        return crate::deployment::imgref::ImageRef::parse(r)
            .map(|_| ())
            .map_err(|e| BusError::invalid_refspec(e.to_string()));
    }
    if is_checksum(r) {
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
    /// `LockLayering=true` in the configuration.
    pub lock_layering: bool,
    /// Test registries on the loopback over plain HTTP (a test hook).
    pub insecure_loopback_registries: bool,
}
