//! GPG signature results of deployed commits (`signatures`, type `av`), cached
//! per (remote, commit) in memory and on disk under the runtime directory, so
//! status never pays for a GPG verification twice.

use glib::Variant;
use std::collections::HashMap;
use std::path::PathBuf;

pub(crate) struct SignatureCache {
    dir: Option<PathBuf>,
    memory: HashMap<(String, String), Option<Variant>>,
}

impl SignatureCache {
    /// `dir`: where verified results persist (`<runtime>/gpgcheck-cache`), if anywhere.
    pub(crate) fn new(dir: Option<PathBuf>) -> Self {
        Self {
            dir,
            memory: HashMap::new(),
        }
    }

    fn disk_path(&self, remote: &str, csum: &str) -> Option<PathBuf> {
        // Remote names cannot contain '/', but be safe about what lands in a path.
        if remote.contains('/') || remote.starts_with('.') {
            return None;
        }
        self.dir.as_ref().map(|d| d.join(remote).join(csum))
    }

    /// The signatures of `csum` as verified against `remote`'s keyring, or `None`
    /// when verification fails (no signatures, missing key...).
    pub(crate) fn get(&mut self, repo: &ostree::Repo, remote: &str, csum: &str) -> Option<Variant> {
        let key = (remote.to_string(), csum.to_string());
        if let Some(v) = self.memory.get(&key) {
            return v.clone();
        }
        let path = self.disk_path(remote, csum);
        if let Some(v) = path.as_ref().and_then(read_cached) {
            self.memory.insert(key, Some(v.clone()));
            return Some(v);
        }
        let result = verify(repo, remote, csum);
        if let (Some(v), Some(p)) = (&result, &path) {
            write_cached(p, v);
        }
        self.memory.insert(key, result.clone());
        result
    }

    /// Forgets everything (remote configuration may have changed).
    pub(crate) fn clear(&mut self) {
        self.memory.clear();
    }
}

/// Verifies `csum` for `remote`: `av` of libostree's per-signature attribute tuples.
pub(crate) fn verify(repo: &ostree::Repo, remote: &str, csum: &str) -> Option<Variant> {
    let result = repo
        .verify_commit_for_remote(csum, remote, gio::Cancellable::NONE)
        .ok()?;
    let sigs: Vec<Variant> = (0..result.count_all())
        .map(|i| Variant::from_variant(&result.all(i)))
        .collect();
    Some(Variant::array_from_iter_with_type(
        glib::VariantTy::VARIANT,
        sigs,
    ))
}

fn read_cached(path: &PathBuf) -> Option<Variant> {
    let bytes = std::fs::read(path).ok()?;
    let v = Variant::from_bytes_with_type(
        &glib::Bytes::from_owned(bytes),
        glib::VariantTy::new("av").ok()?,
    );
    v.is_normal_form().then_some(v)
}

fn write_cached(path: &std::path::Path, v: &Variant) {
    let Some(parent) = path.parent() else { return };
    if std::fs::create_dir_all(parent).is_err() {
        return;
    }
    // A cache: a failed write only costs a later recheck.
    let _ = crate::fsutil::write_atomic(path, &v.data_as_bytes(), 0o600);
}
