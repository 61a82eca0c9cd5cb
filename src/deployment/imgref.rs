//! Container image references of container origins, as upstream (ostree-ext)
//! parses and prints them: a signature source, then a transport and a name.
//!
//! * `ostree-image-signed:<transport>:<name>`: containers' `policy.json`;
//! * `ostree-unverified-image:<transport>:<name>`: no verification;
//! * `ostree-unverified-registry:<name>`: short for the above with `registry:`;
//! * `ostree-remote-image:<remote>:<transport>:<name>`: the ostree remote's keys;
//! * `ostree-remote-registry:<remote>:<name>`: short for the above with `registry:`.
//!
//! Transports: `registry:` (also `docker://`), `oci:`, `oci-archive:`,
//! `docker-archive:`, `containers-storage:`, `dir:`. Printed, a registry
//! is `docker://`, and an unverified registry image is in its short form.

use anyhow::{Result, anyhow, bail};
use std::fmt;

/// Where an image is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transport {
    Registry,
    OciDir,
    OciArchive,
    DockerArchive,
    ContainerStorage,
    Dir,
}

impl Transport {
    fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "registry" | "docker" => Self::Registry,
            "oci" => Self::OciDir,
            "oci-archive" => Self::OciArchive,
            "docker-archive" => Self::DockerArchive,
            "containers-storage" => Self::ContainerStorage,
            "dir" => Self::Dir,
            other => bail!("Unknown transport '{other}'"),
        })
    }

    /// The prefix it is printed with (what skopeo takes).
    fn prefix(self) -> &'static str {
        match self {
            Self::Registry => "docker://",
            Self::OciDir => "oci:",
            Self::OciArchive => "oci-archive:",
            Self::DockerArchive => "docker-archive:",
            Self::ContainerStorage => "containers-storage:",
            Self::Dir => "dir:",
        }
    }
}

/// How an image's signature is verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SignatureSource {
    /// The GPG keys of this ostree remote, on the embedded commit.
    OstreeRemote(String),
    /// containers' `policy.json`.
    ContainerPolicy,
    /// Not at all.
    Unverified,
}

/// A parsed container image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ImageRef {
    pub sigverify: SignatureSource,
    pub transport: Transport,
    /// The image name (`quay.io/fedora/fedora-silverblue:41`, a path, ...).
    pub name: String,
}

/// The schemes an image reference starts with.
pub(crate) const SCHEMES: &[&str] = &[
    "ostree-image-signed:",
    "ostree-unverified-image:",
    "ostree-unverified-registry:",
    "ostree-remote-image:",
    "ostree-remote-registry:",
];

/// True if `s` is meant as an image reference (starts with a scheme).
pub(crate) fn looks_like(s: &str) -> bool {
    SCHEMES.iter().any(|p| s.starts_with(p))
}

/// `<transport>:<name>`.
fn transport_and_name(value: &str) -> Result<(Transport, String)> {
    let (t, name) = value
        .split_once(':')
        .ok_or_else(|| anyhow!("Missing ':' in {value}"))?;
    let transport = Transport::parse(t)?;
    if name.is_empty() {
        bail!("Invalid empty name in {value}");
    }
    let name = if t == "docker" {
        name.strip_prefix("//")
            .ok_or_else(|| anyhow!("Missing // in docker:// in {value}"))?
    } else {
        name
    };
    Ok((transport, name.to_string()))
}

impl ImageRef {
    pub(crate) fn parse(value: &str) -> Result<Self> {
        let (scheme, rest) = value
            .split_once(':')
            .ok_or_else(|| anyhow!("Missing ':' in {value}"))?;
        let remote_and_rest = || {
            rest.split_once(':')
                .ok_or_else(|| anyhow!("Missing second ':' in {value}"))
        };
        let (sigverify, (transport, name)) = match scheme {
            "ostree-image-signed" => (SignatureSource::ContainerPolicy, transport_and_name(rest)?),
            "ostree-unverified-image" => (SignatureSource::Unverified, transport_and_name(rest)?),
            "ostree-unverified-registry" => (
                SignatureSource::Unverified,
                transport_and_name(&format!("registry:{rest}"))?,
            ),
            "ostree-remote-registry" => {
                let (remote, rest) = remote_and_rest()?;
                (
                    SignatureSource::OstreeRemote(remote.to_string()),
                    transport_and_name(&format!("registry:{rest}"))?,
                )
            }
            "ostree-remote-image" => {
                let (remote, rest) = remote_and_rest()?;
                (
                    SignatureSource::OstreeRemote(remote.to_string()),
                    transport_and_name(rest)?,
                )
            }
            other => bail!("Invalid ostree image reference scheme: {other}"),
        };
        Ok(Self {
            sigverify,
            transport,
            name,
        })
    }

    /// The image without its signature source, as skopeo names it.
    pub(crate) fn image(&self) -> String {
        format!("{}{}", self.transport.prefix(), self.name)
    }

    /// The same image pinned to the manifest `digest` (`sha256:<64 hex>`):
    /// its tag or earlier digest replaced by `@digest`. Only registry and
    /// containers-storage names can carry a digest.
    pub(crate) fn with_digest(&self, digest: &str) -> Result<Self> {
        let hex = digest.strip_prefix("sha256:").unwrap_or_default();
        if hex.len() != 64
            || !hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            bail!("Invalid image digest '{digest}': expected sha256: and 64 hex digits");
        }
        if !matches!(
            self.transport,
            Transport::Registry | Transport::ContainerStorage
        ) {
            bail!(
                "Cannot pin {} to a digest: only registry and containers-storage images have one",
                self.image()
            );
        }
        let name = self
            .name
            .split_once('@')
            .map_or(self.name.as_str(), |(n, _)| n);
        // A tag is what follows the last ':' after the last '/' (not a port).
        let last_part = name.rfind('/').map_or(0, |i| i + 1);
        let name = match name[last_part..].rfind(':') {
            Some(i) => &name[..last_part + i],
            None => name,
        };
        Ok(Self {
            name: format!("{name}@{digest}"),
            ..self.clone()
        })
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.sigverify, self.transport) {
            (SignatureSource::Unverified, Transport::Registry) => {
                write!(f, "ostree-unverified-registry:{}", self.name)
            }
            (SignatureSource::Unverified, _) => {
                write!(f, "ostree-unverified-image:{}", self.image())
            }
            (SignatureSource::ContainerPolicy, _) => {
                write!(f, "ostree-image-signed:{}", self.image())
            }
            (SignatureSource::OstreeRemote(r), _) => {
                write!(f, "ostree-remote-image:{r}:{}", self.image())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round(s: &str) -> String {
        ImageRef::parse(s).unwrap().to_string()
    }

    #[test]
    fn every_form_parses_and_prints_as_upstream_prints_it() {
        let r = ImageRef::parse("ostree-unverified-registry:quay.io/fedora/silverblue:41").unwrap();
        assert_eq!(r.sigverify, SignatureSource::Unverified);
        assert_eq!(r.transport, Transport::Registry);
        assert_eq!(r.name, "quay.io/fedora/silverblue:41");
        assert_eq!(r.image(), "docker://quay.io/fedora/silverblue:41");
        assert_eq!(
            round("ostree-unverified-image:docker://quay.io/a/b:1"),
            "ostree-unverified-registry:quay.io/a/b:1"
        );
        assert_eq!(
            round("ostree-unverified-image:registry:quay.io/a/b"),
            "ostree-unverified-registry:quay.io/a/b"
        );
        assert_eq!(
            round("ostree-unverified-image:oci:/var/img:v1"),
            "ostree-unverified-image:oci:/var/img:v1"
        );
        assert_eq!(
            round("ostree-image-signed:docker://quay.io/a/b"),
            "ostree-image-signed:docker://quay.io/a/b"
        );
        assert_eq!(
            round("ostree-image-signed:registry:quay.io/a/b"),
            "ostree-image-signed:docker://quay.io/a/b"
        );
        assert_eq!(
            round("ostree-remote-registry:fedora:quay.io/a/b"),
            "ostree-remote-image:fedora:docker://quay.io/a/b"
        );
        assert_eq!(
            round("ostree-remote-image:fedora:oci-archive:/x.tar"),
            "ostree-remote-image:fedora:oci-archive:/x.tar"
        );
        assert_eq!(
            round("ostree-unverified-image:containers-storage:localhost/x"),
            "ostree-unverified-image:containers-storage:localhost/x"
        );
        assert!(looks_like("ostree-remote-registry:a:b"));
        assert!(!looks_like("fedora:fedora/x86_64/silverblue"));
    }

    #[test]
    fn a_digest_replaces_the_tag_or_an_earlier_digest() {
        let d = format!("sha256:{}", "ab".repeat(32));
        let pin = |s: &str| {
            ImageRef::parse(s)
                .unwrap()
                .with_digest(&d)
                .map(|r| r.to_string())
        };
        assert_eq!(
            pin("ostree-unverified-registry:127.0.0.1:5000/testos:v1").unwrap(),
            format!("ostree-unverified-registry:127.0.0.1:5000/testos@{d}")
        );
        assert_eq!(
            pin("ostree-unverified-registry:127.0.0.1:5000/testos").unwrap(),
            format!("ostree-unverified-registry:127.0.0.1:5000/testos@{d}")
        );
        let other = format!("sha256:{}", "cd".repeat(32));
        assert_eq!(
            pin(&format!("ostree-image-signed:docker://quay.io/a/b@{other}")).unwrap(),
            format!("ostree-image-signed:docker://quay.io/a/b@{d}")
        );
        assert_eq!(
            pin("ostree-unverified-image:containers-storage:localhost/x:1").unwrap(),
            format!("ostree-unverified-image:containers-storage:localhost/x@{d}")
        );
        assert_eq!(
            pin("ostree-unverified-image:oci:/var/img:v1")
                .unwrap_err()
                .to_string(),
            "Cannot pin oci:/var/img:v1 to a digest: only registry and containers-storage \
             images have one"
        );
        let r = ImageRef::parse("ostree-unverified-registry:quay.io/a/b:1").unwrap();
        for bad in ["v2", "sha256:abc", &format!("sha256:{}", "AB".repeat(32))] {
            assert_eq!(
                r.with_digest(bad).unwrap_err().to_string(),
                format!("Invalid image digest '{bad}': expected sha256: and 64 hex digits")
            );
        }
    }

    #[test]
    fn malformed_references_say_what_is_wrong() {
        let err = |s: &str| ImageRef::parse(s).unwrap_err().to_string();
        assert_eq!(
            err("ostree-image-signed"),
            "Missing ':' in ostree-image-signed"
        );
        assert_eq!(
            err("ostree-foo:x"),
            "Invalid ostree image reference scheme: ostree-foo"
        );
        assert_eq!(
            err("ostree-unverified-image:ftp:x"),
            "Unknown transport 'ftp'"
        );
        assert_eq!(
            err("ostree-unverified-image:oci:"),
            "Invalid empty name in oci:"
        );
        assert_eq!(
            err("ostree-unverified-image:docker:quay.io/x"),
            "Missing // in docker:// in docker:quay.io/x"
        );
        assert_eq!(
            err("ostree-remote-image:fedora"),
            "Missing second ':' in ostree-remote-image:fedora"
        );
        assert_eq!(err("ostree-unverified-image:oci"), "Missing ':' in oci");
    }
}
