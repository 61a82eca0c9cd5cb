//! The signature policy of `ostree-image-signed:` references,
//! containers-policy.json(5) as containers/image evaluates it. ostree-ext
//! 0.15.3 leaves it to skopeo's image proxy, and Debian 12's skopeo (1.9.3)
//! does not evaluate it at all, so the helper does: the requirements of the
//! image's most specific scope are chosen before anything is fetched, and
//! checked against the manifest digest ostree-ext's `prepare` found, before
//! any layer is imported. What cannot be checked is refused, never accepted.

use crate::dockerref::DockerRef;
use crate::{lookaside, signature};
use anyhow::{anyhow, bail, Context, Result};
use ostree_ext::container::{ImageReference, OstreeImageReference, SignatureSource, Transport};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where containers/image, ostree-ext and skopeo read the policy (the helper
/// runs as root; tests bind-mount their own /etc/containers).
pub const POLICY_PATH: &str = "/etc/containers/policy.json";

/// One policy requirement.
#[derive(Debug, Clone, PartialEq)]
pub enum Requirement {
    InsecureAcceptAnything,
    Reject,
    SignedBy(SignedBy),
    /// A type this helper cannot check (`sigstoreSigned`, or unknown).
    Unsupported(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct SignedBy {
    pub key_type: String,
    pub keys: Keys,
    pub identity: Identity,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Keys {
    /// `keyPath` (one) or `keyPaths`.
    Paths(Vec<String>),
    /// `keyData`, decoded.
    Data(Vec<u8>),
}

/// `signedIdentity`: which identity in a signature is accepted.
#[derive(Debug, Clone, PartialEq)]
pub enum Identity {
    MatchRepoDigestOrExact,
    MatchExact,
    MatchRepository,
    ExactReference(DockerRef),
    ExactRepository(DockerRef),
    /// `remapIdentity`, or unknown.
    Unsupported(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub default: Vec<Requirement>,
    pub transports: BTreeMap<String, BTreeMap<String, Vec<Requirement>>>,
}

impl Policy {
    /// The requirements of the image's most specific scope: its transport's
    /// scopes, then the transport's `""`, then `default`.
    pub fn requirements(&self, image: &Image) -> Result<&[Requirement]> {
        if let Some(scopes) = self.transports.get(image.transport) {
            if let Some(r) = image.scopes.iter().find_map(|s| scopes.get(s)) {
                return Ok(r);
            }
            if image.transport == "containers-storage" && scopes.keys().any(|k| !k.is_empty()) {
                bail!("Source image rejected: policy scopes of the containers-storage transport are not supported");
            }
            if let Some(r) = scopes.get("") {
                return Ok(r);
            }
        }
        Ok(&self.default)
    }
}

/// An image as the policy sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    /// containers/image's name of the transport (`docker`, `oci`, ...).
    pub transport: &'static str,
    /// As containers/image names it in errors (`docker://host/repo:tag`).
    pub name: String,
    /// The transport's scopes for it, most specific first (without `""`).
    pub scopes: Vec<String>,
    /// Its docker reference (the docker transport only).
    pub docker: Option<DockerRef>,
}

/// A path and its parent directories, absolute and resolved, without `/`.
fn path_scopes(path: &str) -> Vec<String> {
    let resolved = std::fs::canonicalize(path)
        .or_else(|_| std::path::absolute(path))
        .unwrap_or_else(|_| PathBuf::from(path));
    let mut s = resolved.to_string_lossy().into_owned();
    let mut res = Vec::new();
    while !s.is_empty() && s != "/" {
        res.push(s.clone());
        match s.rfind('/') {
            Some(i) if i > 0 => s.truncate(i),
            _ => break,
        }
    }
    res
}

impl Image {
    pub fn new(r: &ImageReference) -> Result<Image> {
        let path_image = |transport: &'static str| {
            let (dir, tag) = r.name.split_once(':').unwrap_or((&r.name, ""));
            Image {
                transport,
                name: format!("{transport}:{dir}:{tag}"),
                scopes: path_scopes(dir),
                docker: None,
            }
        };
        Ok(match r.transport {
            Transport::Registry => {
                let d = DockerRef::parse(&r.name)?.with_default_tag();
                Image {
                    transport: "docker",
                    name: format!("docker://{}", d.familiar()),
                    scopes: d.scopes(),
                    docker: Some(d),
                }
            }
            Transport::OciDir => path_image("oci"),
            Transport::OciArchive => path_image("oci-archive"),
            Transport::Dir => Image {
                transport: "dir",
                name: format!("dir:{}", r.name),
                scopes: path_scopes(&r.name),
                docker: None,
            },
            Transport::DockerArchive | Transport::ContainerStorage => {
                let transport = match r.transport {
                    Transport::DockerArchive => "docker-archive",
                    _ => "containers-storage",
                };
                Image {
                    transport,
                    name: format!("{transport}:{}", r.name),
                    scopes: Vec::new(),
                    docker: None,
                }
            }
        })
    }
}

/// Whether a signature claiming `signed` satisfies `identity` for an image
/// whose own reference is `intended` (containers/image's rules).
pub fn identity_accepted(identity: &Identity, intended: Option<&DockerRef>, signed: &str) -> bool {
    let Ok(sig) = DockerRef::parse(signed) else {
        return false;
    };
    match identity {
        Identity::MatchExact => intended.is_some_and(|i| {
            !i.is_name_only() && !sig.is_name_only() && i.to_string() == sig.to_string()
        }),
        Identity::MatchRepoDigestOrExact => match intended {
            _ if sig.is_name_only() => false,
            Some(i) if i.tag.is_some() => i.to_string() == sig.to_string(),
            Some(i) if i.digest.is_some() => i.name() == sig.name(),
            _ => false,
        },
        Identity::MatchRepository => intended.is_some_and(|i| i.name() == sig.name()),
        Identity::ExactReference(r) => !sig.is_name_only() && r.to_string() == sig.to_string(),
        Identity::ExactRepository(r) => r.name() == sig.name(),
        Identity::Unsupported(_) => false,
    }
}

fn rejected(why: impl std::fmt::Display) -> anyhow::Error {
    anyhow!("Source image rejected: {why}")
}

impl SignedBy {
    fn key_material(&self) -> Result<Vec<Vec<u8>>> {
        match &self.keys {
            Keys::Data(d) => Ok(vec![d.clone()]),
            Keys::Paths(paths) => paths
                .iter()
                .map(|p| std::fs::read(p).with_context(|| format!("Reading the key file {p}")))
                .collect(),
        }
    }

    /// One signature: a good one by one of the keys, for this manifest, of
    /// an accepted identity.
    fn accepts(
        &self,
        keys: &signature::Keyring,
        sig: &[u8],
        image: &Image,
        digest: &str,
    ) -> Result<()> {
        let payload = keys.verify(sig)?;
        let claim = signature::Claim::parse(&payload)?;
        if claim.digest != digest {
            bail!("Signature for digest {} does not match", claim.digest);
        }
        if !identity_accepted(&self.identity, image.docker.as_ref(), &claim.reference) {
            bail!("Signature for identity {} is not accepted", claim.reference);
        }
        Ok(())
    }

    /// At least one of the image's signatures must be accepted.
    fn check(&self, image: &Image, digest: &str, sigs: &[Vec<u8>]) -> Result<()> {
        if self.key_type != "GPGKeys" {
            return Err(rejected(format_args!(
                "signedBy keyType {:?} is not supported (only GPGKeys)",
                self.key_type
            )));
        }
        if let Identity::Unsupported(t) = &self.identity {
            return Err(rejected(format_args!(
                "signedIdentity type {t:?} is not supported"
            )));
        }
        if sigs.is_empty() {
            return Err(rejected(
                "A signature was required, but no signature exists",
            ));
        }
        let keys = self
            .key_material()
            .and_then(|k| signature::Keyring::new(&k))
            .map_err(|e| rejected(crate::output::one_line(&e)))?;
        let mut reasons = Vec::new();
        for sig in sigs {
            match self.accepts(&keys, sig, image, digest) {
                Ok(()) => return Ok(()),
                Err(e) => reasons.push(crate::output::one_line(&e)),
            }
        }
        Err(rejected(match reasons.as_slice() {
            [one] => one.clone(),
            many => format!(
                "None of the signatures were accepted, reasons: {}",
                many.join("; ")
            ),
        }))
    }
}

/// What an `ostree-image-signed:` reference must pass.
#[derive(Debug)]
pub struct Check {
    pub image: Image,
    pub requirements: Vec<Requirement>,
}

impl Check {
    /// The policy's requirements for `imgref` (read from [`POLICY_PATH`]), or
    /// None when its signatures are not the policy's business.
    pub fn for_imgref(imgref: &OstreeImageReference) -> Result<Option<Check>> {
        if imgref.sigverify != SignatureSource::ContainerPolicy {
            return Ok(None);
        }
        let policy = Policy::load(Path::new(POLICY_PATH))?;
        let image = Image::new(&imgref.imgref)?;
        let requirements = policy.requirements(&image)?.to_vec();
        Ok(Some(Check {
            image,
            requirements,
        }))
    }

    /// Every requirement must accept the image whose manifest has `digest`.
    pub fn enforce(&self, digest: &str) -> Result<()> {
        let mut sigs: Option<Vec<Vec<u8>>> = None;
        for r in &self.requirements {
            match r {
                Requirement::InsecureAcceptAnything => {}
                Requirement::Reject => {
                    return Err(rejected(format_args!(
                        "Running image {} is rejected by policy.",
                        self.image.name
                    )))
                }
                Requirement::Unsupported(t) => {
                    return Err(rejected(format_args!(
                        "policy requirement type {t:?} is not supported"
                    )))
                }
                Requirement::SignedBy(s) => {
                    if sigs.is_none() {
                        let found = match &self.image.docker {
                            Some(d) => lookaside::signatures(d, digest).map_err(|e| {
                                rejected(format_args!("{}", crate::output::one_line(&e)))
                            })?,
                            None => Vec::new(),
                        };
                        sigs = Some(found);
                    }
                    s.check(&self.image, digest, sigs.as_deref().unwrap_or_default())?;
                }
            }
        }
        Ok(())
    }
}

mod parse;

#[cfg(test)]
mod tests;
