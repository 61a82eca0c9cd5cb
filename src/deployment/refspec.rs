//! Refspecs as found in origins and sent by clients: `remote:ref`, `ref`, a
//! commit checksum, or a container image reference.

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refspec {
    /// An ostree branch, optionally on a remote.
    Ref {
        remote: Option<String>,
        branch: String,
    },
    /// A bare commit checksum.
    Checksum(String),
    /// A container image reference.
    Container(String),
}

/// True for a 64-character lowercase hex string.
pub(crate) fn is_checksum(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl Refspec {
    /// Classifies a complete refspec (an origin's, or a fully resolved one).
    pub(crate) fn parse(s: &str) -> Self {
        if super::imgref::looks_like(s) {
            return Self::Container(s.to_string());
        }
        if is_checksum(s) {
            return Self::Checksum(s.to_string());
        }
        match s.split_once(':') {
            Some((remote, branch)) if !remote.is_empty() => Self::Ref {
                remote: Some(remote.to_string()),
                branch: branch.to_string(),
            },
            Some((_, branch)) => Self::Ref {
                remote: None,
                branch: branch.to_string(),
            },
            None => Self::Ref {
                remote: None,
                branch: s.to_string(),
            },
        }
    }
}

impl std::fmt::Display for Refspec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Ref {
                remote: Some(r),
                branch,
            } => write!(f, "{r}:{branch}"),
            Self::Ref {
                remote: None,
                branch,
            } => f.write_str(branch),
            Self::Checksum(c) | Self::Container(c) => f.write_str(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify() {
        let c = "a".repeat(64);
        assert_eq!(Refspec::parse(&c), Refspec::Checksum(c.clone()));
        assert_eq!(
            Refspec::parse("r:os/x"),
            Refspec::Ref {
                remote: Some("r".into()),
                branch: "os/x".into()
            }
        );
        assert_eq!(
            Refspec::parse("os/x"),
            Refspec::Ref {
                remote: None,
                branch: "os/x".into()
            }
        );
        assert_eq!(Refspec::parse(":os/x").to_string(), "os/x");
        assert!(matches!(
            Refspec::parse("ostree-unverified-registry:quay.io/a/b:latest"),
            Refspec::Container(_)
        ));
        assert!(!is_checksum(&"A".repeat(64)));
        assert!(!is_checksum("abc"));
    }
}
