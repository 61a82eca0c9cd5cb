//! The packages of a commit, read straight from the repository without a
//! checkout: from the commit metadata `rpmostree.rpmdb.pkglist` when it has
//! one (layered commits, composes), else from the sqlite rpm database inside
//! the tree (`usr/share/rpm/rpmdb.sqlite`, or `usr/lib/sysimage/rpm`), whose
//! headers are parsed in Rust. A database in another format is an error
//! naming it, never an empty list.

use anyhow::{Context, Result, anyhow, bail};
use gio::prelude::*;
use glib::Variant;
use std::io::Read;

use crate::nevra::Package;

/// The commit metadata key of a commit's package list (`a(sssss)`: name,
/// epoch, version, release, arch).
pub const PKGLIST_KEY: &str = "rpmostree.rpmdb.pkglist";

/// Where rpm databases live in a tree, in the order they are looked for.
const RPMDB_DIRS: &[&str] = &["usr/share/rpm", "usr/lib/sysimage/rpm"];

/// Database files of the formats other than sqlite, with their names.
const OTHER_FORMATS: &[(&str, &str)] = &[("Packages", "Berkeley DB (bdb)"), ("Packages.db", "ndb")];

/// A package header of an rpm database, with what `db` shows of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub pkg: Package,
    pub sourcerpm: Option<String>,
    /// (time, name, text), newest first, as rpm keeps them.
    pub changelog: Vec<(u64, String, String)>,
}

/// The packages of `commit` in `repo`, sorted by name, version and arch.
pub fn commit_packages(repo: &ostree::Repo, commit: &str) -> Result<Vec<Package>> {
    commit_packages_if_any(repo, commit)?.ok_or_else(|| no_database(commit))
}

/// The packages of `commit` in `repo`, sorted by name, version and arch;
/// `None` when the commit has neither a package list nor an rpm database.
pub fn commit_packages_if_any(repo: &ostree::Repo, commit: &str) -> Result<Option<Vec<Package>>> {
    let (commit_v, _) = repo
        .load_commit(commit)
        .with_context(|| format!("Loading commit {commit}"))?;
    let meta = glib::VariantDict::new(Some(&commit_v.child_value(0)));
    let mut pkgs = match meta.lookup_value(PKGLIST_KEY, None) {
        Some(list) => from_pkglist(&list)?,
        None => match commit_headers_if_any(repo, commit)? {
            Some(headers) => headers.into_iter().map(|h| h.pkg).collect(),
            None => return Ok(None),
        },
    };
    pkgs.sort_by(Package::cmp_list);
    Ok(Some(pkgs))
}

fn no_database(commit: &str) -> anyhow::Error {
    anyhow!("No package database found in commit {commit}")
}

/// Packages of an `a(sssss)` package list.
pub fn from_pkglist(list: &Variant) -> Result<Vec<Package>> {
    let entries: Vec<(String, String, String, String, String)> = list
        .get()
        .ok_or_else(|| anyhow!("{PKGLIST_KEY} has type {}, not a(sssss)", list.type_()))?;
    entries
        .into_iter()
        .map(|(name, epoch, version, release, arch)| {
            let epoch = if epoch.is_empty() {
                0
            } else {
                epoch
                    .parse()
                    .map_err(|_| anyhow!("Invalid epoch '{epoch}' of {name} in {PKGLIST_KEY}"))?
            };
            Ok(Package {
                name,
                epoch,
                version,
                release,
                arch,
            })
        })
        .collect()
}

/// The package list of `pkgs` as commit metadata (`a(sssss)`).
pub fn to_pkglist(pkgs: &[Package]) -> Variant {
    use glib::prelude::*;
    let entries: Vec<(String, String, String, String, String)> = pkgs
        .iter()
        .map(|p| {
            (
                p.name.clone(),
                p.epoch.to_string(),
                p.version.clone(),
                p.release.clone(),
                p.arch.clone(),
            )
        })
        .collect();
    entries.to_variant()
}

/// The package headers of the rpm database inside `commit`'s tree, sorted
/// by name, version and arch.
pub fn commit_headers(repo: &ostree::Repo, commit: &str) -> Result<Vec<Header>> {
    commit_headers_if_any(repo, commit)?.ok_or_else(|| no_database(commit))
}

/// Like [`commit_headers`], `None` when the tree has no rpm database.
pub fn commit_headers_if_any(repo: &ostree::Repo, commit: &str) -> Result<Option<Vec<Header>>> {
    let Some(db) = commit_rpmdb(repo, commit)? else {
        return Ok(None);
    };
    let mut headers =
        headers_of(&db).with_context(|| format!("Reading the rpm database of commit {commit}"))?;
    headers.sort_by(|a, b| a.pkg.cmp_list(&b.pkg));
    Ok(Some(headers))
}

/// A package of a tree with the files it owns, as `compose
/// container-encapsulate` groups a tree's files into image layers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub pkg: Package,
    pub sourcerpm: Option<String>,
    /// Build time, seconds since the epoch.
    pub buildtime: u64,
    pub changelog_entries: usize,
    /// Absolute paths as rpm records them (`/usr/bin/x`, `/etc/x`).
    pub files: Vec<String>,
}

/// The packages of the rpm database inside `commit`'s tree with their
/// files, in database order; `None` when the tree has no rpm database.
pub fn commit_file_owners(repo: &ostree::Repo, commit: &str) -> Result<Option<Vec<Owner>>> {
    let Some(db) = commit_rpmdb(repo, commit)? else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for_each_package(&db, |meta| {
        let header = header_of(meta)?;
        out.push(Owner {
            pkg: header.pkg,
            sourcerpm: header.sourcerpm,
            buildtime: meta.get_build_time().unwrap_or(0),
            changelog_entries: header.changelog.len(),
            files: meta
                .get_file_paths()
                .unwrap_or_default()
                .into_iter()
                .map(|p| p.display().to_string())
                .collect(),
        });
        Ok(())
    })
    .with_context(|| format!("Reading the rpm database of commit {commit}"))?;
    Ok(Some(out))
}

/// The sqlite rpm database inside `commit`'s tree, opened read-only;
/// `None` when the tree has none (a database in another format is an error).
fn commit_rpmdb(repo: &ostree::Repo, commit: &str) -> Result<Option<rusqlite::Connection>> {
    let (root, _) = repo
        .read_commit(commit, gio::Cancellable::NONE)
        .with_context(|| format!("Reading commit {commit}"))?;
    for dir in RPMDB_DIRS {
        let sqlite = root.resolve_relative_path(format!("{dir}/rpmdb.sqlite"));
        if let Some(info) = query(&sqlite) {
            let size = usize::try_from(info.size()).unwrap_or(usize::MAX);
            let what = || format!("Reading {dir}/rpmdb.sqlite of commit {commit}");
            let file = sqlite
                .downcast::<ostree::RepoFile>()
                .map_err(|_| anyhow!("Not a file of the repository"))?;
            file.ensure_resolved().with_context(what)?;
            let checksum = file.checksum();
            let db = match loose_object_path(repo, &checksum) {
                // In a bare repository the object is the file itself: sqlite
                // reads the pages it needs, nothing is copied.
                Some(path) => open_sqlite_file(&path),
                None => {
                    let (stream, _, _) = repo
                        .load_file(&checksum, gio::Cancellable::NONE)
                        .with_context(what)?;
                    let stream = stream.ok_or_else(|| anyhow!("{}: no content", what()))?;
                    load_sqlite(stream.into_read(), size)
                }
            };
            return db
                .map(Some)
                .with_context(|| format!("Reading the rpm database of commit {commit}"));
        }
        for (file, format) in OTHER_FORMATS {
            if query(&root.resolve_relative_path(format!("{dir}/{file}"))).is_some() {
                bail!(
                    "The rpm database of commit {commit} ({dir}/{file}) is in {format} format; \
                     only sqlite rpm databases can be read"
                );
            }
        }
    }
    Ok(None)
}

/// The file's info, if it exists and is a regular file.
fn query(file: &gio::File) -> Option<gio::FileInfo> {
    file.query_info(
        "standard::type,standard::size",
        gio::FileQueryInfoFlags::NOFOLLOW_SYMLINKS,
        gio::Cancellable::NONE,
    )
    .ok()
    .filter(|i| i.file_type() == gio::FileType::Regular)
}

/// The file of a content object in a bare repository (whose objects are the
/// files themselves), if it is there (not in a parent repository).
fn loose_object_path(repo: &ostree::Repo, checksum: &str) -> Option<std::path::PathBuf> {
    use ostree::RepoMode::*;
    if !matches!(repo.mode(), Bare | BareUser | BareUserOnly) || checksum.len() != 64 {
        return None;
    }
    let path = repo.path().path()?.join(format!(
        "objects/{}/{}.file",
        &checksum[..2],
        &checksum[2..]
    ));
    path.is_file().then_some(path)
}

/// Reads the rpm sqlite database in the (read-only, never changing) file
/// `path`: every package header. `immutable=1`: sqlite takes no lock and
/// looks for no `-wal` or `-shm` file beside it.
fn read_sqlite_file(path: &std::path::Path) -> Result<Vec<Header>> {
    headers_of(&open_sqlite_file(path)?)
}

/// The packages of the sqlite rpm database file `path`, sorted by name,
/// version and arch.
pub fn packages_of_file(path: &std::path::Path) -> Result<Vec<Package>> {
    let mut pkgs: Vec<Package> = read_sqlite_file(path)?.into_iter().map(|h| h.pkg).collect();
    pkgs.sort_by(Package::cmp_list);
    Ok(pkgs)
}

/// Opens the (read-only, never changing) sqlite rpm database `path`.
fn open_sqlite_file(path: &std::path::Path) -> Result<rusqlite::Connection> {
    use rusqlite::OpenFlags;
    let mut uri = String::from("file:");
    for b in path.as_os_str().as_encoded_bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(b) {
            uri.push(char::from(*b));
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri.push_str("?immutable=1");
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_URI
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    rusqlite::Connection::open_with_flags(&uri, flags).context("Opening the rpm database")
}

/// Reads an rpm sqlite database of `size` bytes: every package header.
pub fn read_sqlite(input: impl Read, size: usize) -> Result<Vec<Header>> {
    headers_of(&load_sqlite(input, size)?)
}

/// An rpm sqlite database of `size` bytes, loaded into memory.
fn load_sqlite(input: impl Read, size: usize) -> Result<rusqlite::Connection> {
    let mut db = rusqlite::Connection::open_in_memory()?;
    // rpm keeps its database in WAL mode, which a deserialized database cannot
    // be opened in; the file itself is complete once rpm checkpointed it.
    db.deserialize_read_exact("main", NoWal::new(input), size, true)
        .context("Loading the rpm database")?;
    Ok(db)
}

/// Every package header of an open rpm database, in database order.
fn headers_of(db: &rusqlite::Connection) -> Result<Vec<Header>> {
    let mut out = Vec::new();
    for_each_package(db, |meta| {
        out.push(header_of(meta)?);
        Ok(())
    })?;
    Ok(out)
}

/// Calls `f` with each package of an open rpm database, in database order
/// (public keys imported into the database are not packages).
fn for_each_package(
    db: &rusqlite::Connection,
    mut f: impl FnMut(&rpm::PackageMetadata) -> Result<()>,
) -> Result<()> {
    let mut stmt = db
        .prepare("SELECT hnum, blob FROM Packages ORDER BY hnum")
        .context("Not an rpm database")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))?;
    for row in rows {
        let (hnum, blob) = row?;
        let meta = parse_header_blob(&blob)
            .with_context(|| format!("Reading the package header {hnum}"))?;
        if meta.get_name().is_ok_and(|n| n != "gpg-pubkey") {
            f(&meta).with_context(|| format!("Reading the package header {hnum}"))?;
        }
    }
    Ok(())
}

/// The files (path, mode) of the packages named `names` in the sqlite rpm
/// database `db`.
pub fn files_of(db: &std::path::Path, names: &[String]) -> Result<Vec<(String, u32)>> {
    let conn = open_sqlite_file(db)?;
    let mut out = Vec::new();
    for_each_package(&conn, |meta| {
        if meta.get_name().is_ok_and(|n| names.iter().any(|x| x == n)) {
            for f in meta.get_file_entries().unwrap_or_default() {
                out.push((
                    f.path().display().to_string(),
                    u32::from(f.mode().raw_mode()),
                ));
            }
        }
        Ok(())
    })?;
    Ok(out)
}

/// The first package of the sqlite rpm database `db` that provides `name`:
/// the provide's version when it is `name = VERSION`, else the package's.
pub fn provided_version(db: &std::path::Path, name: &str) -> Result<Option<String>> {
    let conn = open_sqlite_file(db)?;
    let mut found = None;
    for_each_package(&conn, |meta| {
        if found.is_some() {
            return Ok(());
        }
        let provides = meta.get_provides().unwrap_or_default();
        if let Some(dep) = provides.iter().find(|d| d.name == name) {
            let sense = dep.flags
                & (rpm::DependencyFlags::LESS
                    | rpm::DependencyFlags::GREATER
                    | rpm::DependencyFlags::EQUAL);
            found = Some(
                if sense == rpm::DependencyFlags::EQUAL && !dep.version.is_empty() {
                    dep.version.clone()
                } else {
                    meta.get_version()
                        .map_err(|e| anyhow!("version: {e}"))?
                        .to_string()
                },
            );
        }
        Ok(())
    })?;
    Ok(found)
}

/// The header magic (and its reserved bytes) the database leaves out.
const HEADER_MAGIC: [u8; 8] = [0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0];

/// An rpm header as stored in the database (without its magic): wrapped into
/// the smallest package the `rpm` crate parses (lead, empty signature).
fn parse_header_blob(blob: &[u8]) -> Result<rpm::PackageMetadata> {
    let mut bytes = Vec::with_capacity(96 + 16 + 8 + blob.len());
    let mut lead = [0u8; 96];
    lead[..4].copy_from_slice(&[0xed, 0xab, 0xee, 0xdb]);
    lead[4] = 3; // major
    lead[79] = 5; // signature type: a header
    bytes.extend_from_slice(&lead);
    bytes.extend_from_slice(&HEADER_MAGIC); // empty signature header
    bytes.extend_from_slice(&[0; 8]);
    bytes.extend_from_slice(&HEADER_MAGIC);
    bytes.extend_from_slice(blob);
    rpm::PackageMetadata::parse(&mut std::io::Cursor::new(bytes)).map_err(|e| anyhow!("{e}"))
}

/// What `db` shows of a package header.
fn header_of(meta: &rpm::PackageMetadata) -> Result<Header> {
    let text = |r: Result<&str, rpm::Error>, what: &str| {
        r.map(String::from).map_err(|e| anyhow!("{what}: {e}"))
    };
    let pkg = Package {
        name: text(meta.get_name(), "name")?,
        epoch: meta.get_epoch().map(u64::from).unwrap_or(0),
        version: text(meta.get_version(), "version")?,
        release: text(meta.get_release(), "release")?,
        arch: text(meta.get_arch(), "arch")?,
    };
    let changelog = meta
        .get_changelog_entries()
        .map(|v| {
            v.into_iter()
                .map(|e| (e.timestamp, e.name, e.description))
                .collect()
        })
        .unwrap_or_default();
    Ok(Header {
        pkg,
        sourcerpm: meta.get_source_rpm().ok().map(String::from),
        changelog,
    })
}

/// Passes a sqlite file through with its header saying "rollback journal"
/// instead of "WAL" (bytes 18 and 19: file format write and read versions).
struct NoWal<R> {
    inner: R,
    pos: u64,
}

impl<R> NoWal<R> {
    fn new(inner: R) -> Self {
        Self { inner, pos: 0 }
    }
}

impl<R: Read> Read for NoWal<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for (i, b) in buf[..n].iter_mut().enumerate() {
            let at = self.pos + i as u64;
            if (at == 18 || at == 19) && *b == 2 {
                *b = 1;
            }
        }
        self.pos += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkglist_metadata_round_trips() {
        let pkgs = vec![
            Package::parse_nevra("a-1:2.0-3.noarch").unwrap(),
            Package::parse_nevra("b-1.0~rc1-1.x86_64").unwrap(),
        ];
        let v = to_pkglist(&pkgs);
        assert_eq!(v.type_().as_str(), "a(sssss)");
        assert_eq!(from_pkglist(&v).unwrap(), pkgs);
        assert!(from_pkglist(&"x".to_variant()).is_err());
        let bad = vec![("a", "x", "1", "1", "noarch")].to_variant();
        assert!(from_pkglist(&bad).is_err());
    }

    #[test]
    fn garbage_is_not_an_rpm_database() {
        let junk = vec![7u8; 4096];
        assert!(read_sqlite(junk.as_slice(), junk.len()).is_err());
        let short = b"SQLite format 3\0";
        assert!(read_sqlite(&short[..], 64).is_err());
    }
}
