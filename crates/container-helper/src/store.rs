//! `encapsulate` (ostree commit → image) and `prune` (the image store's own
//! cleanup).

use crate::args::{Encapsulate, Prune};
use anyhow::{Context, Result};
use ostree_ext::container::{store, Config, ImageReference, OstreeImageReference};
use serde::Serialize;

fn open_repo(path: &str) -> Result<ostree_ext::ostree::Repo> {
    let repo = ostree_ext::ostree::Repo::new_for_path(path);
    repo.open(ostree_ext::gio::Cancellable::NONE)
        .with_context(|| format!("Opening repository {path}"))?;
    Ok(repo)
}

/// Parses a plain image reference (`oci:/dir:tag`, `docker://host/name:tag`,
/// ...), naming it when it is malformed.
fn parse_plain(s: &str) -> Result<ImageReference> {
    ImageReference::try_from(s).with_context(|| format!("Invalid image reference '{s}'"))
}

/// The `{"done": ...}` of `encapsulate`.
#[derive(Debug, Serialize)]
pub struct Encapsulated {
    pub imgref: String,
    pub manifest_digest: String,
}

pub async fn encapsulate(req: &Encapsulate) -> Result<Encapsulated> {
    let dest = parse_plain(&req.imgref)?;
    let repo = open_repo(&req.repo)?;
    let config = Config {
        labels: Some(req.labels.clone()),
        cmd: None,
    };
    let digest = ostree_ext::container::encapsulate(&repo, &req.rev, &config, None, &dest)
        .await
        .with_context(|| format!("Encapsulating {} as {dest}", req.rev))?;
    Ok(Encapsulated {
        imgref: dest.to_string(),
        manifest_digest: digest.to_string(),
    })
}

/// The `{"done": ...}` of `prune`.
#[derive(Debug, Serialize)]
pub struct Pruned {
    /// Images removed (their plain references, as stored).
    pub removed: Vec<String>,
    /// Images kept.
    pub kept: Vec<String>,
    /// Layer refs garbage-collected.
    pub layers_pruned: u32,
}

/// A `--keep` value: an `ostree-*:` reference or a plain one.
fn keep_key(s: &str) -> Result<String> {
    if let Ok(r) = OstreeImageReference::try_from(s) {
        return Ok(r.imgref.to_string());
    }
    Ok(parse_plain(s)?.to_string())
}

/// `prune`: removes every stored image the caller does not keep, then the
/// layers no image and no deployment uses. The ostree objects they leave go
/// with the caller's ordinary `ostree prune`.
pub fn prune(req: &Prune) -> Result<Pruned> {
    let keep = req
        .keep
        .iter()
        .map(|k| keep_key(k))
        .collect::<Result<Vec<_>>>()?;
    let repo = open_repo(&req.repo)?;
    let (kept, removed): (Vec<String>, Vec<String>) = store::list_images(&repo)
        .context("Listing images")?
        .into_iter()
        .partition(|i| keep.contains(i));
    let refs = removed
        .iter()
        .map(|i| parse_plain(i))
        .collect::<Result<Vec<_>>>()?;
    store::remove_images(&repo, refs.iter()).context("Removing images")?;
    let layers_pruned = store::gc_image_layers(&repo)?;
    Ok(Pruned {
        removed,
        kept,
        layers_pruned,
    })
}
