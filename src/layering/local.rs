//! Local RPMs: files a client hands over as descriptors (`install-local-packages`,
//! `override-replace-local-packages`). Each is copied, checked to be a binary
//! RPM for this machine, and imported into the pkgcache at once; the origin
//! then records it as `<sha256>:<nevra>` (the sha256 of its lead, signature
//! and header), so later layerings find it there, without the file: its
//! header, written to a file, is what the depsolve reads.

use anyhow::{Context, Result, anyhow, bail};
use gio::prelude::*;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::import;
use super::nevra::Package;
use super::pkgcache::{self, CachedPackage};
use super::rpmmd::ResolvedPackage;
use super::selinux::Labeler;

/// The repository name of packages from files.
pub(crate) const CMDLINE_REPO: &str = "@commandline";

/// A local RPM in the pkgcache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Imported {
    /// `<sha256>:<nevra>`, as the origin records it.
    pub entry: String,
    pub name: String,
    pub nevra: String,
    /// The pkgcache ref and what it pointed to before, when this import set
    /// it (what undoing the import puts back: no commit, or the earlier
    /// import of that NEVRA, which a deployment may still name).
    pub set_ref: Option<(String, Option<String>)>,
}

pub(crate) use crate::deployment::origin::entry_nevra;

/// The package name of an origin entry.
pub(crate) fn entry_name(entry: &str) -> Option<String> {
    Package::parse_nevra(entry_nevra(entry)).map(|p| p.name)
}

/// The rpm architectures this machine installs besides `noarch`.
fn machine_arches() -> &'static [&'static str] {
    match std::env::consts::ARCH {
        "x86_64" => &["x86_64", "i686", "i586", "i486", "i386", "athlon"],
        "x86" => &["i686", "i586", "i486", "i386"],
        "aarch64" => &["aarch64"],
        "powerpc64" => &["ppc64le", "ppc64"],
        "s390x" => &["s390x"],
        "riscv64" => &["riscv64"],
        _ => &[],
    }
}

/// Copies what `file` holds (from its start, whatever its offset) to `dest`.
fn copy_from_start(file: &File, dest: &Path) -> Result<()> {
    let mut out = File::create(dest)?;
    let mut buf = vec![0u8; 1 << 16];
    let mut offset = 0u64;
    loop {
        let n = file.read_at(&mut buf, offset)?;
        if n == 0 {
            break;
        }
        out.write_all(&buf[..n])?;
        offset += n as u64;
    }
    Ok(())
}

/// The package `path` is, checked: a binary RPM for this machine.
fn read_package(path: &Path) -> Result<(ResolvedPackage, String)> {
    let (header, meta) = import::header_bytes(path)?;
    if meta.is_source_package() {
        bail!("it is a source RPM");
    }
    let text = |r: Result<&str, rpm::Error>| r.map(String::from).map_err(|e| anyhow!("{e}"));
    let pkg = Package {
        name: text(meta.get_name())?,
        epoch: meta.get_epoch().map(u64::from).unwrap_or(0),
        version: text(meta.get_version())?,
        release: text(meta.get_release())?,
        arch: text(meta.get_arch())?,
    };
    let nevra = pkg.nevra();
    if pkg.arch != "noarch" && !machine_arches().contains(&pkg.arch.as_str()) {
        bail!(
            "{nevra} is for architecture {}, not this machine's ({})",
            pkg.arch,
            std::env::consts::ARCH
        );
    }
    let sha256 = import::sha256_hex(&header);
    let size = std::fs::metadata(path)?.len();
    Ok((
        ResolvedPackage {
            nevra,
            name: pkg.name,
            epoch: pkg.epoch,
            version: pkg.version,
            release: pkg.release,
            arch: pkg.arch,
            repo: CMDLINE_REPO.to_string(),
            checksum: format!("sha256:{sha256}"),
            size,
            path: Some(path.to_path_buf()),
        },
        sha256,
    ))
}

/// The `rpmostree.metadata_sha256` of a pkgcache commit.
fn metadata_sha256(repo: &ostree::Repo, p: &CachedPackage) -> Option<String> {
    let (c, _) = repo.load_commit(&p.commit).ok()?;
    glib::VariantDict::new(Some(&c.child_value(0)))
        .lookup::<String>("rpmostree.metadata_sha256")
        .ok()
        .flatten()
}

/// Imports the RPMs `files` (in the order given) into the pkgcache of
/// `repo` (`cached`: its index before), using `work` (an empty directory on
/// the repository's filesystem)
/// as scratch; one that is not a readable binary RPM for this machine is
/// refused, naming it by its place in the list.
pub(crate) fn import_files(
    repo: &ostree::Repo,
    cached: &BTreeMap<String, CachedPackage>,
    files: &[File],
    work: &Path,
    labeler: Option<&Labeler>,
    cancellable: &gio::Cancellable,
) -> Result<Vec<Imported>> {
    let mut out: Vec<Imported> = Vec::new();
    for (i, file) in files.iter().enumerate() {
        if cancellable.is_cancelled() {
            bail!("Operation was cancelled");
        }
        let what = || format!("Local package {} (descriptor {i})", i + 1);
        let meta = file.metadata().with_context(what)?;
        if !meta.is_file() {
            return Err(anyhow!("not a regular file")).with_context(what);
        }
        let path = work.join(format!("local-{i}.rpm"));
        copy_from_start(file, &path).with_context(what)?;
        let (pkg, sha256) = read_package(&path)
            .map_err(|e| anyhow!("not a readable RPM: {e:#}"))
            .with_context(what)?;
        let entry = format!("{sha256}:{}", pkg.nevra);
        if out.iter().any(|o| o.nevra == pkg.nevra) {
            bail!("Package '{}' is given more than once", pkg.nevra);
        }
        let have = cached.get(&pkg.nevra);
        let same = have.is_some_and(|c| {
            metadata_sha256(repo, c).as_deref() == Some(sha256.as_str())
                && c.sepolicy.as_ref() == labeler.map(|l| &l.csum)
        });
        if !same {
            let dir = import::workdir(work, &pkg.nevra);
            import::import(repo, &pkg, &path, &dir, labeler, cancellable)?;
            let _ = std::fs::remove_dir_all(&dir);
        }
        let _ = std::fs::remove_file(&path);
        out.push(Imported {
            entry,
            set_ref: (!same).then(|| {
                (
                    pkgcache::cache_ref(&pkg.name, &import::evr(&pkg), &pkg.arch),
                    have.map(|c| c.commit.clone()),
                )
            }),
            name: pkg.name,
            nevra: pkg.nevra,
        });
    }
    Ok(out)
}

/// Puts back the pkgcache refs the imports set (a transaction that failed
/// after them leaves nothing cached that no deployment uses, and what was
/// cached before as it was).
pub(crate) fn undo(repo: &ostree::Repo, imported: &[Imported]) {
    for (r, before) in imported.iter().filter_map(|i| i.set_ref.as_ref()) {
        let _ = repo.set_ref_immediate(None, r, before.as_deref(), gio::Cancellable::NONE);
    }
}

/// Writes into `dir` the header (lead, signature and header: an RPM without
/// its payload) of each local package of `entries` from the pkgcache, and
/// returns the files; an entry whose package is not cached with that
/// checksum is an error naming it.
pub(crate) fn header_files<'a>(
    repo: &ostree::Repo,
    cached: &BTreeMap<String, CachedPackage>,
    entries: impl IntoIterator<Item = &'a String>,
    dir: &Path,
) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in entries {
        let nevra = entry_nevra(entry);
        let sha256 = entry.split_once(':').map(|(s, _)| s);
        let found = cached
            .get(nevra)
            .filter(|c| sha256.is_none() || metadata_sha256(repo, c).as_deref() == sha256);
        let Some(c) = found else {
            bail!("Failed to find cached package for '{nevra}'; install it again from its file");
        };
        let (header, _) = c.header(repo)?;
        std::fs::create_dir_all(dir)?;
        let path = dir.join(format!("{nevra}.rpm"));
        std::fs::write(&path, header)?;
        out.push(path);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_name_their_package() {
        let e = "0123abcd:tp-tool-1:2.0-3.noarch";
        assert_eq!(entry_nevra(e), "tp-tool-1:2.0-3.noarch");
        assert_eq!(entry_name(e).as_deref(), Some("tp-tool"));
        assert_eq!(entry_nevra("tp-a-1.0-1.noarch"), "tp-a-1.0-1.noarch");
    }

    fn built(arch: &str, dir: &Path) -> PathBuf {
        let path = dir.join(format!("tp-arch-1.0-1.{arch}.rpm"));
        rpm::PackageBuilder::new("tp-arch", "1.0", "MIT", arch, "an arch test")
            .release("1")
            .build()
            .unwrap()
            .write_file(&path)
            .unwrap();
        path
    }

    #[test]
    fn packages_for_other_machines_are_refused() {
        let dir = std::env::temp_dir().join(format!("local-arch-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let other = if std::env::consts::ARCH == "aarch64" {
            "x86_64"
        } else {
            "aarch64"
        };
        let err = read_package(&built(other, &dir)).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "tp-arch-1.0-1.{other} is for architecture {other}, not this machine's ({})",
                std::env::consts::ARCH
            )
        );
        let (pkg, sha256) = read_package(&built("noarch", &dir)).unwrap();
        assert_eq!(pkg.nevra, "tp-arch-1.0-1.noarch");
        assert_eq!(pkg.repo, CMDLINE_REPO);
        assert_eq!(sha256.len(), 64);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
