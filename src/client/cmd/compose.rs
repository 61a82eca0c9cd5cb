//! `rpm-ostree compose container-encapsulate --repo=R REF IMGREF`: a commit
//! as a container image, made by the container helper (`rpm-ostreed-container
//! encapsulate`, installed beside the daemon).

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
    let helper = crate::client::daemon_executable().with_file_name("rpm-ostreed-container");
    let mut cmd = std::process::Command::new(&helper);
    cmd.arg("encapsulate").arg("--repo").arg(&a.repo);
    for l in &a.labels {
        cmd.args(["--label", l]);
    }
    cmd.args([&a.ostree_ref, &a.imgref]);
    let out = cmd
        .stderr(std::process::Stdio::inherit())
        .output()
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
