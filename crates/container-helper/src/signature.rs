//! "Simple signing" signatures (containers-signature(5)): an OpenPGP-signed
//! JSON claim that a manifest digest is an image identity. GnuPG checks the
//! OpenPGP part, in a throwaway home holding only a requirement's keys (no
//! agent, no key server); this module reads its status lines and the claim.

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{Map, Value};
use std::path::Path;
use std::process::{Command, Stdio};

/// A throwaway GnuPG home with some public keys; removed when dropped.
pub struct Keyring {
    home: tempfile::TempDir,
    /// Fingerprints of the keys and their subkeys.
    fingerprints: Vec<String>,
}

fn gpg(home: &Path) -> Command {
    let mut c = Command::new("gpg");
    c.arg("--homedir")
        .arg(home)
        .args(["--batch", "--no-tty", "--quiet", "--no-autostart"])
        .args(["--no-auto-key-retrieve", "--no-permission-warning"])
        .stdin(Stdio::null());
    c
}

/// Runs gpg; its stderr (one line) on failure.
fn run(cmd: &mut Command, what: &str) -> Result<Vec<u8>> {
    let out = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .context("Running gpg")?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        bail!(
            "{what}: {}",
            err.split_whitespace().collect::<Vec<_>>().join(" ")
        );
    }
    Ok(out.stdout)
}

impl Keyring {
    /// Imports `keys` (each a binary or armored OpenPGP key block).
    pub fn new(keys: &[Vec<u8>]) -> Result<Keyring> {
        let home = tempfile::Builder::new()
            .prefix("rpm-ostreed-gpg.")
            .tempdir()
            .context("Creating a GnuPG home")?;
        for (i, k) in keys.iter().enumerate() {
            let file = home.path().join(format!("key-{i}"));
            std::fs::write(&file, k).context("Writing a key")?;
            run(
                gpg(home.path()).arg("--import").arg(&file),
                "Importing keys",
            )?;
        }
        let listing = run(
            gpg(home.path()).args(["--with-colons", "--with-subkey-fingerprint", "--list-keys"]),
            "Listing keys",
        )?;
        let fingerprints: Vec<String> = String::from_utf8_lossy(&listing)
            .lines()
            .filter(|l| l.starts_with("fpr:"))
            .filter_map(|l| l.split(':').nth(9).map(String::from))
            .collect();
        if fingerprints.is_empty() {
            bail!("No public keys imported");
        }
        Ok(Keyring { home, fingerprints })
    }

    /// The signed payload of `sig`, if it holds exactly one good signature
    /// by one of the keys.
    pub fn verify(&self, sig: &[u8]) -> Result<Vec<u8>> {
        let dir = tempfile::Builder::new()
            .prefix("sig.")
            .tempdir_in(self.home.path())?;
        let (input, output, status) = (
            dir.path().join("signature"),
            dir.path().join("payload"),
            dir.path().join("status"),
        );
        std::fs::write(&input, sig)?;
        let out = gpg(self.home.path())
            .args(["--trust-model", "always", "--status-file"])
            .arg(&status)
            .arg("--output")
            .arg(&output)
            .arg("--decrypt")
            .arg(&input)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .context("Running gpg")?;
        let status = std::fs::read_to_string(&status).unwrap_or_default();
        let fpr = good_signature(&status).map_err(|why| {
            let err = String::from_utf8_lossy(&out.stderr);
            let err = err.split_whitespace().collect::<Vec<_>>().join(" ");
            // gpg's own words only where the status lines said nothing.
            match why.as_str() {
                NO_SIGNATURE | NOT_VALID if !err.is_empty() => {
                    anyhow!("Invalid GPG signature: {why} ({err})")
                }
                _ => anyhow!("Invalid GPG signature: {why}"),
            }
        })?;
        if !out.status.success() {
            bail!("Invalid GPG signature: gpg failed ({})", out.status);
        }
        if !self
            .fingerprints
            .iter()
            .any(|f| f.eq_ignore_ascii_case(&fpr))
        {
            bail!("Signature by key {fpr} is not accepted");
        }
        Ok(std::fs::read(&output)?)
    }
}

const NO_SIGNATURE: &str = "no signature found";
const NOT_VALID: &str = "the signature is not valid";

/// The signing key's fingerprint, if gpg's status lines tell of exactly one
/// signature, good and valid; else what was wrong.
pub fn good_signature(status: &str) -> std::result::Result<String, String> {
    let lines: Vec<Vec<&str>> = status
        .lines()
        .filter_map(|l| l.strip_prefix("[GNUPG:] "))
        .map(|l| l.split(' ').collect())
        .collect();
    let count = |kw: &str| lines.iter().filter(|l| l[0] == kw).count();
    let bad = [
        "BADSIG",
        "ERRSIG",
        "EXPSIG",
        "EXPKEYSIG",
        "REVKEYSIG",
        "NO_PUBKEY",
    ];
    if let Some(l) = lines.iter().find(|l| bad.contains(&l[0])) {
        // ERRSIG <keyid> <algo> <hash> <class> <time> <rc> <fingerprint>
        let key = match l[0] {
            "ERRSIG" => l.get(7).filter(|f| **f != "-").or(l.get(1)),
            _ => l.get(1),
        };
        let key = key.unwrap_or(&"");
        return Err(match l[0] {
            "NO_PUBKEY" => format!("signed by an unknown key {key}"),
            "ERRSIG" if l.get(6) == Some(&"9") => format!("signed by an unknown key {key}"),
            "ERRSIG" => format!("cannot check the signature by key {key}"),
            "BADSIG" => format!("bad signature by key {key}"),
            "EXPKEYSIG" => "the signing key has expired".into(),
            "REVKEYSIG" => "the signing key is revoked".into(),
            _ => "the signature has expired".into(),
        });
    }
    match (count("NEWSIG"), count("GOODSIG"), count("VALIDSIG")) {
        (0, 0, 0) => return Err(NO_SIGNATURE.into()),
        (1, 1, 1) => {}
        (n, _, _) if n > 1 => return Err(format!("{n} signatures where one was expected")),
        _ => return Err(NOT_VALID.into()),
    }
    let valid = lines.iter().find(|l| l[0] == "VALIDSIG").expect("counted");
    // VALIDSIG <signing key fpr> ... <primary key fpr> (the 10th field).
    Ok(valid.get(10).or(valid.get(1)).unwrap_or(&"").to_string())
}

/// What a signature claims.
#[derive(Debug, PartialEq, Eq)]
pub struct Claim {
    /// `critical.image.docker-manifest-digest`
    pub digest: String,
    /// `critical.identity.docker-reference`
    pub reference: String,
}

fn object<'a>(v: &'a Value, what: &str, keys: &[&str]) -> Result<&'a Map<String, Value>> {
    let m = v
        .as_object()
        .ok_or_else(|| anyhow!("Invalid signature: {what} is not a JSON object"))?;
    if let Some(k) = m.keys().find(|k| !keys.contains(&k.as_str())) {
        bail!("Invalid signature: unknown key {k:?} in {what}");
    }
    for k in keys {
        if !m.contains_key(*k) {
            bail!("Invalid signature: {what} has no {k:?}");
        }
    }
    Ok(m)
}

fn string<'a>(m: &'a Map<String, Value>, key: &str) -> Result<&'a str> {
    m[key]
        .as_str()
        .ok_or_else(|| anyhow!("Invalid signature: {key:?} is not a string"))
}

impl Claim {
    /// The signed JSON: every critical key understood, `optional` free-form.
    pub fn parse(payload: &[u8]) -> Result<Claim> {
        let v: Value = serde_json::from_slice(payload)
            .map_err(|e| anyhow!("Invalid signature: the payload is not JSON: {e}"))?;
        let top = object(&v, "the payload", &["critical", "optional"])?;
        let critical = object(&top["critical"], "critical", &["type", "image", "identity"])?;
        let ty = string(critical, "type")?;
        if ty != "atomic container signature" {
            bail!("Invalid signature: unrecognized signature type {ty:?}");
        }
        let image = object(
            &critical["image"],
            "critical.image",
            &["docker-manifest-digest"],
        )?;
        let identity = object(
            &critical["identity"],
            "critical.identity",
            &["docker-reference"],
        )?;
        if !top["optional"].is_object() {
            bail!("Invalid signature: optional is not a JSON object");
        }
        Ok(Claim {
            digest: string(image, "docker-manifest-digest")?.to_string(),
            reference: string(identity, "docker-reference")?.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims() {
        let ok = br#"{"critical":{"type":"atomic container signature","image":{"docker-manifest-digest":"sha256:ab"},"identity":{"docker-reference":"h/r:t"}},"optional":{"creator":"x","timestamp":1}}"#;
        let c = Claim::parse(ok).unwrap();
        assert_eq!(
            (c.digest.as_str(), c.reference.as_str()),
            ("sha256:ab", "h/r:t")
        );
        let bad = |s: &str, needle: &str| {
            let e = Claim::parse(s.as_bytes()).unwrap_err().to_string();
            assert!(
                e.starts_with("Invalid signature: ") && e.contains(needle),
                "{e}"
            );
        };
        bad("not json", "not JSON");
        bad(r#"{"critical":{}}"#, "has no \"optional\"");
        bad(
            r#"{"critical":{"type":"other","image":{"docker-manifest-digest":"d"},"identity":{"docker-reference":"r"}},"optional":{}}"#,
            "unrecognized signature type",
        );
        bad(
            r#"{"critical":{"type":"atomic container signature","image":{"docker-manifest-digest":"d"},"identity":{"docker-reference":"r"},"extra":1},"optional":{}}"#,
            "unknown key \"extra\"",
        );
        bad(
            r#"{"critical":{"type":"atomic container signature","image":{"docker-manifest-digest":1},"identity":{"docker-reference":"r"}},"optional":{}}"#,
            "is not a string",
        );
    }

    #[test]
    fn status_lines() {
        let good = "[GNUPG:] NEWSIG\n[GNUPG:] GOODSIG 1234 u\n[GNUPG:] VALIDSIG SUB 2026-01-01 1 0 4 0 1 8 00 PRIMARY\n";
        assert_eq!(good_signature(good).unwrap(), "PRIMARY");
        let unknown =
            "[GNUPG:] NEWSIG\n[GNUPG:] ERRSIG 2760216D 1 8 00 1 9 -\n[GNUPG:] NO_PUBKEY 2760216D\n";
        assert_eq!(
            good_signature(unknown).unwrap_err(),
            "signed by an unknown key 2760216D"
        );
        let unknown = "[GNUPG:] NEWSIG\n[GNUPG:] ERRSIG 2760216D 22 8 00 1 9 F00D2760216D\n";
        assert_eq!(
            good_signature(unknown).unwrap_err(),
            "signed by an unknown key F00D2760216D"
        );
        assert!(good_signature("").is_err());
        let two = format!("{good}{good}");
        assert!(good_signature(&two).unwrap_err().contains("2 signatures"));
        let bad = "[GNUPG:] NEWSIG\n[GNUPG:] BADSIG 1234 u\n";
        assert!(good_signature(bad)
            .unwrap_err()
            .starts_with("bad signature"));
    }
}
