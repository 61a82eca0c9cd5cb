//! The deploy family (`Upgrade`, `Deploy`, `Rebase`, `UpdateDeployment`,
//! `AutomaticUpdateTrigger`): resolve the target commit, pull it with progress,
//! check it, and stage the new deployment (booted) or write it (offline).

use anyhow::{Context, Result, anyhow, bail};
use std::path::PathBuf;
use std::time::Duration;

use super::layer::{self, LayerFlags, Layered};
use super::{Ctx, Outcome};
use crate::deployment::cleanup;
use crate::deployment::imgref::ImageRef;
use crate::deployment::journal;
use crate::deployment::origin::Origin;
use crate::deployment::pull::{PullSpec, pull};
use crate::deployment::refspec::Refspec;
use crate::deployment::revision::{Revision, check_on_branch, resolve_rebase, resolve_version};
use crate::deployment::status::base_of;
use crate::deployment::write::{self, NewDeployment, merge_and_origin};
use crate::layering::pkgcache;
use crate::layering::pkglist::PKGLIST_KEY;
use crate::layering::request::PackageChanges;
use crate::layering::rpmmd::Setup;
use crate::state_files as driver;
use std::collections::BTreeSet;

mod cached;
mod image;

/// Which call asked for the deployment (decides defaults and messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verb {
    Upgrade,
    Deploy,
    Rebase,
    UpdateDeployment,
    AutomaticUpdate,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DeployFlags {
    pub allow_downgrade: bool,
    pub skip_purge: bool,
    pub skip_branch_check: bool,
    pub no_pull_base: bool,
    pub dry_run: bool,
    pub download_only: bool,
    pub cache_only: bool,
    pub lock_finalization: bool,
    /// Pull commit metadata only and record the cached update (`check` policy).
    pub check_only: bool,
    /// Pull what a package diff needs (the commit, and its rpm database when
    /// the commit has no package list), nothing more (`Download*RpmDiff`).
    pub diff_only: bool,
    pub reboot: bool,
    pub no_initramfs: bool,
    pub output_to_self: bool,
}

/// A deploy-family transaction, fully validated on the main thread.
#[derive(Debug, Clone)]
pub(crate) struct Deploy {
    pub osname: String,
    pub verb: Verb,
    /// `set-refspec`: the rebase target.
    pub refspec: Option<String>,
    /// `set-revision`: the version or checksum to deploy.
    pub revision: Option<String>,
    pub flags: DeployFlags,
    pub custom_origin: Option<(String, String)>,
    /// `register-driver`: name, and the caller's systemd unit if known.
    pub register_driver: Option<(String, Option<String>)>,
    pub runtime_dir: PathBuf,
    pub title: String,
    pub command_line: Option<String>,
    pub agent: Option<String>,
    pub agent_unit: Option<String>,
    pub stall_timeout: Duration,
    /// `install-packages`, `uninstall-packages` and their options.
    pub packages: PackageChanges,
    /// `LockLayering=true` in the configuration.
    pub lock_layering: bool,
    /// Local RPMs to layer or to replace base packages with.
    pub local: super::local::LocalFiles,
    /// Test registries on the loopback over plain HTTP (a test hook).
    pub insecure_loopback_registries: bool,
}

/// What the deployment will be.
struct Plan {
    refspec: String,
    /// The base commit.
    csum: String,
    origin: Origin,
    changed: bool,
    old_ref_to_purge: Option<String>,
    /// Packages this call newly requests.
    new_requests: BTreeSet<String>,
}

/// Where a tree's rpm database is (what a package diff pulls of a commit).
const RPMDB_SUBDIR: &str = "/usr/share/rpm";

/// The package type of base packages in a cached update's `rpm-diff`.
const PKG_TYPE_BASE: u32 = 0;

/// True if the commit's metadata lists its packages.
fn has_pkglist(repo: &ostree::Repo, csum: &str) -> bool {
    repo.load_commit(csum)
        .map(|(c, _)| glib::VariantDict::new(Some(&c.child_value(0))).contains(PKGLIST_KEY))
        .unwrap_or(false)
}

/// What this daemon does not layer yet.
pub(crate) const LOCAL_UNSUPPORTED: &str = "Local packages that may replace the files of \
     others (install --force-replacefiles) are not supported yet by this rpm-ostree daemon";

const LOCK_LAYERING: &str = "Cannot operate; `LockLayering=true` in configuration.";

impl super::Kind for Deploy {
    fn reboots(&self) -> bool {
        self.flags.reboot
    }

    fn execution_title(&self) -> Option<String> {
        Some(self.title.clone())
    }

    fn output_to_self(&self) -> bool {
        self.flags.output_to_self
    }

    fn execute(&self, ctx: &Ctx) -> Result<Outcome> {
        let sysroot = &ctx.sysroot;
        let (merge, origin) = merge_and_origin(ctx, &self.osname)?;
        if let Some((name, unit)) = &self.register_driver {
            driver::register(&self.runtime_dir, name, unit.as_deref())?;
            if self.revision.as_deref() == Some("") {
                ctx.progress
                    .message("Empty string revision found; registering update driver only");
                return Ok(Outcome::default());
            }
        }
        let (packages, imported) = super::local::import(ctx, &self.local, &merge, &self.packages)?;
        let this = Deploy {
            packages,
            local: Default::default(),
            ..self.clone()
        };
        let done = this.deploy(ctx, &merge, &origin);
        if done.is_err() {
            crate::layering::local::undo(&sysroot.repo(), &imported);
        }
        done
    }
}

impl Deploy {
    /// The deployment of the call (local packages imported already).
    fn deploy(&self, ctx: &Ctx, merge: &ostree::Deployment, origin: &Origin) -> Result<Outcome> {
        let sysroot = &ctx.sysroot;
        if let Some(imgref) = origin.container_image_reference.as_deref()
            && self.metadata_only()
            && self.refspec.is_none()
        {
            return self.check_image(ctx, imgref);
        }
        let plan = self.plan(ctx, origin, merge)?;
        // What this daemon cannot layer yet stays refused, unless the call
        // drops it (`reset`, `override reset --all`).
        if !plan.origin.requested_local_fileoverride_packages.is_empty() {
            bail!("{LOCAL_UNSUPPORTED}; the deployment has such packages");
        }
        let layering = plan.origin.needs_local_assembly();
        if layering && self.lock_layering {
            bail!(LOCK_LAYERING);
        }
        let repo = sysroot.repo();
        if self.flags.check_only {
            let diff = self.start_update_diff(ctx, &plan);
            return self
                .record_cached_update(ctx, &plan, diff, None)
                .map(|_| Outcome::default());
        }
        if self.flags.diff_only {
            if !plan.changed {
                ctx.progress.message(self.no_change_text());
            }
            if self.is_vanilla_upgrade() {
                let diff = self.start_update_diff(ctx, &plan);
                self.record_cached_update(ctx, &plan, diff, None)?;
            }
            return Ok(Outcome::default());
        }
        if self.flags.download_only && !layering {
            ctx.progress.message(if plan.changed {
                "Update downloaded."
            } else {
                "No changes."
            });
            return Ok(Outcome::default());
        }
        if !plan.changed && !layering {
            ctx.progress.message(self.no_change_text());
            return Ok(Outcome::default());
        }
        let merge_base = base_of(&repo, &merge.csum());
        if !self.flags.allow_downgrade && plan.csum != merge_base {
            ostree::SysrootUpgrader::check_timestamps(&repo, &merge_base, &plan.csum).map_err(
                |e| {
                    anyhow!(
                        "While checking against deployment timestamp: {}",
                        e.message()
                    )
                },
            )?;
        }
        if self.flags.dry_run && !layering {
            return Ok(Outcome::default());
        }
        ctx.check_cancelled()?;
        let commit = match layering
            .then(|| self.layer(ctx, &plan, merge))
            .transpose()?
        {
            None => plan.csum.clone(),
            Some(Layered::Commit(c)) => c,
            Some(Layered::Stopped) => {
                if self.flags.download_only {
                    ctx.progress.message("Update downloaded.");
                }
                return Ok(Outcome::default());
            }
            // Same base, same layer: only the origin can differ.
            Some(Layered::Unchanged) if plan.changed => merge.csum().to_string(),
            Some(Layered::Unchanged) => {
                ctx.progress.message(self.no_change_text());
                return Ok(Outcome::default());
            }
        };
        // The cleanup helper starts, and the update's package diff is
        // computed, while the deployment is written.
        let cleanup = cleanup::Cleanup::start(&ctx.cancellable)?;
        let diff = self
            .is_vanilla_upgrade()
            .then(|| self.start_update_diff(ctx, &plan))
            .flatten();
        let new = write::write(
            ctx,
            &NewDeployment {
                osname: &self.osname,
                commit: &commit,
                origin: &plan.origin,
                merge,
                kargs: None,
                lock_finalization: self.flags.lock_finalization,
            },
        )?;
        if let Some(old) = &plan.old_ref_to_purge {
            let (remote, branch) = split_ref(old);
            repo.set_ref_immediate(remote.as_deref(), &branch, None, Some(&ctx.cancellable))
                .with_context(|| format!("Removing ref {old}"))?;
        }
        ctx.progress.task_begin("Pruning repository");
        let now = crate::deployment::load_sysroot(&ctx.sysroot_path)?;
        let branches = pkgcache::gc(&now)?;
        crate::container::prune_unused(&now, &ctx.sysroot_path, false, &ctx.cancellable)?;
        let pruned = cleanup.run(&ctx.sysroot_path)?;
        ctx.progress.task_end("done");
        if let Some(msg) = cleanup::freed_message(&pruned, branches) {
            ctx.progress.message(&msg);
        }
        journal::new_deployment(
            ctx,
            &new,
            &plan.csum,
            &plan.refspec,
            &journal::Initiator {
                command_line: self.command_line.as_deref(),
                agent: self.agent.as_deref(),
                agent_unit: self.agent_unit.as_deref(),
            },
        );
        if self.is_vanilla_upgrade() {
            self.record_cached_update(ctx, &plan, diff, Some(&new))?;
        }
        Ok(Outcome {
            reboot: self.flags.reboot,
        })
    }
}

fn split_ref(refspec: &str) -> (Option<String>, String) {
    match Refspec::parse(refspec) {
        Refspec::Ref { remote, branch } => (remote, branch),
        other => (None, other.to_string()),
    }
}

impl Deploy {
    fn is_vanilla_upgrade(&self) -> bool {
        matches!(self.verb, Verb::Upgrade | Verb::AutomaticUpdate)
            && self.refspec.is_none()
            && self.revision.is_none()
    }

    fn may_pull(&self) -> bool {
        !self.flags.no_pull_base && !self.flags.cache_only
    }

    /// Only commit objects are pulled (update checks, package diffs).
    fn metadata_only(&self) -> bool {
        self.flags.check_only || self.flags.diff_only
    }

    /// A package diff of a commit pulled without its tree needs the tree's
    /// rpm database, unless the commit lists its packages.
    fn pull_rpmdb(&self, ctx: &Ctx, remote: &str, branch: &str, csum: &str) -> Result<()> {
        let repo = ctx.sysroot.repo();
        if has_pkglist(&repo, csum) {
            return Ok(());
        }
        let spec = PullSpec {
            repo: ctx.sysroot_path.join("ostree/repo"),
            remote: remote.to_string(),
            branch: branch.to_string(),
            commit: Some(csum.to_string()),
            subdirs: vec![RPMDB_SUBDIR.to_string()],
            ..Default::default()
        };
        pull(&spec, &ctx.progress, &ctx.cancellable, self.stall_timeout)
    }

    /// Resolves the target commit and the new origin, pulling what is needed.
    fn plan(&self, ctx: &Ctx, origin: &Origin, merge: &ostree::Deployment) -> Result<Plan> {
        let repo = ctx.sysroot.repo();
        let current = origin
            .refspec
            .clone()
            .or_else(|| origin.container_image_reference.clone())
            .ok_or_else(|| anyhow!("The origin of {} has no refspec", merge.csum()))?;
        let mut new_origin = origin.clone();
        let (mut refspec, rebased) = match &self.refspec {
            Some(target) => {
                let mut t = resolve_rebase(&current, target)?;
                if t.remote_only {
                    ctx.progress.message(format!("Rebasing to {}", t.refspec));
                }
                // An image reference is kept in upstream's spelling.
                if let Refspec::Container(r) = Refspec::parse(&t.refspec) {
                    t.refspec = ImageRef::parse(&r)?.to_string();
                    if t.refspec == current {
                        bail!("Old and new refs are equal: {current}");
                    }
                }
                new_origin.set_refspec(&t.refspec);
                (t.refspec, true)
            }
            None => (current.clone(), false),
        };
        if rebased || self.custom_origin.is_some() {
            new_origin.custom_origin = self.custom_origin.clone();
        }
        if self.flags.no_initramfs {
            new_origin.set_initramfs_regeneration(false, &[]);
            new_origin.initramfs_etc.clear();
        }
        let new_requests = self.packages.apply(&mut new_origin)?;
        let revision = self
            .revision
            .as_deref()
            .filter(|r| !r.is_empty())
            .map(Revision::parse);
        let csum = match Refspec::parse(&refspec) {
            Refspec::Container(imgref) => {
                // A revision of an image is a manifest digest: the origin is
                // pinned to it (`deploy sha256:...`, `rebase IMGREF sha256:...`).
                let imgref = match self.revision.as_deref().filter(|r| !r.is_empty()) {
                    Some(digest) => {
                        let pinned = ImageRef::parse(&imgref)?.with_digest(digest)?.to_string();
                        new_origin.set_refspec(&pinned);
                        refspec = pinned.clone();
                        pinned
                    }
                    None => imgref,
                };
                self.image_commit(ctx, &imgref, merge)?
            }
            Refspec::Checksum(c) => {
                if revision.is_some() {
                    bail!("Cannot look up version while pinned to commit");
                }
                if !rebased {
                    ctx.progress.message(match &origin.custom_origin {
                        Some((_, desc)) => format!("Pinned to commit by custom origin: {desc}"),
                        None => "Pinned to commit; no upgrade available".into(),
                    });
                }
                if !repo.has_object(ostree::ObjectType::Commit, &c, gio::Cancellable::NONE)? {
                    bail!("Commit {c} is not available locally");
                }
                new_origin.override_commit = None;
                c
            }
            Refspec::Ref { remote, branch } => {
                let pinned =
                    self.resolve_revision(ctx, &refspec, remote.as_deref(), &branch, revision)?;
                match pinned {
                    Some(c) => new_origin.override_commit = Some(c),
                    // A plain upgrade or rebase follows the branch again, unless
                    // nothing may be pulled (then the current pin stays).
                    None if self.may_pull() => new_origin.override_commit = None,
                    None => {}
                }
                let pin = new_origin.override_commit.clone();
                if let Some(remote) = remote.as_deref().filter(|_| self.may_pull()) {
                    let spec = PullSpec {
                        repo: ctx.sysroot_path.join("ostree/repo"),
                        remote: remote.to_string(),
                        branch: branch.clone(),
                        commit: pin.clone(),
                        metadata_only: self.metadata_only(),
                        ..Default::default()
                    };
                    pull(&spec, &ctx.progress, &ctx.cancellable, self.stall_timeout)?;
                }
                let csum = match pin {
                    Some(c) => c,
                    None => repo
                        .resolve_rev(&refspec, false)?
                        .map(|c| c.to_string())
                        .ok_or_else(|| anyhow!("Ref {refspec} not found"))?,
                };
                if let Some(remote) = remote.as_deref().filter(|_| self.may_pull())
                    && self.metadata_only()
                {
                    self.pull_rpmdb(ctx, remote, &branch, &csum)?;
                }
                csum
            }
        };
        let custom_changed = origin.custom_origin != new_origin.custom_origin;
        let packages_changed = origin.requested_packages != new_origin.requested_packages
            || origin.requested_local_packages != new_origin.requested_local_packages
            || origin.requested_local_fileoverride_packages
                != new_origin.requested_local_fileoverride_packages
            || origin.override_remove != new_origin.override_remove
            || origin.override_replace_local != new_origin.override_replace_local
            || origin.override_replace != new_origin.override_replace;
        let initramfs_changed = origin.regenerate_initramfs != new_origin.regenerate_initramfs
            || origin.initramfs_args != new_origin.initramfs_args
            || origin.initramfs_etc != new_origin.initramfs_etc;
        let changed = csum != base_of(&ctx.sysroot.repo(), &merge.csum())
            || refspec != current
            || custom_changed
            || packages_changed
            || initramfs_changed;
        let old_ref_to_purge = (rebased && !self.flags.skip_purge)
            .then(|| current.clone())
            .filter(|old| matches!(Refspec::parse(old), Refspec::Ref { .. }))
            .filter(|old| !still_used(&ctx.sysroot, old, merge));
        Ok(Plan {
            refspec,
            csum,
            origin: new_origin,
            changed,
            old_ref_to_purge,
            new_requests,
        })
    }

    /// "Nothing to do", in the words of the verb.
    fn no_change_text(&self) -> &'static str {
        match self.verb {
            Verb::Upgrade | Verb::AutomaticUpdate => "No upgrade available.",
            _ => "No change.",
        }
    }

    /// Layers the plan's requests on its base commit.
    fn layer(&self, ctx: &Ctx, plan: &Plan, merge: &ostree::Deployment) -> Result<Layered> {
        let setup = Setup::for_os(
            &ctx.sysroot_path,
            &ctx.sysroot,
            &self.osname,
            ctx.runtime_dir.join("lock"),
        )
        .ok_or_else(|| anyhow!("No deployments found for os {}", self.osname))?;
        let flags = LayerFlags {
            cache_only: self.flags.cache_only,
            dry_run: self.flags.dry_run,
            download_only: self.flags.download_only,
            allow_inactive: self.packages.allow_inactive,
        };
        let previous = merge.csum();
        layer::layer(
            ctx,
            &setup,
            &plan.csum,
            &plan.origin,
            Some(&previous),
            &layer::NewRequests {
                packages: plan.new_requests.clone(),
                removals: self.packages.override_remove.iter().cloned().collect(),
                replacements: self
                    .packages
                    .replace_local
                    .iter()
                    .map(|e| crate::layering::local::entry_nevra(e).to_string())
                    .chain(
                        self.packages
                            .replace_remote
                            .iter()
                            .flat_map(|(_, n)| n.clone()),
                    )
                    .collect(),
            },
            flags,
        )
    }

    /// Resolves `set-revision` on `refspec`'s branch: `Some(checksum)` to pin to.
    fn resolve_revision(
        &self,
        ctx: &Ctx,
        refspec: &str,
        remote: Option<&str>,
        branch: &str,
        revision: Option<Revision>,
    ) -> Result<Option<String>> {
        let Some(revision) = revision else {
            return Ok(None);
        };
        let repo = ctx.sysroot.repo();
        let history = |ctx: &Ctx| -> Result<()> {
            if let Some(remote) = remote.filter(|_| self.may_pull()) {
                let spec = PullSpec {
                    repo: ctx.sysroot_path.join("ostree/repo"),
                    remote: remote.to_string(),
                    branch: branch.to_string(),
                    commit: None,
                    metadata_only: true,
                    depth: -1,
                    ..Default::default()
                };
                pull(&spec, &ctx.progress, &ctx.cancellable, self.stall_timeout)?;
            }
            Ok(())
        };
        match revision {
            Revision::Version(v) => {
                ctx.progress.message(format!("Resolving version '{v}'"));
                history(ctx)?;
                resolve_version(&repo, refspec, &v).map(Some)
            }
            Revision::Checksum(c) => {
                ostree::validate_checksum_string(&c)
                    .map_err(|e| anyhow!("Invalid checksum '{c}': {}", e.message()))?;
                ctx.progress.message(format!("Validating checksum '{c}'"));
                if !self.flags.skip_branch_check {
                    history(ctx)?;
                    check_on_branch(&repo, refspec, &c)?;
                }
                Ok(Some(c))
            }
        }
    }
}

/// True if another deployment than `merge` still follows `refspec`.
fn still_used(sysroot: &ostree::Sysroot, refspec: &str, merge: &ostree::Deployment) -> bool {
    sysroot.deployments().iter().any(|d| {
        !(d.csum() == merge.csum() && d.deployserial() == merge.deployserial())
            && d.origin()
                .and_then(|kf| Origin::from_keyfile(&kf).refspec)
                .as_deref()
                == Some(refspec)
    })
}
