//! `encapsulate` (ostree commit → image) and `prune` (the image store's own
//! cleanup).

use crate::args::{Component, Encapsulate, Prune};
use anyhow::{Context, Result};
use ostree_ext::chunking::ObjectMetaSized;
use ostree_ext::container::ExportOpts;
use ostree_ext::container::{store, Config, ImageReference, OstreeImageReference};
use ostree_ext::objectsource::{ObjectMeta, ObjectMetaMap, ObjectMetaSet, ObjectSourceMeta};
use serde::Serialize;
use std::rc::Rc;

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
    let meta = if req.components.is_empty() {
        None
    } else {
        Some(content_meta(&repo, &req.rev, &req.components)?)
    };
    let mut opts = ExportOpts::default();
    opts.max_layers = req.max_layers;
    opts.contentmeta = meta.as_ref();
    let digest = ostree_ext::container::encapsulate(&repo, &req.rev, &config, Some(opts), &dest)
        .await
        .with_context(|| format!("Encapsulating {} as {dest}", req.rev))?;
    Ok(Encapsulated {
        imgref: dest.to_string(),
        manifest_digest: digest.to_string(),
    })
}

/// The component of the tree's files no package owns.
const UNPACKAGED: &str = "rpmostree-unpackaged-content";

/// Which component owns each content object of `rev`'s tree, with the
/// components' sizes: what ostree-ext packs into layers (a component's
/// files together). Files no component owns form a component of their own.
fn content_meta(
    repo: &ostree_ext::ostree::Repo,
    rev: &str,
    components: &[Component],
) -> Result<ObjectMetaSized> {
    let (root, _) = repo
        .read_commit(rev, ostree_ext::gio::Cancellable::NONE)
        .with_context(|| format!("Reading commit {rev}"))?;
    let mut files = Vec::new();
    walk(&root, "", &mut files).with_context(|| format!("Reading the tree of {rev}"))?;
    let by_path: std::collections::HashMap<&str, &str> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    let mut set = ObjectMetaSet::new();
    let mut map = ObjectMetaMap::new();
    for c in components {
        let id = add_source(
            &mut set,
            &c.identifier,
            &c.name,
            &c.srcid,
            c.change_time_offset,
            c.change_frequency,
        );
        for path in &c.paths {
            let rel = path.trim_start_matches('/');
            let rel = match rel.strip_prefix("etc/") {
                Some(rest) => format!("usr/etc/{rest}"),
                None => rel.to_string(),
            };
            if let Some(checksum) = by_path.get(rel.as_str()) {
                // A file two packages own goes with the first.
                map.entry(checksum.to_string())
                    .or_insert_with(|| Rc::clone(&id));
            }
        }
    }
    let unowned: Vec<&str> = files
        .iter()
        .map(|(_, c)| c.as_str())
        .filter(|c| !map.contains_key(*c))
        .collect();
    if !unowned.is_empty() {
        let id = add_source(
            &mut set,
            UNPACKAGED,
            UNPACKAGED,
            UNPACKAGED,
            u32::MAX,
            u32::MAX,
        );
        for c in unowned {
            map.entry(c.to_string()).or_insert_with(|| Rc::clone(&id));
        }
    }
    // A package whose files are all directories (or owned by an earlier one)
    // has no object: ostree-ext's packing wants none such.
    let used: std::collections::HashSet<&str> = map.values().map(|id| &**id).collect();
    set.retain(|m| used.contains(&*m.identifier));
    ObjectMetaSized::compute_sizes(repo, ObjectMeta { set, map })
        .context("Sizing the tree's components")
}

/// Adds a component to `set`; its identifier.
fn add_source(
    set: &mut ObjectMetaSet,
    id: &str,
    name: &str,
    srcid: &str,
    time: u32,
    freq: u32,
) -> Rc<str> {
    let id: Rc<str> = Rc::from(id);
    set.insert(ObjectSourceMeta {
        identifier: Rc::clone(&id),
        name: Rc::from(name),
        srcid: Rc::from(srcid),
        change_time_offset: time,
        change_frequency: freq,
    });
    id
}

/// Every regular file and symlink under `dir` (a directory of a commit):
/// (path relative to the root, content checksum).
fn walk(dir: &ostree_ext::gio::File, rel: &str, out: &mut Vec<(String, String)>) -> Result<()> {
    use ostree_ext::gio::prelude::*;
    use ostree_ext::gio::{FileQueryInfoFlags, FileType};
    let cancellable = ostree_ext::gio::Cancellable::NONE;
    let children = dir.enumerate_children(
        "standard::name,standard::type",
        FileQueryInfoFlags::NOFOLLOW_SYMLINKS,
        cancellable,
    )?;
    while let Some(info) = children.next_file(cancellable)? {
        let name = info.name();
        let name = name.to_string_lossy();
        let path = if rel.is_empty() {
            name.to_string()
        } else {
            format!("{rel}/{name}")
        };
        let child = children.child(&info);
        match info.file_type() {
            FileType::Directory => walk(&child, &path, out)?,
            FileType::Regular | FileType::SymbolicLink => {
                let file = child
                    .downcast::<ostree_ext::ostree::RepoFile>()
                    .map_err(|_| anyhow::anyhow!("{path}: not a file of the repository"))?;
                file.ensure_resolved()?;
                out.push((path, file.checksum().to_string()));
            }
            _ => {}
        }
    }
    Ok(())
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
