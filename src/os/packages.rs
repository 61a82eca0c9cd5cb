//! OS methods over rpm-md repositories: `ListRepos`, `WhatProvides`,
//! `GetPackages`, `Search` (answered off the main loop by the rpm-md
//! helper, from cached metadata), and the `RefreshMd` and `ModifyYumRepo`
//! transactions.

use glib::Variant;
use std::rc::Rc;

use crate::bus::MethodCall;
use crate::error::BusError;
use crate::gate::{self, Request, transaction};
use crate::layering::rpmmd::{self, PackageInfo, RepoInfo, Setup};
use crate::options::{self, OptionSpec};
use crate::state::Daemon;
use crate::transaction::kinds::rpmmd::{ModifyRepo, RefreshMd};

type Parsed = Result<Box<dyn Request>, BusError>;

/// The rpm-md setup of `osname`.
fn setup(daemon: &Rc<Daemon>, osname: &str) -> Result<Setup, BusError> {
    let view = daemon.view.borrow();
    Setup::for_os(
        &daemon.sysroot_path,
        &view.sysroot,
        osname,
        daemon.hooks.runtime_dir.join("lock"),
    )
    .ok_or_else(|| BusError::failed(format!("No deployments found for os {osname}")))
}

fn failed(e: anyhow::Error) -> BusError {
    BusError::failed(format!("{e:#}"))
}

fn repo_dict(r: &RepoInfo) -> Variant {
    let d = glib::VariantDict::new(None);
    d.insert("id", r.id.as_str());
    d.insert("description", r.description.as_deref().unwrap_or(""));
    d.insert("is-devel", r.is_devel);
    d.insert("is-source", r.is_source);
    d.insert("is-enabled", r.enabled);
    d.end()
}

fn package_dict(p: &PackageInfo) -> Variant {
    let d = glib::VariantDict::new(None);
    if let Some(k) = &p.key {
        d.insert("key", k.as_str());
    }
    d.insert("name", p.name.as_str());
    d.insert("epoch", p.epoch);
    d.insert("version", p.version.as_str());
    d.insert("arch", p.arch.as_str());
    d.insert("nevra", p.nevra.as_str());
    d.insert("evr", p.evr.as_str());
    if let Some(s) = &p.summary {
        d.insert("summary", s.as_str());
    }
    d.insert("reponame", p.reponame.as_str());
    d.end()
}

/// `(aa{sv})` of `entries`.
fn dict_list<T>(entries: &[T], dict: fn(&T) -> Variant) -> Variant {
    let list =
        Variant::array_from_iter_with_type(glib::VariantTy::VARDICT, entries.iter().map(dict));
    Variant::tuple_from_iter([list])
}

pub(super) fn list_repos(osname: &str, _: &MethodCall) -> Parsed {
    let osname = osname.to_string();
    Ok(gate::off_loop(
        move |daemon| setup(daemon, &osname),
        |setup| {
            let repos = rpmmd::list_repos(&setup, &gio::Cancellable::new()).map_err(failed)?;
            Ok(dict_list(&repos, repo_dict))
        },
    ))
}

/// A query method: its `as` argument, answered by the helper.
fn query(osname: &str, call: &MethodCall, make: fn(Vec<String>) -> rpmmd::Request) -> Parsed {
    let (terms,): (Vec<String>,) = call.params.get().unwrap_or_default();
    let osname = osname.to_string();
    Ok(gate::off_loop(
        move |daemon| setup(daemon, &osname),
        move |setup| {
            if terms.is_empty() {
                return Ok(dict_list::<PackageInfo>(&[], package_dict));
            }
            let pkgs =
                rpmmd::packages(&setup, make(terms), &gio::Cancellable::new()).map_err(failed)?;
            Ok(dict_list(&pkgs, package_dict))
        },
    ))
}

pub(super) fn what_provides(osname: &str, call: &MethodCall) -> Parsed {
    query(osname, call, rpmmd::Request::WhatProvides)
}

pub(super) fn get_packages(osname: &str, call: &MethodCall) -> Parsed {
    query(osname, call, rpmmd::Request::GetPackages)
}

pub(super) fn search(osname: &str, call: &MethodCall) -> Parsed {
    let (terms,): (Vec<String>,) = call.params.get().unwrap_or_default();
    if terms.is_empty() {
        return Err(BusError::dbus_failed("Must specify a term for search"));
    }
    query(osname, call, rpmmd::Request::Search)
}

const REFRESH_OPTIONS: &[OptionSpec] = &[OptionSpec::new("force", "b")];

pub(super) fn refresh_md(osname: &str, call: &MethodCall) -> Parsed {
    let opts = options::parse_single(&call.params, REFRESH_OPTIONS, &call.method)?;
    let force = opts.flag("force");
    let title = if force {
        "refresh-md (force)"
    } else {
        "refresh-md"
    };
    let kind = RefreshMd {
        osname: osname.to_string(),
        force,
    };
    Ok(transaction(title.into(), kind))
}

pub(super) fn modify_yum_repo(osname: &str, call: &MethodCall) -> Parsed {
    // In the order the call gave them: a{ss} is a list of entries.
    let (repo, settings): (String, Vec<glib::variant::DictEntry<String, String>>) =
        call.params.get().unwrap_or_default();
    let kind = ModifyRepo {
        osname: osname.to_string(),
        repo,
        settings: settings
            .into_iter()
            .map(|e| (e.key().clone(), e.value().clone()))
            .collect(),
    };
    Ok(transaction("modify-yum-repo".into(), kind))
}
