//! Container-image origins (phase 3): images pulled into the repository by
//! the container helper `rpm-ostreed-container` (the registry's ostree-ext
//! in a process and cargo workspace of its own, crates/container-helper),
//! through the helper module's JSON-lines protocol. The daemon never links
//! ostree-ext, tokio or a second glib.

use anyhow::Result;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Duration;

use crate::helper::{Helper, Program};
use crate::progress::{DownloadProgress, Event, ProgressSink};

/// The helper's executable, installed beside the daemon's.
const PROGRAM: Program = Program::Sibling("rpm-ostreed-container");

/// What `import` and `check` are asked.
#[derive(Debug, Serialize)]
struct ImageRequest<'a> {
    repo: &'a Path,
    imgref: &'a str,
    insecure_skip_tls_verification: bool,
}

/// A progress line of `import`.
#[derive(Debug, Clone, Default, Deserialize)]
struct ImportProgress {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    layers_fetched: u32,
    #[serde(default)]
    layers_total: u32,
    #[serde(default)]
    bytes_fetched: u64,
}

/// An image in the repository after `import`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct Imported {
    /// False when the stored image was current already.
    pub changed: bool,
    /// The commit to deploy (the image's layers merged).
    pub merge_commit: String,
    pub manifest_digest: String,
    #[serde(default)]
    pub version: Option<String>,
}

/// The time a helper may say nothing before it is taken for stalled.
pub(crate) const STALL: Duration = Duration::from_secs(300);

/// Pulls the image `imgref` (an `ostree-*:` reference) into the repository
/// at `repo`, its layers reported as download progress and messages.
/// `insecure`: plain HTTP to the registry (test registries only).
pub(crate) fn import(
    repo: &Path,
    imgref: &str,
    insecure: bool,
    progress: &ProgressSink,
    cancellable: &gio::Cancellable,
) -> Result<Imported> {
    let req = ImageRequest {
        repo,
        imgref,
        insecure_skip_tls_verification: insecure,
    };
    let helper =
        Helper::<ImportProgress, Imported>::spawn_program(&PROGRAM, "import", &req, cancellable)?;
    let start = std::time::Instant::now();
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut last_message = None;
    let done = helper.wait(STALL, |p| {
        if p.message.is_some() && p.message != last_message {
            if let Some(m) = &p.message {
                progress.message(m.clone());
            }
            last_message = p.message.clone();
        }
        let elapsed = start.elapsed().as_secs();
        progress.send(Event::DownloadProgress(DownloadProgress {
            time: (started, elapsed),
            content: (p.layers_fetched, p.layers_total),
            transfer: (p.bytes_fetched, p.bytes_fetched / elapsed.max(1)),
            ..Default::default()
        }));
    });
    progress.progress_end();
    done
}

/// What `check` found: whether the stored image is the one the reference
/// names now, and how the new manifest differs.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Checked {
    pub current: bool,
    pub manifest_digest: String,
    #[serde(default)]
    pub version: Option<String>,
    /// Upstream's `manifest-diff` keys, all counts and sizes.
    #[serde(default)]
    pub manifest_diff: Option<std::collections::BTreeMap<String, u64>>,
}

/// Fetches the manifest of `imgref` only (nothing is imported) and compares
/// it with the image stored in the repository at `repo`.
pub(crate) fn check(
    repo: &Path,
    imgref: &str,
    insecure: bool,
    cancellable: &gio::Cancellable,
) -> Result<Checked> {
    let req = ImageRequest {
        repo,
        imgref,
        insecure_skip_tls_verification: insecure,
    };
    Helper::<serde_json::Value, Checked>::spawn_program(&PROGRAM, "check", &req, cancellable)?
        .wait(STALL, |_| {})
}

/// What `prune` is asked.
#[derive(Debug, Serialize)]
struct PruneRequest<'a> {
    repo: &'a Path,
    keep: &'a [String],
}

/// What `prune` did.
#[derive(Debug, Clone, Default, Deserialize)]
struct Pruned {
    #[serde(default)]
    removed: Vec<String>,
    #[serde(default)]
    layers_pruned: u64,
}

/// Where ostree-ext keeps its image refs.
const IMAGE_REFS: &str = "ostree/container/image";

/// The plain image reference (`docker://host/name:tag`, `oci:/dir:tag`) an
/// image ref of ostree-ext names: its escapes undone (`__` is `_`, `_XX_`
/// the character of hex code XX). None if it is not such an escape.
fn unescape_image_ref(escaped: &str) -> Option<String> {
    let mut out = String::new();
    let mut rest = escaped;
    while let Some(i) = rest.find('_') {
        out.push_str(&rest[..i]);
        rest = &rest[i + 1..];
        if let Some(r) = rest.strip_prefix('_') {
            out.push('_');
            rest = r;
            continue;
        }
        let (hex, r) = rest.split_once('_')?;
        out.push(char::from_u32(u32::from_str_radix(hex, 16).ok()?)?);
        rest = r;
    }
    out.push_str(rest);
    Some(out)
}

/// Removes the images (and layers) no deployment of `sysroot` (at
/// `sysroot_path`, loaded as it is now) follows; objects go with the prune
/// after. Spawns nothing when the repository has no image, nor, unless
/// `thorough` (`cleanup`, which also collects the layers of a killed
/// import), when every image is followed.
pub(crate) fn prune_unused(
    sysroot: &ostree::Sysroot,
    sysroot_path: &Path,
    thorough: bool,
    cancellable: &gio::Cancellable,
) -> Result<()> {
    let repo = sysroot.repo();
    let images = repo.list_refs_ext(
        Some(IMAGE_REFS),
        ostree::RepoListRefsExtFlags::NONE,
        gio::Cancellable::NONE,
    )?;
    if images.is_empty() {
        return Ok(());
    }
    let keep: Vec<String> = sysroot
        .deployments()
        .iter()
        .filter_map(|d| d.origin())
        .filter_map(|kf| {
            crate::deployment::origin::Origin::from_keyfile(&kf).container_image_reference
        })
        .collect();
    let followed: Vec<String> = keep
        .iter()
        .filter_map(|k| crate::deployment::imgref::ImageRef::parse(k).ok())
        .map(|r| r.image())
        .collect();
    let all_followed = images.keys().all(|name| {
        let name = name.strip_prefix(IMAGE_REFS).unwrap_or(name);
        unescape_image_ref(name.strip_prefix('/').unwrap_or(name))
            .is_some_and(|image| followed.contains(&image))
    });
    if all_followed && !thorough {
        return Ok(());
    }
    let req = PruneRequest {
        repo: &sysroot_path.join("ostree/repo"),
        keep: &keep,
    };
    let pruned =
        Helper::<serde_json::Value, Pruned>::spawn_program(&PROGRAM, "prune", &req, cancellable)?
            .wait(STALL, |_| {})?;
    if !pruned.removed.is_empty() || pruned.layers_pruned > 0 {
        glib::g_message!(
            "rpm-ostreed",
            "Pruned container images {:?} and {} layers",
            pruned.removed,
            pruned.layers_pruned
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_refs_unescape_to_the_images_they_name() {
        assert_eq!(
            unescape_image_ref("docker_3A__2F__2F_127_2E_0_2E_0_2E_1_3A_5000/testos_3A_v1")
                .as_deref(),
            Some("docker://127.0.0.1:5000/testos:v1")
        );
        assert_eq!(
            unescape_image_ref("oci_3A__2F_tmp/a__b/img_3A_stable").as_deref(),
            Some("oci:/tmp/a_b/img:stable")
        );
        assert_eq!(unescape_image_ref("x_3A"), None);
        assert_eq!(unescape_image_ref("x_ZZ_"), None);
    }

    #[test]
    fn the_helpers_lines_decode() {
        let p: ImportProgress = serde_json::from_str(
            r#"{"message": "Fetching layer sha256:ab (3.0 MB)", "layers_fetched": 0,
                "layers_total": 1, "bytes_fetched": 0, "bytes_total": 3145728}"#,
        )
        .unwrap();
        assert_eq!(p.layers_total, 1);
        let d: Imported = serde_json::from_str(
            r#"{"imgref": "ostree-unverified-image:oci:/d:v1", "changed": true,
                "merge_commit": "abc", "base_commit": null, "manifest_digest": "sha256:1",
                "version": "1", "manifest_diff": null}"#,
        )
        .unwrap();
        assert_eq!(d.merge_commit, "abc");
        assert_eq!(d.version.as_deref(), Some("1"));
    }
}
