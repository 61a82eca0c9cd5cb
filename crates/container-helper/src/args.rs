//! Command lines: `VERB [OPTIONS] POSITIONALS`, options as `--name VALUE` or
//! `--name=VALUE`, flags as `--name`. Each verb parses into its request.
//! A bare `VERB` reads the request as one JSON object on stdin instead (the
//! daemon's helper protocol), its keys the options' and positionals' names
//! with `_` for `-`: `{"repo": R, "imgref": I}` (import, check; plus
//! `insecure_skip_tls_verification`), `{"repo", "rev", "imgref", "labels", "max_layers", "components"}`
//! (encapsulate), `{"repo", "keep"}` (prune).

use anyhow::{anyhow, bail, Context, Result};
use serde::Deserialize;
use std::collections::BTreeMap;

/// `encapsulate --repo R [--label K=V]... [--max-layers N] REV IMGREF`;
/// `components` only in the JSON request.
#[derive(Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Encapsulate {
    pub repo: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// At most this many layers (ostree-ext's default: 64).
    #[serde(default)]
    pub max_layers: Option<std::num::NonZeroU32>,
    /// What owns the tree's files (packages): the layers group them. None:
    /// one layer.
    #[serde(default)]
    pub components: Vec<Component>,
    pub rev: String,
    pub imgref: String,
}

/// A component of a tree (a package) and the files it owns.
#[derive(Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Component {
    /// Unique: a NEVRA.
    pub identifier: String,
    /// The package name.
    pub name: String,
    /// Its source (the source RPM): components of one source go together.
    pub srcid: String,
    /// Relative age of its last change (hours since the oldest build).
    pub change_time_offset: u32,
    /// How often it changes (its changelog entries).
    pub change_frequency: u32,
    /// Absolute paths as the package records them; `/etc/...` is the
    /// tree's `/usr/etc/...`.
    pub paths: Vec<String>,
}

/// `import --repo R [--insecure-skip-tls-verification] IMGREF` and
/// `check --repo R [--insecure-skip-tls-verification] IMGREF`
#[derive(Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fetch {
    pub repo: String,
    #[serde(default)]
    pub insecure_skip_tls_verification: bool,
    pub imgref: String,
}

/// `prune --repo R [--keep IMGREF]...`
#[derive(Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prune {
    pub repo: String,
    #[serde(default)]
    pub keep: Vec<String>,
}

#[derive(Debug, PartialEq)]
pub enum Request {
    Encapsulate(Encapsulate),
    Import(Fetch),
    Check(Fetch),
    Prune(Prune),
}

impl Request {
    /// The verb, for the log.
    pub fn verb(&self) -> &'static str {
        match self {
            Request::Encapsulate(_) => "encapsulate",
            Request::Import(_) => "import",
            Request::Check(_) => "check",
            Request::Prune(_) => "prune",
        }
    }
}

/// Options that take a value, and flags, per verb.
fn known(verb: &str) -> Option<(&'static [&'static str], &'static [&'static str])> {
    Some(match verb {
        "encapsulate" => (&["repo", "label", "max-layers"], &[]),
        "import" | "check" => (&["repo"], &["insecure-skip-tls-verification"]),
        "prune" => (&["repo", "keep"], &[]),
        _ => return None,
    })
}

struct Parsed {
    values: Vec<(String, String)>,
    flags: Vec<String>,
    positionals: Vec<String>,
}

impl Parsed {
    fn one(&self, name: &str) -> Result<String> {
        let mut it = self.values.iter().filter(|(n, _)| n == name);
        match (it.next(), it.next()) {
            (Some((_, v)), None) => Ok(v.clone()),
            (None, _) => Err(anyhow!("--{name} is required")),
            (Some(_), Some(_)) => Err(anyhow!("--{name} given twice")),
        }
    }

    fn all(&self, name: &str) -> Vec<String> {
        self.values
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    fn flag(&self, name: &str) -> bool {
        self.flags.iter().any(|f| f == name)
    }

    fn positionals<const N: usize>(&self, names: [&str; N]) -> Result<[String; N]> {
        self.positionals.clone().try_into().map_err(|_| {
            if N == 0 {
                anyhow!("unexpected arguments: {}", self.positionals.join(" "))
            } else {
                anyhow!("expected {}", names.join(" "))
            }
        })
    }
}

fn parse_options(verb: &str, args: &[String]) -> Result<Parsed> {
    let (with_value, flags) = known(verb).ok_or_else(|| anyhow!("unknown verb '{verb}'"))?;
    let mut parsed = Parsed {
        values: Vec::new(),
        flags: Vec::new(),
        positionals: Vec::new(),
    };
    let mut it = args.iter();
    let mut only_positionals = false;
    while let Some(arg) = it.next() {
        let Some(opt) = arg.strip_prefix("--").filter(|_| !only_positionals) else {
            parsed.positionals.push(arg.clone());
            continue;
        };
        if opt.is_empty() {
            only_positionals = true;
            continue;
        }
        let (name, inline) = match opt.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (opt, None),
        };
        if with_value.contains(&name) {
            let value = match inline {
                Some(v) => v,
                None => it
                    .next()
                    .cloned()
                    .ok_or_else(|| anyhow!("--{name} needs a value"))?,
            };
            parsed.values.push((name.to_string(), value));
        } else if flags.contains(&name) && inline.is_none() {
            parsed.flags.push(name.to_string());
        } else {
            bail!("{verb}: unknown option --{name}");
        }
    }
    Ok(parsed)
}

/// A bare verb: its request in JSON (`stdin`, read to the end).
pub fn parse_json(verb: &str, stdin: &str) -> Result<Request> {
    known(verb).ok_or_else(|| anyhow!("unknown verb '{verb}'"))?;
    let bad = || format!("{verb}: the request on stdin");
    Ok(match verb {
        "encapsulate" => Request::Encapsulate(serde_json::from_str(stdin).with_context(bad)?),
        "import" => Request::Import(serde_json::from_str(stdin).with_context(bad)?),
        "check" => Request::Check(serde_json::from_str(stdin).with_context(bad)?),
        _ => Request::Prune(serde_json::from_str(stdin).with_context(bad)?),
    })
}

/// Parses the arguments after the program name.
pub fn parse(args: &[String]) -> Result<Request> {
    let (verb, rest) = args
        .split_first()
        .ok_or_else(|| anyhow!("a verb is required: encapsulate, import, check or prune"))?;
    let p = parse_options(verb, rest)?;
    let fetch = |p: &Parsed| -> Result<Fetch> {
        let [imgref] = p.positionals(["IMGREF"])?;
        Ok(Fetch {
            repo: p.one("repo")?,
            insecure_skip_tls_verification: p.flag("insecure-skip-tls-verification"),
            imgref,
        })
    };
    Ok(match verb.as_str() {
        "encapsulate" => {
            let [rev, imgref] = p.positionals(["REV", "IMGREF"])?;
            let mut labels = BTreeMap::new();
            for l in p.all("label") {
                let (k, v) = l
                    .split_once('=')
                    .ok_or_else(|| anyhow!("--label {l}: expected KEY=VALUE"))?;
                labels.insert(k.to_string(), v.to_string());
            }
            let max_layers =
                match p.all("max-layers").as_slice() {
                    [] => None,
                    [n] => Some(n.parse().map_err(|_| {
                        anyhow!("--max-layers {n}: expected a number greater than 0")
                    })?),
                    _ => bail!("--max-layers given twice"),
                };
            Request::Encapsulate(Encapsulate {
                repo: p.one("repo")?,
                labels,
                max_layers,
                components: Vec::new(),
                rev,
                imgref,
            })
        }
        "import" => Request::Import(fetch(&p)?),
        "check" => Request::Check(fetch(&p)?),
        "prune" => {
            p.positionals([])?;
            Request::Prune(Prune {
                repo: p.one("repo")?,
                keep: p.all("keep"),
            })
        }
        _ => unreachable!("known() accepted the verb"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn verbs() {
        assert_eq!(
            parse(&v(&[
                "import",
                "--repo=/r",
                "--insecure-skip-tls-verification",
                "x"
            ]))
            .unwrap(),
            Request::Import(Fetch {
                repo: "/r".into(),
                insecure_skip_tls_verification: true,
                imgref: "x".into()
            })
        );
        assert_eq!(
            parse(&v(&["prune", "--repo", "/r", "--keep", "a", "--keep=b"])).unwrap(),
            Request::Prune(Prune {
                repo: "/r".into(),
                keep: v(&["a", "b"])
            })
        );
        let Request::Encapsulate(e) = parse(&v(&[
            "encapsulate",
            "--repo",
            "/r",
            "--label=a=b",
            "rev",
            "oci:/x",
        ]))
        .unwrap() else {
            panic!()
        };
        assert_eq!(e.labels.get("a").map(String::as_str), Some("b"));
        assert_eq!((e.rev.as_str(), e.imgref.as_str()), ("rev", "oci:/x"));
    }

    #[test]
    fn json_requests() {
        assert_eq!(
            parse_json("check", r#"{"repo": "/r", "imgref": "x"}"#).unwrap(),
            Request::Check(Fetch {
                repo: "/r".into(),
                insecure_skip_tls_verification: false,
                imgref: "x".into()
            })
        );
        assert_eq!(
            parse_json("prune", r#"{"repo": "/r"}"#).unwrap(),
            Request::Prune(Prune {
                repo: "/r".into(),
                keep: vec![]
            })
        );
        let e = parse_json("import", r#"{"repo": "/r", "imgref": "x", "bogus": 1}"#);
        assert!(format!("{:#}", e.unwrap_err()).starts_with("import: the request on stdin: "));
        assert!(parse_json("frob", "{}").is_err());
    }

    #[test]
    fn bad_command_lines() {
        let err = |a: &[&str]| parse(&v(a)).unwrap_err().to_string();
        assert_eq!(err(&["frob"]), "unknown verb 'frob'");
        assert_eq!(err(&["import", "x"]), "--repo is required");
        assert_eq!(err(&["import", "--repo=/r"]), "expected IMGREF");
        assert_eq!(
            err(&["check", "--bogus", "x"]),
            "check: unknown option --bogus"
        );
        assert_eq!(err(&["prune", "--repo=/r", "x"]), "unexpected arguments: x");
        assert_eq!(
            err(&["encapsulate", "--repo=/r", "--label=x", "a", "b"]),
            "--label x: expected KEY=VALUE"
        );
    }
}
