//! policy.json as containers/image parses it: strictly (an unknown key, a
//! missing one or an empty list of requirements makes the whole file
//! invalid), except that requirement and identity types this helper cannot
//! check are kept as `Unsupported`, refused only when an image needs them.

use super::{Identity, Keys, Policy, Requirement, SignedBy};
use crate::dockerref::DockerRef;
use anyhow::{anyhow, bail, Context, Result};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::Path;

fn object<'a>(v: &'a Value, what: &str) -> Result<&'a Map<String, Value>> {
    v.as_object()
        .ok_or_else(|| anyhow!("{what} must be a JSON object"))
}

fn only_keys(m: &Map<String, Value>, allowed: &[&str], what: &str) -> Result<()> {
    match m.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => bail!("unknown key {k:?} in {what}"),
        None => Ok(()),
    }
}

fn string<'a>(m: &'a Map<String, Value>, key: &str, what: &str) -> Result<Option<&'a str>> {
    m.get(key)
        .map(|v| {
            v.as_str()
                .ok_or_else(|| anyhow!("{key:?} of {what} must be a string"))
        })
        .transpose()
}

fn parse_identity(v: &Value) -> Result<Identity> {
    let what = "signedIdentity";
    let m = object(v, what)?;
    let ty = string(m, "type", what)?.ok_or_else(|| anyhow!("{what} has no \"type\""))?;
    let simple = |id| only_keys(m, &["type"], what).map(|()| id);
    Ok(match ty {
        "matchRepoDigestOrExact" => simple(Identity::MatchRepoDigestOrExact)?,
        "matchExact" => simple(Identity::MatchExact)?,
        "matchRepository" => simple(Identity::MatchRepository)?,
        "exactReference" => {
            only_keys(m, &["type", "dockerReference"], what)?;
            let r = string(m, "dockerReference", what)?
                .ok_or_else(|| anyhow!("exactReference has no \"dockerReference\""))?;
            let r = DockerRef::parse(r)?;
            if r.is_name_only() {
                bail!("dockerReference {r} of exactReference has neither a tag nor a digest");
            }
            Identity::ExactReference(r)
        }
        "exactRepository" => {
            only_keys(m, &["type", "dockerRepository"], what)?;
            let r = string(m, "dockerRepository", what)?
                .ok_or_else(|| anyhow!("exactRepository has no \"dockerRepository\""))?;
            Identity::ExactRepository(DockerRef::parse(r)?)
        }
        other => Identity::Unsupported(other.to_string()),
    })
}

fn parse_signed_by(m: &Map<String, Value>) -> Result<SignedBy> {
    let what = "a signedBy requirement";
    let keys = [
        "type",
        "keyType",
        "keyPath",
        "keyPaths",
        "keyData",
        "signedIdentity",
    ];
    only_keys(m, &keys, what)?;
    let key_type = string(m, "keyType", what)?
        .ok_or_else(|| anyhow!("{what} has no \"keyType\""))?
        .to_string();
    let sources = ["keyPath", "keyPaths", "keyData"];
    if sources.iter().filter(|k| m.contains_key(**k)).count() != 1 {
        bail!("{what} needs exactly one of keyPath, keyPaths and keyData");
    }
    let keys = if let Some(p) = string(m, "keyPath", what)? {
        Keys::Paths(vec![p.to_string()])
    } else if let Some(d) = string(m, "keyData", what)? {
        Keys::Data(base64::decode(d).context("keyData of a signedBy requirement")?)
    } else {
        let paths = m["keyPaths"].as_array().filter(|a| !a.is_empty());
        let paths = paths.ok_or_else(|| anyhow!("keyPaths must be a non-empty list"))?;
        let paths = paths.iter().map(|p| p.as_str().map(String::from));
        Keys::Paths(
            paths
                .collect::<Option<_>>()
                .ok_or_else(|| anyhow!("keyPaths must be a list of strings"))?,
        )
    };
    let identity = match m.get("signedIdentity") {
        Some(v) => parse_identity(v)?,
        None => Identity::MatchRepoDigestOrExact,
    };
    Ok(SignedBy {
        key_type,
        keys,
        identity,
    })
}

fn parse_requirement(v: &Value) -> Result<Requirement> {
    let what = "a policy requirement";
    let m = object(v, what)?;
    let ty = string(m, "type", what)?.ok_or_else(|| anyhow!("{what} has no \"type\""))?;
    Ok(match ty {
        "insecureAcceptAnything" => {
            only_keys(m, &["type"], ty)?;
            Requirement::InsecureAcceptAnything
        }
        "reject" => {
            only_keys(m, &["type"], ty)?;
            Requirement::Reject
        }
        "signedBy" => Requirement::SignedBy(parse_signed_by(m)?),
        other => Requirement::Unsupported(other.to_string()),
    })
}

fn parse_list(v: &Value, what: &str) -> Result<Vec<Requirement>> {
    let list = v
        .as_array()
        .ok_or_else(|| anyhow!("{what} must be a list of requirements"))?;
    if list.is_empty() {
        bail!("{what} is an empty list of requirements");
    }
    list.iter()
        .map(parse_requirement)
        .collect::<Result<_>>()
        .with_context(|| what.to_string())
}

impl Policy {
    pub fn parse(text: &str) -> Result<Policy> {
        let v: Value = serde_json::from_str(text)?;
        let top = object(&v, "the policy")?;
        only_keys(top, &["default", "transports"], "the policy")?;
        let default = top
            .get("default")
            .ok_or_else(|| anyhow!("the policy has no \"default\""))?;
        let mut policy = Policy {
            default: parse_list(default, "\"default\"")?,
            transports: BTreeMap::new(),
        };
        if let Some(t) = top.get("transports") {
            for (transport, scopes) in object(t, "\"transports\"")? {
                let mut parsed = BTreeMap::new();
                for (scope, list) in object(scopes, &format!("transport {transport:?}"))? {
                    let what = format!("scope {scope:?} of transport {transport:?}");
                    parsed.insert(scope.clone(), parse_list(list, &what)?);
                }
                policy.transports.insert(transport.clone(), parsed);
            }
        }
        Ok(policy)
    }

    pub fn load(path: &Path) -> Result<Policy> {
        std::fs::read_to_string(path)
            .map_err(anyhow::Error::from)
            .and_then(|t| Policy::parse(&t))
            .with_context(|| format!("Reading the signature policy {}", path.display()))
    }
}
