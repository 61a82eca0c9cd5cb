//! Hidden helpers for packaging: man pages and shell completions generated from
//! the clap definitions.

use anyhow::{Context as _, Result};
use clap::CommandFactory;

use crate::client::Exit;
use crate::client::cli::{Cli, InternalsCmd};

fn write_page(cmd: &clap::Command, dir: &std::path::Path, name: &str) -> Result<()> {
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd.clone().name(name.to_string()))
        .render(&mut buf)
        .with_context(|| format!("Rendering {name}"))?;
    let path = dir.join(format!("{name}.1"));
    std::fs::write(&path, buf).with_context(|| format!("Writing {}", path.display()))
}

pub(crate) fn run(i: InternalsCmd) -> Result<Exit> {
    match i {
        InternalsCmd::Manpages { dir } => {
            std::fs::create_dir_all(&dir)?;
            let cmd = Cli::command();
            write_page(&cmd, &dir, "rpm-ostree")?;
            for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
                write_page(sub, &dir, &format!("rpm-ostree-{}", sub.get_name()))?;
            }
        }
        InternalsCmd::Completions { shell } => {
            let mut cmd = Cli::command();
            clap_complete::generate(shell, &mut cmd, "rpm-ostree", &mut std::io::stdout());
        }
    }
    Ok(Exit::Ok)
}
