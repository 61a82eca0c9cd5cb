//! `rpm-ostree compose container-encapsulate --repo=R REF IMGREF`: a commit
//! as a container image, made by the container helper (`rpm-ostreed-container
//! encapsulate`, installed beside the daemon), its layers grouping the files
//! of each package (read by `rpm-ostreed internal-file-owners`).

use anyhow::{Context as _, Result, anyhow, bail};

use super::Context;
use crate::client::Exit;
use crate::client::cli::{ComposeCmd, EncapsulateArgs};

pub(crate) fn run(cmd: ComposeCmd, _ctx: &Context) -> Result<Exit> {
    match cmd {
        ComposeCmd::ContainerEncapsulate(a) => encapsulate(&a),
    }
}

fn encapsulate(a: &EncapsulateArgs) -> Result<Exit> {
    if let Some(l) = a.labels.iter().find(|l| !l.contains('=')) {
        bail!("Invalid label '{l}': expected KEY=VALUE");
    }
    // ostree-ext packs a chunked image into no fewer layers.
    if let Some(n) = a.max_layers.filter(|n| *n < 4) {
        bail!("--max-layers {n}: a chunked image has at least 4 layers");
    }
    let labels: serde_json::Map<String, serde_json::Value> = a
        .labels
        .iter()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.into()))
        .collect();
    let request = serde_json::json!({
        "repo": a.repo,
        "rev": a.ostree_ref,
        "imgref": a.imgref,
        "labels": labels,
        "max_layers": a.max_layers,
        "components": components(&a.repo, &a.ostree_ref)?,
    });
    let helper = crate::client::daemon_executable().with_file_name("rpm-ostreed-container");
    let mut child = std::process::Command::new(&helper)
        .arg("encapsulate")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .with_context(|| format!("Running {}", helper.display()))?;
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().expect("piped stdin");
        // A helper that exits early says why on stdout; a write error is not it.
        let _ = stdin.write_all(request.to_string().as_bytes());
    }
    let out = child
        .wait_with_output()
        .with_context(|| format!("Running {}", helper.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let last: serde_json::Value = text
        .lines()
        .last()
        .and_then(|l| serde_json::from_str(l).ok())
        .unwrap_or_default();
    if let Some(e) = last.get("error").and_then(|e| e.as_str()) {
        bail!("{e}");
    }
    let digest = last["done"]["manifest_digest"]
        .as_str()
        .ok_or_else(|| anyhow!("{} failed ({})", helper.display(), out.status))?;
    println!("Pushed digest: {digest}");
    Ok(Exit::Ok)
}

/// The packages of the tree of `rev` in `repo` with their files, from
/// `rpm-ostreed internal-file-owners` (the client does not link libostree).
fn components(repo: &std::path::Path, rev: &str) -> Result<serde_json::Value> {
    crate::client::pkgdiff::daemon_executable_json(
        &[
            "internal-file-owners".as_ref(),
            repo.as_os_str(),
            rev.as_ref(),
        ],
        "rpm-ostreed internal-file-owners",
    )
}
