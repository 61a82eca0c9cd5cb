//! Deployment dictionaries (`Deployments[i]`, `BootedDeployment`, ...) built from
//! libostree's state, the origin files and commit metadata, and the whole-sysroot
//! status they make up.

use gio::prelude::*;
use glib::Variant;
use std::collections::BTreeMap;
use std::path::Path;

use super::Dict;
use super::origin::Origin;
use super::refspec::Refspec;
use super::signatures::SignatureCache;
use crate::names;

/// Commit metadata keys that are too bulky for status and never shown.
const BULKY_META_KEYS: &[&str] = &[
    "rpmostree.rpmdb.pkglist",
    "rpmostree.advisories",
    "rpmostree.packages",
    "rpmostree.modules",
    "rpmostree.spec",
    "rpmostree.removed-base-packages",
    "rpmostree.replaced-base-packages",
    "rpmostree.replaced-base-remote-packages",
];

/// The three deployments an OS object shows; empty dicts when absent.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct OsStatus {
    pub booted: Dict,
    pub default: Dict,
    pub rollback: Dict,
}

/// Everything the Sysroot and OS objects publish about deployments.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct SysrootStatus {
    /// Deployment dicts in libostree's order (index 0 = default).
    pub deployments: Vec<Dict>,
    pub booted_osname: Option<String>,
    /// Per osname, for every osname that has a deployment.
    pub oses: BTreeMap<String, OsStatus>,
}

/// Facts about one loaded commit.
pub(crate) struct CommitInfo {
    pub version: Option<String>,
    pub timestamp: u64,
    pub metadata: Variant,
    /// Its parent, when it is a client-layered commit (`rpmostree.clientlayer`).
    pub layered_on: Option<String>,
}

/// The parent of `commit` (a commit variant) when it is a client-layered
/// commit (`rpmostree.clientlayer`): its base.
pub(crate) fn layered_base_of(commit: &Variant) -> Option<String> {
    glib::VariantDict::new(Some(&commit.child_value(0)))
        .lookup::<bool>("rpmostree.clientlayer")
        .ok()
        .flatten()
        .filter(|l| *l)
        .and_then(|_| ostree::commit_get_parent(commit))
        .map(|p| p.to_string())
}

/// The base of commit `csum`: its parent when it is client-layered, else
/// itself.
pub(crate) fn base_of(repo: &ostree::Repo, csum: &str) -> String {
    repo.load_commit(csum)
        .ok()
        .and_then(|(c, _)| layered_base_of(&c))
        .unwrap_or_else(|| csum.to_string())
}

/// The version label of the image an imported image's commit records (its
/// merge commit has no `version` of its own), as upstream reports it.
fn image_version(meta: &glib::VariantDict) -> Option<String> {
    let config = meta
        .lookup::<String>("ostree.container.image-config")
        .ok()
        .flatten()?;
    let config: serde_json::Value = serde_json::from_str(&config).ok()?;
    let labels = &config["config"]["Labels"];
    ["org.opencontainers.image.version", "version"]
        .iter()
        .find_map(|k| labels[k].as_str().map(String::from))
}

/// The manifest digest an imported image's commit records.
pub(crate) fn manifest_digest(repo: &ostree::Repo, csum: &str) -> Option<String> {
    let (commit, _) = repo.load_commit(csum).ok()?;
    glib::VariantDict::new(Some(&commit.child_value(0)))
        .lookup::<String>("ostree.manifest-digest")
        .ok()
        .flatten()
}

pub(crate) fn commit_info(repo: &ostree::Repo, csum: &str) -> Option<CommitInfo> {
    let commit = repo.load_variant(ostree::ObjectType::Commit, csum).ok()?;
    let metadata = commit.child_value(0);
    let dict = glib::VariantDict::new(Some(&metadata));
    let version = dict
        .lookup_value("version", Some(glib::VariantTy::STRING))
        .and_then(|v| v.str().map(String::from))
        .or_else(|| image_version(&dict));
    let layered_on = layered_base_of(&commit);
    Some(CommitInfo {
        version,
        timestamp: ostree::commit_get_timestamp(&commit),
        metadata,
        layered_on,
    })
}

/// Commit metadata without the bulky keys.
pub(crate) fn filtered_metadata(meta: &Variant) -> Variant {
    let dict = glib::VariantDict::new(Some(meta));
    for k in BULKY_META_KEYS {
        dict.remove(k);
    }
    dict.end()
}

pub(crate) fn deployment_id(d: &ostree::Deployment) -> String {
    format!("{}-{}.{}", d.osname(), d.csum(), d.deployserial())
}

fn same(a: &ostree::Deployment, b: &ostree::Deployment) -> bool {
    a.osname() == b.osname() && a.csum() == b.csum() && a.deployserial() == b.deployserial()
}

fn strv(v: Vec<String>) -> Variant {
    v.to_variant()
}

/// Builds the deployment dict of `d`.
pub(crate) fn deployment_dict(
    sysroot: &ostree::Sysroot,
    d: &ostree::Deployment,
    sigs: &mut SignatureCache,
) -> Dict {
    let repo = sysroot.repo();
    let csum = d.csum().to_string();
    let booted = sysroot.booted_deployment().is_some_and(|b| same(&b, d));
    let mut m = Dict::new();
    let mut put = |k: &str, v: Variant| {
        m.insert(k.to_string(), v);
    };
    put("id", deployment_id(d).to_variant());
    put("osname", d.osname().as_str().to_variant());
    put("checksum", csum.to_variant());
    put("serial", d.deployserial().to_variant());
    put("booted", booted.to_variant());
    put("staged", d.is_staged().to_variant());
    if d.is_staged() && sysroot_is_root(sysroot) && Path::new(names::STAGED_LOCKED_PATH).exists() {
        put("finalization-locked", true.to_variant());
    }
    put("pinned", d.is_pinned().to_variant());
    put(
        "unlocked",
        ostree::Deployment::unlocked_state_to_string(d.unlocked())
            .as_str()
            .to_variant(),
    );
    let info = commit_info(&repo, &csum);
    // The origin's refspec follows the base of a layered commit.
    let base_csum = info
        .as_ref()
        .and_then(|i| i.layered_on.clone())
        .unwrap_or_else(|| csum.clone());
    // Base removals and replacements, from the layered commit.
    let layered = |key: &str, ty: &str| {
        info.as_ref()
            .and_then(|i| {
                glib::VariantDict::new(Some(&i.metadata))
                    .lookup_value(key, Some(glib::VariantTy::new(ty).expect("valid type")))
            })
            .unwrap_or_else(|| {
                let elem = glib::VariantTy::new(ty)
                    .expect("valid type")
                    .element()
                    .to_owned();
                Variant::array_from_iter_with_type(&elem, Vec::<Variant>::new())
            })
    };
    let removals = layered("rpmostree.removed-base-packages", "av");
    let replacements = layered("rpmostree.replaced-base-packages", "a(vv)");
    let remote_replacements = layered("rpmostree.replaced-base-remote-packages", "a{sv}");
    match info {
        Some(info) => {
            if let Some(v) = &info.version {
                put("version", v.to_variant());
            }
            if info.timestamp > 0 {
                put("timestamp", info.timestamp.to_variant());
            }
            if let Some(eol) = glib::VariantDict::new(Some(&info.metadata))
                .lookup_value("ostree.endoflife", Some(glib::VariantTy::STRING))
            {
                put("endoflife", eol);
            }
            let packages: Vec<String> = glib::VariantDict::new(Some(&info.metadata))
                .lookup("rpmostree.packages")
                .ok()
                .flatten()
                .unwrap_or_default();
            match info
                .layered_on
                .as_deref()
                .and_then(|b| Some((b, commit_info(&repo, b)?)))
            {
                Some((base, base_info)) => {
                    put("base-checksum", base.to_variant());
                    if let Some(v) = &base_info.version {
                        put("base-version", v.to_variant());
                    }
                    put("base-timestamp", base_info.timestamp.to_variant());
                    put("base-commit-meta", filtered_metadata(&base_info.metadata));
                    put("layered-commit-meta", filtered_metadata(&info.metadata));
                }
                None => put("base-commit-meta", filtered_metadata(&info.metadata)),
            }
            put("packages", strv(packages));
        }
        None => {
            put("base-commit-meta", Dict::new().to_variant());
            put("packages", strv(vec![]));
        }
    }
    put("base-removals", removals);
    put("base-local-replacements", replacements);
    put("base-remote-replacements", remote_replacements);

    if let Some(kf) = d.origin() {
        let origin = Origin::from_keyfile(&kf);
        origin_keys(&repo, &origin, &base_csum, sigs, &mut put);
    }
    m
}

/// The NEVRAs of local package entries (`<sha256>:<nevra>`).
fn nevras(entries: &std::collections::BTreeSet<String>) -> Vec<String> {
    entries
        .iter()
        .map(|e| crate::deployment::origin::entry_nevra(e).to_string())
        .collect()
}

/// The keys that come from the origin file.
fn origin_keys(
    repo: &ostree::Repo,
    origin: &Origin,
    csum: &str,
    sigs: &mut SignatureCache,
    put: &mut impl FnMut(&str, Variant),
) {
    if let Some(imgref) = origin.container_image_reference.as_ref() {
        put("container-image-reference", imgref.to_variant());
        // An imported image's commit records its manifest digest.
        if let Some(digest) = manifest_digest(repo, csum) {
            put("container-image-reference-digest", digest.to_variant());
        }
    } else if let Some(refspec) = origin.refspec.as_ref() {
        put("origin", refspec.to_variant());
        if let Refspec::Ref { remote, .. } = Refspec::parse(refspec) {
            let mut gpg_enabled = false;
            if let Some(remote) = remote {
                match repo.remote_get_gpg_verify(&remote) {
                    Ok(gpg) => gpg_enabled = gpg,
                    Err(e) => put("remote-error", e.message().to_variant()),
                }
                if gpg_enabled && let Some(s) = sigs.get(repo, &remote, csum) {
                    put("signatures", s);
                }
            }
            put("gpg-enabled", gpg_enabled.to_variant());
            if let Ok(Some(pending)) = repo.resolve_rev(refspec, true)
                && pending != csum
            {
                put("pending-base-checksum", pending.as_str().to_variant());
                if let Some(info) = commit_info(repo, &pending) {
                    if let Some(v) = info.version {
                        put("pending-base-version", v.to_variant());
                    }
                    put("pending-base-timestamp", info.timestamp.to_variant());
                }
            }
        }
    }
    if let Some((url, desc)) = &origin.custom_origin {
        put("custom-origin", (url, desc).to_variant());
    }
    put(
        "requested-packages",
        strv(origin.requested_packages.iter().cloned().collect()),
    );
    put(
        "requested-local-packages",
        strv(nevras(&origin.requested_local_packages)),
    );
    put(
        "requested-local-fileoverride-packages",
        strv(nevras(&origin.requested_local_fileoverride_packages)),
    );
    put(
        "requested-base-removals",
        strv(origin.override_remove.iter().cloned().collect()),
    );
    put(
        "requested-base-local-replacements",
        strv(nevras(&origin.override_replace_local)),
    );
    if !origin.override_replace.is_empty() {
        let sources = origin.replacement_sources();
        put("requested-base-remote-replacements", sources.to_variant());
    }
    put(
        "regenerate-initramfs",
        origin.regenerate_initramfs.to_variant(),
    );
    if origin.has_initramfs_config() {
        put("initramfs-args", strv(origin.initramfs_args.clone()));
        put(
            "initramfs-etc",
            strv(origin.initramfs_etc.iter().cloned().collect()),
        );
    }
    if origin.cliwrap {
        put("cliwrap", true.to_variant());
    }
}

/// True if the sysroot is the root filesystem (`/`), where `/run` state applies.
pub(crate) fn sysroot_is_root(sysroot: &ostree::Sysroot) -> bool {
    sysroot.path().path().is_some_and(|p| p == Path::new("/"))
}

/// Builds the status of the whole (loaded) sysroot.
pub(crate) fn sysroot_status(
    sysroot: &ostree::Sysroot,
    sigs: &mut SignatureCache,
) -> SysrootStatus {
    let deployments = sysroot.deployments();
    let booted = sysroot.booted_deployment();
    let dicts: Vec<Dict> = deployments
        .iter()
        .map(|d| deployment_dict(sysroot, d, sigs))
        .collect();
    let dict_of = |d: &ostree::Deployment| -> Dict {
        deployments
            .iter()
            .position(|x| same(x, d))
            .map(|i| dicts[i].clone())
            .unwrap_or_default()
    };
    let mut oses = BTreeMap::new();
    for d in &deployments {
        let osname = d.osname().to_string();
        if oses.contains_key(&osname) {
            continue;
        }
        let booted_here = booted.as_ref().filter(|b| b.osname() == osname);
        let (pending, mut rollback) = sysroot.query_deployments_for(Some(&osname));
        if booted.is_none() {
            // Offline sysroot: the first deployment is the current one, the
            // second is what a rollback would go back to.
            rollback = deployments
                .iter()
                .filter(|x| x.osname() == osname)
                .nth(1)
                .cloned();
        }
        let default = pending.as_ref().or(booted_here);
        oses.insert(
            osname,
            OsStatus {
                booted: booted_here.map(dict_of).unwrap_or_default(),
                default: default.map(dict_of).unwrap_or_default(),
                rollback: rollback.as_ref().map(dict_of).unwrap_or_default(),
            },
        );
    }
    SysrootStatus {
        deployments: dicts,
        booted_osname: booted.map(|b| b.osname().to_string()),
        oses,
    }
}

/// A cheap fingerprint of everything status depends on: when it is unchanged,
/// a reload has nothing to do.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct ChangeKey(Vec<Option<(i64, i64)>>);

pub(crate) fn change_key(sysroot_path: &Path) -> ChangeKey {
    use std::os::unix::fs::MetadataExt;
    let mut paths = vec![
        sysroot_path.join("ostree/deploy"),
        sysroot_path.join("ostree/repo"),
        sysroot_path.join("ostree/repo/config"),
        sysroot_path.join("boot/loader"),
    ];
    if sysroot_path == Path::new("/") {
        paths.push("/run/ostree/staged-deployment".into());
        paths.push(names::STAGED_LOCKED_PATH.into());
    }
    ChangeKey(
        paths
            .iter()
            .map(|p| {
                std::fs::symlink_metadata(p)
                    .ok()
                    .map(|m| (m.mtime() * 1_000_000_000 + m.mtime_nsec(), m.ino() as i64))
            })
            .collect(),
    )
}
