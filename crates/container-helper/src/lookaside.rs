//! Where a docker image's signatures are: containers-registries.d(5)
//! lookaside storage. Every `*.yaml` of /etc/containers/registries.d has
//! `docker: {SCOPE: {lookaside: URL}}` and `default-docker: {lookaside: URL}`
//! (`sigstore` is the old name of `lookaside`); the most specific scope with
//! a URL wins, then `default-docker`, then file:///var/lib/containers/sigstore.
//! The signatures of manifest `sha256:H` of `host/ns/repo` are
//! `URL/ns/repo@sha256=H/signature-1`, `-2`, ... up to the first missing one.
//! Only file:// storage is read; http(s):// is refused as not supported.
//! `use-sigstore-attachments` is ignored: attachments hold sigstore
//! signatures, which only `sigstoreSigned` (refused) would use.

use crate::dockerref::DockerRef;
use anyhow::{anyhow, bail, Context, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

pub const REGISTRIES_D: &str = "/etc/containers/registries.d";
const BUILTIN_LOOKASIDE: &str = "file:///var/lib/containers/sigstore";
/// containers/image's limits: signatures per image, bytes per signature.
const MAX_SIGNATURES: usize = 128;
const MAX_SIGNATURE_SIZE: u64 = 4 << 20;

#[derive(Debug, Default, Clone, PartialEq, Deserialize)]
pub struct Namespace {
    pub lookaside: Option<String>,
    pub sigstore: Option<String>,
}

impl Namespace {
    fn url(&self) -> Option<&str> {
        [&self.lookaside, &self.sigstore]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .find(|u| !u.is_empty())
    }
}

#[derive(Debug, Default, Deserialize)]
struct File {
    #[serde(rename = "default-docker")]
    default_docker: Option<Namespace>,
    docker: Option<BTreeMap<String, Namespace>>,
}

/// registries.d, all files merged.
#[derive(Debug, Default, PartialEq)]
pub struct Registries {
    pub default_docker: Option<Namespace>,
    pub docker: BTreeMap<String, Namespace>,
}

impl Registries {
    /// Adds one file's configuration; a scope or `default-docker` defined
    /// twice is an error, as in containers/image.
    pub fn add(&mut self, name: &str, text: &str) -> Result<()> {
        let file: File = if text.trim().is_empty() {
            File::default()
        } else {
            serde_yaml::from_str(text).with_context(|| format!("Parsing {name}"))?
        };
        if let Some(d) = file.default_docker {
            if self.default_docker.replace(d).is_some() {
                bail!("\"default-docker\" is defined twice in registries.d (again in {name})");
            }
        }
        for (scope, ns) in file.docker.unwrap_or_default() {
            if self.docker.contains_key(&scope) {
                bail!("docker scope {scope:?} is defined twice in registries.d (again in {name})");
            }
            self.docker.insert(scope, ns);
        }
        Ok(())
    }

    /// Every `*.yaml` in `dir`, in name order; no directory is no configuration.
    pub fn load(dir: &Path) -> Result<Registries> {
        let mut r = Registries::default();
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(r),
            Err(e) => return Err(anyhow!(e).context(format!("Reading {}", dir.display()))),
        };
        let mut files = Vec::new();
        for e in entries {
            let path = e
                .with_context(|| format!("Reading {}", dir.display()))?
                .path();
            if path.extension().is_some_and(|x| x == "yaml") && !path.is_dir() {
                files.push(path);
            }
        }
        files.sort();
        for f in files {
            let text =
                std::fs::read_to_string(&f).with_context(|| format!("Reading {}", f.display()))?;
            r.add(&f.display().to_string(), &text)?;
        }
        Ok(r)
    }

    /// The lookaside URL for an image whose scopes (most specific first) are
    /// `scopes`.
    pub fn lookaside(&self, scopes: &[String]) -> String {
        scopes
            .iter()
            .filter_map(|s| self.docker.get(s))
            .chain(&self.default_docker)
            .find_map(Namespace::url)
            .unwrap_or(BUILTIN_LOOKASIDE)
            .to_string()
    }
}

/// The local directory of a file:// URL (empty or `localhost` host).
fn file_url_path(url: &str) -> Result<String> {
    let unsupported = || {
        anyhow!("reading signatures from {url} is not supported (only file:// lookaside storage)")
    };
    let rest = url.strip_prefix("file://").ok_or_else(unsupported)?;
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    if !rest.starts_with('/') {
        return Err(unsupported());
    }
    // Percent-decoding, as a URL's path is.
    let bytes = rest.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| anyhow!("lookaside URL {url} is not UTF-8"))
}

/// The lookaside directory of one manifest: `DIR/ns/repo@sha256=HEX`.
pub fn manifest_dir(base_url: &str, r: &DockerRef, digest: &str) -> Result<String> {
    let (algo, hex) = digest
        .split_once(':')
        .ok_or_else(|| anyhow!("invalid manifest digest {digest:?}"))?;
    let dir = file_url_path(base_url)?;
    Ok(format!(
        "{}/{}@{algo}={hex}",
        dir.trim_end_matches('/'),
        r.path
    ))
}

/// Reads `signature-1`, `-2`, ... of a manifest's lookaside directory.
pub fn read_signatures(dir: &str) -> Result<Vec<Vec<u8>>> {
    let mut sigs = Vec::new();
    for i in 1..=MAX_SIGNATURES {
        let path = format!("{dir}/signature-{i}");
        let f = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(sigs),
            Err(e) => return Err(anyhow!(e).context(format!("Reading signature {path}"))),
        };
        let mut data = Vec::new();
        f.take(MAX_SIGNATURE_SIZE + 1)
            .read_to_end(&mut data)
            .with_context(|| format!("Reading signature {path}"))?;
        if data.len() as u64 > MAX_SIGNATURE_SIZE {
            bail!("signature {path} is larger than {MAX_SIGNATURE_SIZE} bytes");
        }
        sigs.push(data);
    }
    bail!("more than {MAX_SIGNATURES} signatures in {dir}")
}

/// The signatures of manifest `digest` of docker image `r`, per the host's
/// registries.d.
pub fn signatures(r: &DockerRef, digest: &str) -> Result<Vec<Vec<u8>>> {
    let registries = Registries::load(Path::new(REGISTRIES_D))?;
    let url = registries.lookaside(&r.scopes());
    read_signatures(&manifest_dir(&url, r, digest)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn most_specific_scope_wins() {
        let mut r = Registries::default();
        r.add(
            "a.yaml",
            "docker:\n  quay.io/ns:\n    lookaside: file:///ns\n  quay.io/ns/repo:\n    sigstore: file:///repo\n    lookaside-staging: file:///x\n  quay.io/other:\n    use-sigstore-attachments: true\n",
        )
        .unwrap();
        r.add("b.yaml", "default-docker:\n  lookaside: file:///default\n")
            .unwrap();
        r.add("c.yaml", "").unwrap();
        let url = |s: &str| r.lookaside(&DockerRef::parse(s).unwrap().scopes());
        assert_eq!(url("quay.io/ns/repo:v1"), "file:///repo");
        assert_eq!(url("quay.io/ns/other:v1"), "file:///ns");
        // A scope without a URL falls through to the defaults.
        assert_eq!(url("quay.io/other/x:v1"), "file:///default");
        assert_eq!(url("busybox"), "file:///default");
        assert_eq!(Registries::default().lookaside(&[]), BUILTIN_LOOKASIDE);
        let e = r.add("d.yaml", "default-docker:\n  lookaside: file:///again\n");
        assert!(e.unwrap_err().to_string().contains("defined twice"));
        let e = r.add(
            "e.yaml",
            "docker:\n  quay.io/ns:\n    lookaside: file:///y\n",
        );
        assert!(e
            .unwrap_err()
            .to_string()
            .contains("\"quay.io/ns\" is defined twice"));
        assert!(r.add("f.yaml", "docker: [1").is_err());
    }

    #[test]
    fn signature_paths() {
        let r = DockerRef::parse("127.0.0.1:5000/ns/testos:v1").unwrap();
        let hex = &D["sha256:".len()..];
        assert_eq!(
            manifest_dir("file:///var/sig%20s/", &r, D).unwrap(),
            format!("/var/sig s/ns/testos@sha256={hex}")
        );
        assert_eq!(
            manifest_dir("file://localhost/s", &r, D).unwrap(),
            format!("/s/ns/testos@sha256={hex}")
        );
        let e = manifest_dir("https://example.com/sigs", &r, D).unwrap_err();
        assert!(e.to_string().contains("is not supported"), "{e}");
        assert!(manifest_dir("file://host/s", &r, D).is_err());
    }

    #[test]
    fn reads_until_the_first_missing_signature() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display().to_string();
        assert!(read_signatures(&d).unwrap().is_empty());
        std::fs::write(dir.path().join("signature-1"), b"one").unwrap();
        std::fs::write(dir.path().join("signature-2"), b"two").unwrap();
        std::fs::write(dir.path().join("signature-4"), b"four").unwrap();
        assert_eq!(
            read_signatures(&d).unwrap(),
            vec![b"one".to_vec(), b"two".to_vec()]
        );
    }
}
