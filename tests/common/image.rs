//! What the container-origin tests share: images of the test bed's commits
//! (`rpm-ostree compose container-encapsulate`), derived images with an
//! extra plain tar layer, pushes into a loopback registry, and the image
//! refs of the sysroot's repository.

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;

use super::layer::ostree_repo;
use super::*;

/// `rpm-ostree compose container-encapsulate` of the test bed's commit `rev`.
pub fn encapsulate(bed: &Bed, rev: &str, imgref: &str) {
    let repo = format!("--repo={}", bed.world("REMOTE"));
    let out = Command::new(BIN)
        .args(["compose", "container-encapsulate", &repo, rev, imgref])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.starts_with("Pushed digest: sha256:"),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The `oci:` image (layout directory, reference with its `stable` tag) of
/// the test bed's v1 commit, made with `compose container-encapsulate`.
pub fn image_of_v1(bed: &Bed) -> (PathBuf, String) {
    let layout = bed.tb.join("images/testos");
    std::fs::create_dir_all(layout.parent().unwrap()).unwrap();
    let oci = format!("oci:{}:stable", layout.display());
    encapsulate(bed, &bed.world("CSUM_V1"), &oci);
    (layout, oci)
}

/// The image refs (`ostree/container/image/...`) of the sysroot's repository.
pub fn image_refs(bed: &Bed) -> Vec<String> {
    ostree_repo(bed, &["refs"])
        .lines()
        .filter(|l| l.starts_with("ostree/container/image/"))
        .map(String::from)
        .collect()
}

/// `skopeo copy` of an image into the loopback registry.
pub fn push(from: &str, to: &str) {
    let out = Command::new("skopeo")
        .args(["copy", "--quiet", "--dest-tls-verify=false", from, to])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn blob(layout: &Path, digest: &str) -> PathBuf {
    layout
        .join("blobs/sha256")
        .join(digest.trim_start_matches("sha256:"))
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Writes `data` as a blob of `layout`: its digest and size.
fn put_blob(layout: &Path, data: &[u8]) -> (String, usize) {
    let tmp = layout.join("blob.tmp");
    std::fs::write(&tmp, data).unwrap();
    let digest = format!("sha256:{}", sha256_of(&tmp));
    std::fs::rename(&tmp, blob(layout, &digest)).unwrap();
    (digest, data.len())
}

fn sha256_of(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()[..64].to_string()
}

/// The manifest descriptor of `tag` in `layout`'s index.
fn descriptor(index: &Value, tag: &str) -> Value {
    index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["annotations"]["org.opencontainers.image.ref.name"] == tag)
        .unwrap_or_else(|| panic!("no tag {tag} in {index}"))
        .clone()
}

/// How many layers the manifest of `tag` in `layout` has.
pub fn manifest_layers(layout: &Path, tag: &str) -> usize {
    let index = read_json(&layout.join("index.json"));
    let manifest = read_json(&blob(
        layout,
        descriptor(&index, tag)["digest"].as_str().unwrap(),
    ));
    manifest["layers"].as_array().unwrap().len()
}

/// Derives an image as a container build would: `layout`'s `tag` gets the
/// image it names plus one plain (non-ostree) gzip tar layer holding
/// `dir`'s contents (a `.wh.NAME` file deletes NAME of the layers below).
/// The tag moves to the new manifest; returns its digest.
pub fn derive_image(layout: &Path, tag: &str, dir: &Path) -> String {
    let index_path = layout.join("index.json");
    let mut index = read_json(&index_path);
    let manifest = read_json(&blob(
        layout,
        descriptor(&index, tag)["digest"].as_str().unwrap(),
    ));
    let mut config = read_json(&blob(
        layout,
        manifest["config"]["digest"].as_str().unwrap(),
    ));
    let tar = layout.join("layer.tar");
    let status = Command::new("tar")
        .args([
            "--sort=name",
            "--owner=0",
            "--group=0",
            "--numeric-owner",
            "-cf",
        ])
        .arg(&tar)
        .arg("-C")
        .arg(dir)
        .arg(".")
        .status()
        .unwrap();
    assert!(status.success());
    // diff_ids are the digests of the uncompressed layers.
    let diff_id = format!("sha256:{}", sha256_of(&tar));
    let out = Command::new("gzip")
        .args(["-n", "-c"])
        .arg(&tar)
        .output()
        .unwrap();
    assert!(out.status.success());
    std::fs::remove_file(&tar).unwrap();
    let (layer_digest, layer_size) = put_blob(layout, &out.stdout);
    config["rootfs"]["diff_ids"]
        .as_array_mut()
        .unwrap()
        .push(json!(diff_id));
    let created = config["created"].clone();
    config["history"]
        .as_array_mut()
        .unwrap()
        .push(json!({"created": created, "created_by": "derive_image"}));
    let (config_digest, config_size) = put_blob(layout, config.to_string().as_bytes());
    let mut layers = manifest["layers"].as_array().unwrap().clone();
    layers.push(json!({
        "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
        "digest": layer_digest,
        "size": layer_size,
    }));
    let new_manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": config_digest,
            "size": config_size,
        },
        "layers": layers,
    });
    let (digest, size) = put_blob(layout, new_manifest.to_string().as_bytes());
    let manifests = index["manifests"].as_array_mut().unwrap();
    manifests.retain(|m| m["annotations"]["org.opencontainers.image.ref.name"] != tag);
    manifests.push(json!({
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": digest,
        "size": size,
        "annotations": {"org.opencontainers.image.ref.name": tag},
    }));
    std::fs::write(&index_path, index.to_string()).unwrap();
    digest
}

/// The `oci*` directories skopeo makes in /var/tmp (it unpacks an
/// `oci-archive:` there), sorted.
pub fn var_tmp_oci() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir("/var/tmp")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("oci"))
        .collect();
    v.sort();
    v
}
