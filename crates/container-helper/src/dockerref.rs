//! Docker references as containers/image normalizes them
//! (`reference.ParseNormalizedNamed`): `busybox` is
//! `docker.io/library/busybox`, a first component with a `.` or `:` (or
//! `localhost`, or an upper-case letter) is a registry host. What the
//! signature policy compares and looks scopes up by.

use anyhow::{bail, Result};
use regex::Regex;
use std::sync::OnceLock;

/// A normalized reference: `domain/path[:tag][@digest]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerRef {
    pub domain: String,
    /// The repository path without the domain (`library/busybox`).
    pub path: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

struct Grammar {
    domain: Regex,
    component: Regex,
    tag: Regex,
    digest: Regex,
}

fn grammar() -> &'static Grammar {
    static G: OnceLock<Grammar> = OnceLock::new();
    G.get_or_init(|| {
        let label = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
        let re = |s: &str| Regex::new(s).expect("a valid regex");
        Grammar {
            domain: re(&format!(
                r"^(?:{label}(?:\.{label})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$"
            )),
            component: re(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$"),
            tag: re(r"^[\w][\w.-]{0,127}$"),
            digest: re(r"^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$"),
        }
    })
}

impl DockerRef {
    /// Parses and normalizes `s` (`[host[:port]/]path[:tag][@digest]`).
    pub fn parse(s: &str) -> Result<DockerRef> {
        let g = grammar();
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => (r, Some(d.to_string())),
            None => (s, None),
        };
        if let Some(d) = &digest {
            if !g.digest.is_match(d) {
                bail!("invalid reference {s:?}: invalid digest {d:?}");
            }
        }
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => (
                &rest[..last_slash + i],
                Some(rest[last_slash + i + 1..].to_string()),
            ),
            None => (rest, None),
        };
        if let Some(t) = &tag {
            if !g.tag.is_match(t) {
                bail!("invalid reference {s:?}: invalid tag {t:?}");
            }
        }
        let (mut domain, mut path) = match name.split_once('/') {
            Some((first, rest))
                if first.contains(['.', ':'])
                    || first == "localhost"
                    || first.to_lowercase() != first =>
            {
                (first.to_string(), rest.to_string())
            }
            _ => ("docker.io".to_string(), name.to_string()),
        };
        if domain == "index.docker.io" {
            domain = "docker.io".into();
        }
        if domain == "docker.io" && !path.contains('/') {
            path = format!("library/{path}");
        }
        if !g.domain.is_match(&domain) {
            bail!("invalid reference {s:?}: invalid registry host {domain:?}");
        }
        if path.to_lowercase() != path {
            bail!("invalid reference {s:?}: repository name must be lowercase");
        }
        if !path.split('/').all(|c| g.component.is_match(c)) {
            bail!("invalid reference {s:?}: invalid repository name {path:?}");
        }
        if domain.len() + 1 + path.len() > 255 {
            bail!("invalid reference {s:?}: repository name must not be more than 255 characters");
        }
        Ok(DockerRef {
            domain,
            path,
            tag,
            digest,
        })
    }

    /// `domain/path`: the repository.
    pub fn name(&self) -> String {
        format!("{}/{}", self.domain, self.path)
    }

    pub fn is_name_only(&self) -> bool {
        self.tag.is_none() && self.digest.is_none()
    }

    /// As the docker transport opens it: `:latest` when neither a tag nor a
    /// digest is given.
    pub fn with_default_tag(mut self) -> DockerRef {
        if self.is_name_only() {
            self.tag = Some("latest".into());
        }
        self
    }

    /// The short form people write (`busybox:latest` for
    /// `docker.io/library/busybox:latest`).
    pub fn familiar(&self) -> String {
        let full = self.to_string();
        match full.strip_prefix("docker.io/") {
            Some(rest) => match rest.strip_prefix("library/") {
                Some(short) if !self.path["library/".len()..].contains('/') => short.into(),
                _ => rest.into(),
            },
            None => full,
        }
    }

    /// The policy scopes of this reference, most specific first: the whole
    /// reference, the repository, each shorter namespace, the host, then the
    /// host's wildcard forms (`*.example.com`, `*.com`), as containers/image's
    /// docker transport lists them.
    pub fn scopes(&self) -> Vec<String> {
        let mut res = vec![self.to_string()];
        let mut name = self.name();
        loop {
            res.push(name.clone());
            match name.rfind('/') {
                Some(i) => name.truncate(i),
                None => break,
            }
        }
        let mut host = name.split(':').next().unwrap_or_default().to_string();
        while let Some(i) = host.find('.') {
            host = host[i + 1..].to_string();
            res.push(format!("*.{host}"));
        }
        res
    }
}

impl std::fmt::Display for DockerRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.domain, self.path)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn normalization() {
        let r = DockerRef::parse("busybox").unwrap();
        assert_eq!(r.to_string(), "docker.io/library/busybox");
        assert!(r.is_name_only());
        let r = r.with_default_tag();
        assert_eq!(r.to_string(), "docker.io/library/busybox:latest");
        assert_eq!(r.familiar(), "busybox:latest");
        let r = DockerRef::parse("index.docker.io/foo/bar:1").unwrap();
        assert_eq!(
            (r.name(), r.familiar()),
            ("docker.io/foo/bar".into(), "foo/bar:1".into())
        );
        let r = DockerRef::parse("127.0.0.1:5000/ns/testos:v1").unwrap();
        assert_eq!(
            (r.domain.as_str(), r.path.as_str()),
            ("127.0.0.1:5000", "ns/testos")
        );
        assert_eq!(r.tag.as_deref(), Some("v1"));
        assert_eq!(r.familiar(), "127.0.0.1:5000/ns/testos:v1");
        let r = DockerRef::parse(&format!("localhost/x@{D}")).unwrap();
        assert_eq!((r.domain.as_str(), r.tag.clone()), ("localhost", None));
        assert_eq!(r.digest.as_deref(), Some(D));
        assert_eq!(r.to_string(), format!("localhost/x@{D}"));
    }

    #[test]
    fn bad_references() {
        for bad in [
            "Busybox",
            "quay.io/Foo/bar",
            "x:bad tag",
            "x@sha256:short",
            "a//b",
            "-x",
        ] {
            assert!(DockerRef::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn scopes_most_specific_first() {
        let r = DockerRef::parse("quay.io:443/ns/sub/repo:tag").unwrap();
        assert_eq!(
            r.scopes(),
            [
                "quay.io:443/ns/sub/repo:tag",
                "quay.io:443/ns/sub/repo",
                "quay.io:443/ns/sub",
                "quay.io:443/ns",
                "quay.io:443",
                "*.io",
            ]
        );
        let r = DockerRef::parse("busybox").unwrap().with_default_tag();
        assert_eq!(
            r.scopes(),
            [
                "docker.io/library/busybox:latest",
                "docker.io/library/busybox",
                "docker.io/library",
                "docker.io",
                "*.io",
            ]
        );
    }
}
