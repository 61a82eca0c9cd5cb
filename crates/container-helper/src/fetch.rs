//! `import` and `check`: ostree-ext's `ImageImporter` (prepare, then import
//! with its layer and byte progress channels); for `ostree-image-signed:`
//! the signature policy (policy.rs) between the two.

use crate::args::Fetch;
use crate::output::Out;
use crate::policy;
use anyhow::{Context, Result};
use ostree_ext::container::store::{
    self, ImageImporter, ImportProgress, LayerProgress, LayeredImageState, PrepareResult,
};
use ostree_ext::container::{ManifestDiff, OstreeImageReference};
use ostree_ext::containers_image_proxy::{ImageProxy, ImageProxyConfig};
use ostree_ext::gio;
use ostree_ext::oci_spec::image::{Descriptor, ImageManifest};
use serde::Serialize;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};

/// Parses an `ostree-*:` image reference, naming it when it is malformed.
pub fn parse_imgref(s: &str) -> Result<OstreeImageReference> {
    OstreeImageReference::try_from(s).with_context(|| format!("Invalid image reference '{s}'"))
}

/// The layer figures of upstream's `manifest-diff` dict (its key names).
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Diff {
    pub total: u64,
    #[serde(rename = "total-size")]
    pub total_size: u64,
    #[serde(rename = "n-removed")]
    pub n_removed: u64,
    #[serde(rename = "removed-size")]
    pub removed_size: u64,
    #[serde(rename = "n-added")]
    pub n_added: u64,
    #[serde(rename = "added-size")]
    pub added_size: u64,
}

fn diff(from: &ImageManifest, to: &ImageManifest) -> Diff {
    let d = ManifestDiff::new(from, to);
    Diff {
        total: d.total,
        total_size: d.total_size,
        n_removed: d.n_removed,
        removed_size: d.removed_size,
        n_added: d.n_added,
        added_size: d.added_size,
    }
}

/// One `{"progress": ...}` line of `import`.
#[derive(Debug, Serialize)]
pub struct Progress {
    /// What is happening, for humans ("Fetching layer sha256:… (3.0 MB)").
    pub message: String,
    pub layers_fetched: u32,
    pub layers_total: u32,
    pub bytes_fetched: u64,
    pub bytes_total: u64,
}

/// The `{"done": ...}` of `import`.
#[derive(Debug, Serialize)]
pub struct Imported {
    pub imgref: String,
    /// False when the stored image was already current (nothing fetched).
    pub changed: bool,
    pub merge_commit: String,
    pub base_commit: String,
    pub manifest_digest: String,
    /// The image's version label, if any.
    pub version: Option<String>,
    /// Against the image stored before, if there was one and it changed.
    pub manifest_diff: Option<Diff>,
}

/// The `{"done": ...}` of `check`.
#[derive(Debug, Serialize)]
pub struct Checked {
    pub imgref: String,
    /// Whether the repository holds this image at all.
    pub stored: bool,
    /// Whether the stored image is what the reference names now.
    pub current: bool,
    pub stored_digest: Option<String>,
    pub stored_version: Option<String>,
    pub manifest_digest: String,
    pub version: Option<String>,
    /// Stored image → the one the reference names (null when not stored).
    pub manifest_diff: Option<Diff>,
}

fn open_repo(path: &str) -> Result<ostree_ext::ostree::Repo> {
    let repo = ostree_ext::ostree::Repo::new_for_path(path);
    repo.open(ostree_ext::gio::Cancellable::NONE)
        .with_context(|| format!("Opening repository {path}"))?;
    Ok(repo)
}

/// An importer whose `prepare` also enforces the signature policy.
struct Importer {
    imp: ImageImporter,
    imgref: OstreeImageReference,
    repo: ostree_ext::ostree::Repo,
    /// For `ostree-image-signed:`: what the policy requires of the image,
    /// chosen before anything is fetched.
    policy: Option<policy::Check>,
    /// skopeo's temporary directory; dropped after `imp` (fields drop in
    /// order), so after skopeo is gone.
    _scratch: tempfile::TempDir,
}

/// How skopeo's image proxy is started for `req`: bound to this process
/// (`setpriv --pdeathsig`, as the library's default does), with `scratch` as
/// its temporary directory: it unpacks an `oci-archive:` there, and leaves
/// it behind when it is stopped before the image is closed (an image
/// already present is never closed), so the caller removes `scratch`.
fn proxy_config(req: &Fetch, scratch: &std::path::Path) -> ImageProxyConfig {
    let mut skopeo = std::process::Command::new("setpriv");
    skopeo
        .args(["--pdeathsig", "SIGTERM", "--", "skopeo", "--tmpdir"])
        .arg(scratch);
    ImageProxyConfig {
        insecure_skip_tls_verification: req.insecure_skip_tls_verification.then_some(true),
        skopeo_cmd: Some(skopeo),
        ..Default::default()
    }
}

/// A temporary directory for skopeo in `repo`'s tmp/ (the system's when
/// the repository has none), removed when dropped.
fn scratch_dir(repo: &str) -> Result<tempfile::TempDir> {
    let tmp = std::path::Path::new(repo).join("tmp");
    let parent = if tmp.is_dir() {
        tmp
    } else {
        std::env::temp_dir()
    };
    tempfile::Builder::new()
        .prefix("rpm-ostreed-container.")
        .tempdir_in(&parent)
        .with_context(|| format!("Creating a temporary directory in {}", parent.display()))
}

async fn importer(req: &Fetch) -> Result<Importer> {
    let imgref = parse_imgref(&req.imgref)?;
    let repo = open_repo(&req.repo)?;
    let policy = policy::Check::for_imgref(&imgref)?;
    let scratch = scratch_dir(&req.repo)?;
    let imp = ImageImporter::new(&repo, &imgref, proxy_config(req, scratch.path())).await?;
    Ok(Importer {
        imp,
        imgref,
        repo,
        policy,
        _scratch: scratch,
    })
}

impl Importer {
    /// ostree-ext's `prepare` (the manifest and config, no layer), then the
    /// policy on the manifest's digest. A refused image leaves the
    /// repository as it was: `prepare` caches a newer manifest on the stored
    /// image, and that is put back.
    async fn prepare(&mut self) -> Result<PrepareResult> {
        let Some(check) = &self.policy else {
            return self.imp.prepare().await;
        };
        let stored = store::query_image(&self.repo, &self.imgref.imgref)?;
        let saved = stored
            .as_ref()
            .map(|s| {
                let meta = self
                    .repo
                    .read_commit_detached_metadata(&s.merge_commit, gio::Cancellable::NONE)?;
                anyhow::Ok((s.merge_commit.clone(), meta))
            })
            .transpose()?;
        let prep = self.imp.prepare().await?;
        let digest = match &prep {
            PrepareResult::AlreadyPresent(s) => s.manifest_digest.to_string(),
            PrepareResult::Ready(p) => p.manifest_digest.to_string(),
        };
        if let Err(refused) = check.enforce(&digest) {
            if let Some((commit, meta)) = saved {
                self.repo
                    .write_commit_detached_metadata(&commit, meta.as_ref(), gio::Cancellable::NONE)
                    .context("Restoring the stored image's metadata")?;
            }
            return Err(refused);
        }
        Ok(prep)
    }
}

fn state_done(imgref: &OstreeImageReference, s: &LayeredImageState, changed: bool) -> Imported {
    Imported {
        imgref: imgref.to_string(),
        changed,
        merge_commit: s.merge_commit.clone(),
        base_commit: s.base_commit.clone(),
        manifest_digest: s.manifest_digest.to_string(),
        version: s.version().map(String::from),
        manifest_diff: None,
    }
}

/// `import`: pulls the image into the repository; its image ref is set last,
/// in the same ostree transaction as the merge commit.
pub async fn import(req: &Fetch, out: &Out) -> Result<Imported> {
    let mut im = importer(req).await?;
    let prep = match im.prepare().await? {
        PrepareResult::AlreadyPresent(s) => return Ok(state_done(&im.imgref, &s, false)),
        PrepareResult::Ready(p) => p,
    };
    let manifest_diff = prep
        .previous_state
        .as_ref()
        .map(|prev| diff(&prev.manifest, &prep.manifest));
    let mut todo = Totals::default();
    for l in prep.layers_to_fetch() {
        let (layer, _) = l?;
        todo.layers += 1;
        todo.bytes += layer.layer().size();
    }
    out.progress(Progress {
        message: format!(
            "Layers needed: {} of {} ({})",
            todo.layers,
            prep.all_layers().count(),
            ostree_ext::glib::format_size(todo.bytes)
        ),
        layers_fetched: 0,
        layers_total: todo.layers,
        bytes_fetched: 0,
        bytes_total: todo.bytes,
    });
    let layers = im.imp.request_progress();
    let bytes = im.imp.request_layer_progress();
    let (state, ()) = tokio::join!(im.imp.import(prep), forward(layers, bytes, todo, out));
    let state = state?;
    let mut done = state_done(&im.imgref, &state, true);
    done.manifest_diff = manifest_diff;
    Ok(done)
}

#[derive(Debug, Default, Clone, Copy)]
struct Totals {
    layers: u32,
    bytes: u64,
}

/// Turns the importer's two channels into progress lines, until both close
/// (the importer is gone). Byte lines at most every 100 ms.
async fn forward(
    mut layers: mpsc::Receiver<ImportProgress>,
    mut bytes: watch::Receiver<Option<LayerProgress>>,
    todo: Totals,
    out: &Out,
) {
    let mut fetched = Totals::default();
    let mut bytes_open = true;
    let mut last = Instant::now();
    let line = |message: String, fetched: Totals, current: u64| Progress {
        message,
        layers_fetched: fetched.layers,
        layers_total: todo.layers,
        bytes_fetched: (fetched.bytes + current).min(todo.bytes.max(fetched.bytes)),
        bytes_total: todo.bytes,
    };
    loop {
        tokio::select! {
            biased;
            l = layers.recv() => {
                let Some(l) = l else { break };
                let (starting, d): (bool, &Descriptor) = match &l {
                    ImportProgress::OstreeChunkStarted(d)
                    | ImportProgress::DerivedLayerStarted(d) => (true, d),
                    ImportProgress::OstreeChunkCompleted(d)
                    | ImportProgress::DerivedLayerCompleted(d) => (false, d),
                };
                let message = if starting {
                    format!(
                        "Fetching layer {} ({})",
                        d.digest(),
                        ostree_ext::glib::format_size(d.size())
                    )
                } else {
                    fetched.layers += 1;
                    fetched.bytes += d.size();
                    format!("Fetched layer {}", d.digest())
                };
                // A new layer starts from 0; a completed one is in `fetched`.
                out.progress(line(message, fetched, 0));
            }
            r = bytes.changed(), if bytes_open => {
                if r.is_err() {
                    bytes_open = false;
                    continue;
                }
                let Some(p) = bytes.borrow_and_update().as_ref().map(|p| (p.fetched, p.total))
                else {
                    continue;
                };
                if p.0 == p.1 || last.elapsed() >= Duration::from_millis(100) {
                    last = Instant::now();
                    out.progress(line(
                        format!("Fetching: {} of {}", p.0, p.1),
                        fetched,
                        p.0,
                    ));
                }
            }
        }
    }
}

/// `check`: fetches the manifest and config only, through a proxy of its own
/// that is closed and waited for (skopeo unpacks an `oci-archive:` into
/// /var/tmp and removes it only when it ends cleanly; ostree-ext's
/// `prepare` alone would leave it killed). Nothing is written: the daemon
/// keeps the cached update itself.
pub async fn check(req: &Fetch) -> Result<Checked> {
    let imgref = parse_imgref(&req.imgref)?;
    let repo = open_repo(&req.repo)?;
    let policy = policy::Check::for_imgref(&imgref)?;
    let scratch = scratch_dir(&req.repo)?;
    let proxy = ImageProxy::new_with_config(proxy_config(req, scratch.path())).await?;
    let img = proxy
        .open_image(&imgref.imgref.to_string())
        .await
        .context("Opening the image")?;
    let (digest, manifest) = proxy
        .fetch_manifest(&img)
        .await
        .context("Fetching manifest")?;
    let image_config = proxy.fetch_config(&img).await.context("Fetching config")?;
    proxy.close_image(&img).await?;
    proxy.finalize().await?;
    if let Some(check) = &policy {
        check.enforce(&digest)?;
    }
    let stored = store::query_image(&repo, &imgref.imgref)?;
    let version = ostree_ext::container::version_for_config(&image_config).map(String::from);
    Ok(Checked {
        imgref: imgref.to_string(),
        stored: stored.is_some(),
        current: stored
            .as_ref()
            .is_some_and(|s| s.manifest_digest.to_string() == digest),
        stored_digest: stored.as_ref().map(|s| s.manifest_digest.to_string()),
        stored_version: stored.as_ref().and_then(|s| s.version().map(String::from)),
        manifest_digest: digest,
        version,
        manifest_diff: stored.as_ref().map(|s| diff(&s.manifest, &manifest)),
    })
}
