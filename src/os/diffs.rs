//! OS methods of the package-diff family: `GetDeploymentsRpmDiff`,
//! `GetCached{Update,Rebase,Deploy}RpmDiff` (answered from what the
//! repository has, the diff computed by a helper off the main loop), and the
//! `Download{Update,Rebase,Deploy}RpmDiff` transactions that pull what those
//! need.

use glib::prelude::*;
use std::rc::Rc;

use super::deploy::request::{BuildEnv, DeployCall, Modifiers};
use crate::bus::MethodCall;
use crate::config::UpdatePolicy;
use crate::deployment::Dict;
use crate::deployment::cached_update::commit_details;
use crate::deployment::origin::Origin;
use crate::deployment::refspec::{Refspec, is_checksum};
use crate::deployment::revision::{Revision, cached_version, complete_refspec};
use crate::deployment::status::deployment_id;
use crate::deployment::write::merge_and_origin_of;
use crate::error::{BusError, reply_error};
use crate::gate::{self, Request, transaction};
use crate::layering::pkgdb;
use crate::state::Daemon;
use crate::transaction::kinds::deploy::Verb;

type Parsed = Result<Box<dyn Request>, BusError>;

/// What to diff: two commits, and for the `GetCached*` methods the details
/// of the target.
struct Job {
    from: String,
    to: String,
    details: Option<Dict>,
}

/// A request answered with the diff of the job that `job` makes from the
/// daemon's state, computed in a helper off the main loop.
fn diff_answer(job: impl FnOnce(&Rc<Daemon>) -> Result<Job, BusError> + 'static) -> Parsed {
    Ok(gate::off_loop(
        move |daemon| Ok((daemon.sysroot_path.join("ostree/repo"), job(daemon)?)),
        |(repo, Job { from, to, details })| {
            let d = pkgdb::diff_commits(&repo, &from, &to, &gio::Cancellable::new())
                .map_err(|e| BusError::failed(format!("{e:#}")))?;
            Ok(match details {
                Some(details) => {
                    glib::Variant::tuple_from_iter([d.to_variant(), details.to_variant()])
                }
                None => glib::Variant::tuple_from_iter([d.to_variant()]),
            })
        },
    ))
}

fn failed(e: anyhow::Error) -> BusError {
    BusError::failed(format!("{e:#}"))
}

/// The checksum of the deployment whose `id` is given.
fn deployment_checksum(daemon: &Daemon, id: &str) -> Result<String, BusError> {
    if id.is_empty() {
        return Err(BusError::failed("empty deployment ID"));
    }
    let view = daemon.view.borrow();
    view.sysroot
        .deployments()
        .iter()
        .find(|d| deployment_id(d) == id)
        .map(|d| d.csum().to_string())
        .ok_or_else(|| BusError::failed(format!("Deployment with id '{id}' not found")))
}

pub(super) fn get_deployments_rpm_diff(_: &str, call: &MethodCall) -> Parsed {
    let (a, b): (String, String) = call.params.get().unwrap_or_default();
    diff_answer(move |daemon| {
        Ok(Job {
            from: deployment_checksum(daemon, &a)?,
            to: deployment_checksum(daemon, &b)?,
            details: None,
        })
    })
}

/// The details dict of `csum` reached through `refspec`, for `osname`.
fn details(daemon: &Daemon, osname: &str, refspec: &str, csum: &str) -> Dict {
    let mut view = daemon.view.borrow_mut();
    let repo = view.sysroot.repo();
    let sigs = &mut view.sigs;
    let mut verify = |remote: &str, c: &str| sigs.get(&repo, remote, c);
    commit_details(&repo, osname, refspec, csum, &mut verify)
}

fn resolve(daemon: &Daemon, refspec: &str) -> Result<String, BusError> {
    let view = daemon.view.borrow();
    view.sysroot
        .repo()
        .resolve_rev(refspec, false)
        .map_err(|e| BusError::failed(format!("Loading package list: {}", e.message())))?
        .map(|c| c.to_string())
        .ok_or_else(|| BusError::failed(format!("Loading package list: Ref {refspec} not found")))
}

/// The merge deployment's checksum and origin refspec.
fn merge(daemon: &Daemon, osname: &str) -> Result<(String, String), BusError> {
    let view = daemon.view.borrow();
    let (merge, origin) = merge_and_origin_of(&view.sysroot, osname).map_err(failed)?;
    Ok((merge.csum().to_string(), origin_refspec(&origin)?))
}

fn origin_refspec(origin: &Origin) -> Result<String, BusError> {
    origin
        .refspec
        .clone()
        .ok_or_else(|| BusError::failed("The deployment's origin has no refspec"))
}

struct CachedUpdate {
    osname: String,
    deployid: String,
}

pub(super) fn get_cached_update_rpm_diff(osname: &str, call: &MethodCall) -> Parsed {
    let (deployid,): (String,) = call.params.get().unwrap_or_default();
    let req = CachedUpdate {
        osname: osname.to_string(),
        deployid,
    };
    diff_answer(move |daemon| req.job(daemon))
}

impl CachedUpdate {
    fn job(&self, daemon: &Daemon) -> Result<Job, BusError> {
        let (base, refspec) = {
            let view = daemon.view.borrow();
            let d = if self.deployid.is_empty() {
                view.sysroot
                    .merge_deployment(Some(&self.osname))
                    .ok_or_else(|| {
                        BusError::failed(format!("No deployments found for os {}", self.osname))
                    })?
            } else {
                view.sysroot
                    .deployments()
                    .into_iter()
                    .find(|d| deployment_id(d) == self.deployid)
                    .ok_or_else(|| {
                        BusError::failed(format!(
                            "Deployment with id '{}' not found",
                            self.deployid
                        ))
                    })?
            };
            let origin = d
                .origin()
                .map(|kf| Origin::from_keyfile(&kf))
                .unwrap_or_default();
            (d.csum().to_string(), origin_refspec(&origin)?)
        };
        let to = resolve(daemon, &refspec)?;
        Ok(Job {
            details: Some(details(daemon, &self.osname, &refspec, &to)),
            from: base,
            to,
        })
    }
}

pub(super) fn get_cached_rebase_rpm_diff(osname: &str, call: &MethodCall) -> Parsed {
    let (target, _packages): (String, Vec<String>) = call.params.get().unwrap_or_default();
    let osname = osname.to_string();
    diff_answer(move |daemon| {
        let (from, current) = merge(daemon, &osname)?;
        let refspec = complete(&current, &target)?;
        let to = resolve(daemon, &refspec)?;
        Ok(Job {
            details: Some(details(daemon, &osname, &refspec, &to)),
            from,
            to,
        })
    })
}

/// Completes a partial rebase target against `current`, as `Rebase` does.
fn complete(current: &str, target: &str) -> Result<String, BusError> {
    let t = complete_refspec(current, target)
        .map_err(|e| BusError::invalid_refspec(format!("{e:#}")))?;
    if !is_checksum(&t.refspec) && !matches!(Refspec::parse(&t.refspec), Refspec::Container(_)) {
        ostree::parse_refspec(&t.refspec).map_err(|e| BusError::invalid_refspec(e.message()))?;
    }
    Ok(t.refspec)
}

pub(super) fn get_cached_deploy_rpm_diff(osname: &str, call: &MethodCall) -> Parsed {
    let (revision, _packages): (String, Vec<String>) = call.params.get().unwrap_or_default();
    let osname = osname.to_string();
    diff_answer(move |daemon| {
        if revision.is_empty() {
            return Err(BusError::failed("Missing revision"));
        }
        let (from, refspec) = merge(daemon, &osname)?;
        let to = match Revision::parse(&revision) {
            Revision::Version(v) => {
                let view = daemon.view.borrow();
                cached_version(&view.sysroot.repo(), &refspec, &v).map_err(failed)?
            }
            Revision::Checksum(c) => {
                ostree::validate_checksum_string(&c).map_err(|e| BusError::failed(e.message()))?;
                c
            }
        };
        Ok(Job {
            details: Some(details(daemon, &osname, &refspec, &to)),
            from,
            to,
        })
    })
}

/// `Download{Update,Rebase,Deploy}RpmDiff`: a deploy-family transaction that
/// stops once the target's commit and rpm database are pulled.
struct Download {
    osname: String,
    call: DeployCall,
}

fn download(osname: &str, verb: Verb, modifiers: Modifiers) -> Parsed {
    Ok(Box::new(Download {
        osname: osname.to_string(),
        call: DeployCall {
            verb,
            modifiers,
            options: Default::default(),
            mode: None,
            pkg_change: false,
        },
    }))
}

pub(super) fn download_update_rpm_diff(osname: &str, _: &MethodCall) -> Parsed {
    download(osname, Verb::Upgrade, Modifiers::default())
}

pub(super) fn download_rebase_rpm_diff(osname: &str, call: &MethodCall) -> Parsed {
    let (refspec, _packages): (String, Vec<String>) = call.params.get().unwrap_or_default();
    let m = Modifiers {
        set_refspec: Some(refspec),
        ..Default::default()
    };
    download(osname, Verb::Rebase, m)
}

pub(super) fn download_deploy_rpm_diff(osname: &str, call: &MethodCall) -> Parsed {
    let (revision, _packages): (String, Vec<String>) = call.params.get().unwrap_or_default();
    let m = Modifiers {
        set_revision: Some(revision),
        ..Default::default()
    };
    download(osname, Verb::Deploy, m)
}

impl Request for Download {
    fn run(self: Box<Self>, daemon: &Rc<Daemon>, call: MethodCall, uid: Option<u32>) {
        let env = BuildEnv {
            runtime_dir: daemon.hooks.runtime_dir.clone(),
            stall_timeout: daemon.hooks.pull_stall_timeout,
            policy: UpdatePolicy::None,
            agent: None,
            caller_unit: None,
            lock_layering: false,
            insecure_loopback_registries: daemon.hooks.insecure_loopback_registries,
        };
        match self.call.build(&self.osname, &env) {
            Ok(mut kind) => {
                kind.flags.diff_only = true;
                kind.title = "package-diff".into();
                transaction(kind.title.clone(), kind).run(daemon, call, uid)
            }
            Err(e) => reply_error(call.invocation, e),
        }
    }
}
