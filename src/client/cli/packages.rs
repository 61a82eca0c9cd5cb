//! The arguments of the package verbs: `install`, `uninstall`, `reset` and
//! `override`.

use clap::{Args, Subcommand};

use super::{DaemonOpts, OsOpts};

/// The options `install` and `uninstall` share.
#[derive(Debug, Args)]
pub struct LayeringOpts {
    #[command(flatten)]
    pub daemon: DaemonOpts,
    #[command(flatten)]
    pub os: OsOpts,
    /// Initiate a reboot after operation is complete
    #[arg(short, long)]
    pub reboot: bool,
    /// Exit after printing the transaction
    #[arg(short = 'n', long)]
    pub dry_run: bool,
    /// Auto-confirm interactive prompts for non-security questions
    #[arg(short = 'y', long)]
    pub assumeyes: bool,
    /// Allow inactive package requests
    #[arg(long)]
    pub allow_inactive: bool,
    /// Do nothing if package already (un)installed
    #[arg(long)]
    pub idempotent: bool,
    /// If no overlays were changed, exit 77
    #[arg(long)]
    pub unchanged_exit_77: bool,
    /// Prevent automatic deployment finalization on shutdown
    #[arg(long)]
    pub lock_finalization: bool,
    /// Do not download latest ostree and RPM data
    #[arg(short = 'C', long)]
    pub cache_only: bool,
    /// Just download latest ostree and RPM data, don't deploy
    #[arg(long)]
    pub download_only: bool,
    /// Apply changes to both pending deployment and running filesystem tree
    #[arg(short = 'A', long)]
    pub apply_live: bool,
}

#[derive(Debug, Args)]
pub struct InstallArgs {
    #[command(flatten)]
    pub common: LayeringOpts,
    /// Remove overlayed additional package
    #[arg(long, value_name = "PKG")]
    pub uninstall: Vec<String>,
    /// Allow package to replace files from other packages
    #[arg(long)]
    pub force_replacefiles: bool,
    #[arg(value_name = "PACKAGE")]
    pub packages: Vec<String>,
}

#[derive(Debug, Args)]
pub struct UninstallArgs {
    #[command(flatten)]
    pub common: LayeringOpts,
    /// Overlay additional package
    #[arg(long, value_name = "PKG")]
    pub install: Vec<String>,
    /// Remove all overlayed additional packages
    #[arg(long)]
    pub all: bool,
    #[arg(value_name = "PACKAGE")]
    pub packages: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ResetArgs {
    #[command(flatten)]
    pub daemon: DaemonOpts,
    #[command(flatten)]
    pub os: OsOpts,
    /// Initiate a reboot after transaction is complete
    #[arg(short, long)]
    pub reboot: bool,
    /// Remove all overlayed packages
    #[arg(short = 'l', long)]
    pub overlays: bool,
    /// Remove all overrides
    #[arg(short = 'o', long)]
    pub overrides: bool,
    /// Stop regenerating initramfs or tracking files
    #[arg(short = 'i', long)]
    pub initramfs: bool,
    /// Prevent automatic deployment finalization on shutdown
    #[arg(long, hide = true)]
    pub lock_finalization: bool,
    /// Overlay additional package
    #[arg(long, value_name = "PKG")]
    pub install: Vec<String>,
    /// Remove overlayed additional package
    #[arg(long, value_name = "PKG")]
    pub uninstall: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum OverrideCmd {
    /// Remove packages from the base layer
    Remove(OverrideRemoveArgs),
    /// Reset currently active package overrides
    Reset(OverrideResetArgs),
    /// Replace packages in the base layer
    Replace(OverrideReplaceArgs),
}

/// What every `override` verb takes.
#[derive(Debug, Args)]
pub struct OverrideOpts {
    #[command(flatten)]
    pub daemon: DaemonOpts,
    #[command(flatten)]
    pub os: OsOpts,
    /// Initiate a reboot after operation is complete
    #[arg(short, long)]
    pub reboot: bool,
    /// Exit after printing the transaction
    #[arg(short = 'n', long)]
    pub dry_run: bool,
    /// Prevent automatic deployment finalization on shutdown
    #[arg(long)]
    pub lock_finalization: bool,
}

#[derive(Debug, Args)]
pub struct OverrideRemoveArgs {
    #[command(flatten)]
    pub common: OverrideOpts,
    /// Replace a package
    #[arg(long, value_name = "RPM")]
    pub replace: Vec<String>,
    #[arg(value_name = "PACKAGE")]
    pub packages: Vec<String>,
}

#[derive(Debug, Args)]
pub struct OverrideResetArgs {
    #[command(flatten)]
    pub common: OverrideOpts,
    /// Reset all active overrides
    #[arg(short, long)]
    pub all: bool,
    #[arg(value_name = "PACKAGE")]
    pub packages: Vec<String>,
}

#[derive(Debug, Args)]
pub struct OverrideReplaceArgs {
    #[command(flatten)]
    pub common: OverrideOpts,
    /// Remove a package
    #[arg(long, value_name = "PKG")]
    pub remove: Vec<String>,
    /// Enable experimental features
    #[arg(long, hide = true)]
    pub experimental: bool,
    /// Pin to the current versions of the packages
    #[arg(long, hide = true)]
    pub freeze: bool,
    /// Source for the replacements (repo=NAME)
    #[arg(long, value_name = "KIND=NAME", hide = true)]
    pub from: Option<String>,
    #[arg(value_name = "PACKAGE")]
    pub packages: Vec<String>,
}
