//! The command line: every verb and flag of the drop-in `rpm-ostree`, as clap
//! definitions (also the source of the shell completions and man pages).

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

mod packages;
pub use packages::*;

#[derive(Debug, Parser)]
#[command(
    name = "rpm-ostree",
    about = "Manage an image-based system through the rpm-ostree daemon",
    disable_version_flag = true,
    subcommand_required = false,
    arg_required_else_help = true
)]
pub struct Cli {
    /// Print version information and exit
    #[arg(long, global = true)]
    pub version: bool,
    /// Avoid printing most informational messages
    #[arg(short, long, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Options of every command that talks to the daemon.
#[derive(Debug, Args, Clone, Default)]
pub struct DaemonOpts {
    /// Use system root SYSROOT (default: /)
    #[arg(long, value_name = "SYSROOT")]
    pub sysroot: Option<PathBuf>,
    /// Force a peer-to-peer connection instead of using the system message bus
    #[arg(long, hide = true)]
    pub peer: bool,
}

/// `--stateroot`/`--os`.
#[derive(Debug, Args, Clone, Default)]
pub struct OsOpts {
    /// Operate on provided STATEROOT
    #[arg(long, alias = "os", value_name = "STATEROOT")]
    pub stateroot: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Get the version of the booted system
    Status(StatusArgs),
    /// Perform a system upgrade
    #[command(alias = "update")]
    Upgrade(UpgradeArgs),
    /// Deploy a specific commit
    Deploy(DeployArgs),
    /// Switch to a different tree
    Rebase(RebaseArgs),
    /// Revert to the previously booted tree
    Rollback(RollbackArgs),
    /// Clear cached/pending data
    Cleanup(CleanupArgs),
    /// Overlay additional packages
    #[command(alias = "pkg-add")]
    Install(InstallArgs),
    /// Remove overlayed additional packages
    #[command(aliases = ["pkg-remove", "remove"])]
    Uninstall(UninstallArgs),
    /// Remove all mutations
    Reset(ResetArgs),
    /// Manage base package overrides
    #[command(subcommand)]
    Override(OverrideCmd),
    /// Generate rpm repo metadata
    #[command(name = "refresh-md", alias = "makecache")]
    RefreshMd(RefreshMdArgs),
    /// Search for packages
    Search(SearchArgs),
    /// Query or modify kernel arguments
    Kargs(KargsArgs),
    /// Enable or disable local initramfs regeneration
    Initramfs(InitramfsArgs),
    /// Add files to the initramfs
    InitramfsEtc(InitramfsEtcArgs),
    /// Cancel an active transaction
    Cancel(SimpleArgs),
    /// Reload configuration
    Reload(SimpleArgs),
    /// Unset the finalization locking state of the staged deployment and reboot
    FinalizeDeployment(FinalizeArgs),
    /// Apply a transient overlayfs to /usr
    #[command(alias = "unlock")]
    Usroverlay(UsroverlayArgs),
    /// Commands to query the RPM database
    #[command(alias = "rpm", disable_help_flag = true)]
    Db(PassThroughArgs),
    /// Commands to compose a tree (container-encapsulate)
    #[command(subcommand)]
    Compose(ComposeCmd),
    /// Development and test utilities
    #[command(hide = true, subcommand)]
    Testutils(TestutilsCmd),
    /// Internal: generate man pages and shell completions
    #[command(hide = true, subcommand)]
    Internals(InternalsCmd),
}

/// The arguments of a command another executable implements (`db`).
#[derive(Debug, Args)]
pub struct PassThroughArgs {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

#[derive(Debug, Args)]
pub struct SimpleArgs {
    #[command(flatten)]
    pub daemon: DaemonOpts,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub daemon: DaemonOpts,
    /// Print additional fields (e.g. StateRoot)
    #[arg(short, long)]
    pub verbose: bool,
    /// Expand advisories listing
    #[arg(short, long)]
    pub advisories: bool,
    /// Output JSON
    #[arg(long, conflicts_with = "jsonpath")]
    pub json: bool,
    /// Filter JSONPath expression
    #[arg(short = 'J', long, value_name = "EXPRESSION")]
    pub jsonpath: Option<String>,
    /// Only print the booted deployment
    #[arg(short, long)]
    pub booted: bool,
    /// If pending deployment available, exit 77
    #[arg(long)]
    pub pending_exit_77: bool,
    /// (no-op)
    #[arg(short, long, hide = true)]
    pub pretty: bool,
}

/// `--install`/`--uninstall` of upgrade, deploy and rebase (not wired yet:
/// refused, never ignored).
#[derive(Debug, Args)]
pub struct PackageOpts {
    /// Overlay additional package (not supported yet)
    #[arg(long, value_name = "PKG")]
    pub install: Vec<String>,
    /// Remove overlayed additional package (not supported yet)
    #[arg(long, value_name = "PKG")]
    pub uninstall: Vec<String>,
}

#[derive(Debug, Args)]
pub struct UpgradeArgs {
    #[command(flatten)]
    pub daemon: DaemonOpts,
    #[command(flatten)]
    pub os: OsOpts,
    /// Initiate a reboot after operation is complete
    #[arg(short, long)]
    pub reboot: bool,
    /// Permit deployment of chronologically older trees
    #[arg(long)]
    pub allow_downgrade: bool,
    /// Just preview package differences (implies --unchanged-exit-77)
    #[arg(long, alias = "check-diff")]
    pub preview: bool,
    /// Just check if an upgrade is available (implies --unchanged-exit-77)
    #[arg(long)]
    pub check: bool,
    /// Do not download latest ostree and RPM data
    #[arg(short = 'C', long)]
    pub cache_only: bool,
    /// Just download latest ostree and RPM data, don't deploy
    #[arg(long)]
    pub download_only: bool,
    /// If no new deployment made, exit 77
    #[arg(long, alias = "upgrade-unchanged-exit-77")]
    pub unchanged_exit_77: bool,
    /// For automated use only; triggered by automatic timer
    #[arg(long, hide = true)]
    pub trigger_automatic_update_policy: bool,
    /// Prevent automatic deployment finalization on shutdown
    #[arg(long)]
    pub lock_finalization: bool,
    /// Force an upgrade even if an updates driver is registered
    #[arg(long)]
    pub bypass_driver: bool,
    #[command(flatten)]
    pub packages: PackageOpts,
}

#[derive(Debug, Args)]
pub struct DeployArgs {
    #[command(flatten)]
    pub daemon: DaemonOpts,
    #[command(flatten)]
    pub os: OsOpts,
    /// Initiate a reboot after operation is complete
    #[arg(short, long)]
    pub reboot: bool,
    /// Just preview package differences
    #[arg(long)]
    pub preview: bool,
    /// Do not download latest ostree and RPM data
    #[arg(short = 'C', long)]
    pub cache_only: bool,
    /// Just download latest ostree and RPM data, don't deploy
    #[arg(long)]
    pub download_only: bool,
    /// Do not check if commit belongs on the same branch
    #[arg(long)]
    pub skip_branch_check: bool,
    /// Prevent automatic deployment finalization on shutdown
    #[arg(long)]
    pub lock_finalization: bool,
    /// Forbid deployment of chronologically older trees
    #[arg(long)]
    pub disallow_downgrade: bool,
    /// If no new deployment made, exit 77
    #[arg(long)]
    pub unchanged_exit_77: bool,
    /// Register the calling agent as the driver for updates
    #[arg(long, value_name = "DRIVERNAME")]
    pub register_driver: Option<String>,
    /// Force a deploy even if an updates driver is registered
    #[arg(long)]
    pub bypass_driver: bool,
    /// Enable or disable cliwrap (not supported yet)
    #[arg(long, hide = true, value_name = "BOOL")]
    pub ex_cliwrap: Option<bool>,
    #[command(flatten)]
    pub packages: PackageOpts,
    /// The revision: a checksum, `revision=CHECKSUM`, `version=VERSION` or a version
    pub revision: Option<String>,
}

#[derive(Debug, Args)]
pub struct RebaseArgs {
    #[command(flatten)]
    pub daemon: DaemonOpts,
    #[command(flatten)]
    pub os: OsOpts,
    /// Rebase to branch BRANCH; use --remote to change remote as well
    #[arg(short, long, value_name = "BRANCH")]
    pub branch: Option<String>,
    /// Rebase to current branch name using REMOTE; may also be combined with --branch
    #[arg(short = 'm', long, value_name = "REMOTE")]
    pub remote: Option<String>,
    /// Initiate a reboot after operation is complete
    #[arg(short, long)]
    pub reboot: bool,
    /// Keep previous refspec after rebase
    #[arg(long)]
    pub skip_purge: bool,
    /// Do not download latest ostree and RPM data
    #[arg(short = 'C', long)]
    pub cache_only: bool,
    /// Just download latest ostree and RPM data, don't deploy
    #[arg(long)]
    pub download_only: bool,
    /// Human-readable description of custom origin
    #[arg(long, value_name = "DESCRIPTION")]
    pub custom_origin_description: Option<String>,
    /// Machine-readable description of custom origin
    #[arg(long, value_name = "URL")]
    pub custom_origin_url: Option<String>,
    /// Enable experimental features
    #[arg(long)]
    pub experimental: bool,
    /// Forbid deployment of chronologically older trees
    #[arg(long)]
    pub disallow_downgrade: bool,
    /// Prevent automatic deployment finalization on shutdown
    #[arg(long)]
    pub lock_finalization: bool,
    /// Force a rebase even if an updates driver is registered
    #[arg(long)]
    pub bypass_driver: bool,
    #[command(flatten)]
    pub packages: PackageOpts,
    /// The target: REMOTE:REF, REF, REMOTE:, :REF or a checksum
    pub refspec: Option<String>,
    /// A revision to deploy on that branch
    pub revision: Option<String>,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    #[command(flatten)]
    pub daemon: DaemonOpts,
    /// Initiate a reboot after operation is complete
    #[arg(short, long)]
    pub reboot: bool,
}

#[derive(Debug, Args)]
pub struct CleanupArgs {
    #[command(flatten)]
    pub daemon: DaemonOpts,
    #[command(flatten)]
    pub os: OsOpts,
    /// Clear temporary files; will leave deployments unchanged
    #[arg(short, long)]
    pub base: bool,
    /// Remove pending deployment
    #[arg(short, long)]
    pub pending: bool,
    /// Remove rollback deployment
    #[arg(short, long)]
    pub rollback: bool,
    /// Delete cached rpm repo metadata
    #[arg(short = 'm', long)]
    pub repomd: bool,
}

#[derive(Debug, Args)]
pub struct RefreshMdArgs {
    #[command(flatten)]
    pub daemon: DaemonOpts,
    #[command(flatten)]
    pub os: OsOpts,
    /// Expire current cache
    #[arg(short, long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    #[command(flatten)]
    pub daemon: DaemonOpts,
    #[command(flatten)]
    pub os: OsOpts,
    #[arg(value_name = "PACKAGE")]
    pub terms: Vec<String>,
}

#[derive(Debug, Args)]
pub struct KargsArgs {
    #[command(flatten)]
    pub daemon: DaemonOpts,
    #[command(flatten)]
    pub os: OsOpts,
    /// Modify the kernel args from a specific deployment based on index
    #[arg(long, value_name = "INDEX")]
    pub deploy_index: Option<String>,
    /// Initiate a reboot after operation is complete
    #[arg(long)]
    pub reboot: bool,
    /// Append kernel argument; useful with e.g. console= that can be used multiple times
    #[arg(long, value_name = "KEY=VALUE")]
    pub append: Vec<String>,
    /// Replace existing kernel argument, the user is also able to replace an argument with KEY=VALUE if only one value exist for that argument
    #[arg(long, value_name = "KEY=VALUE=NEWVALUE")]
    pub replace: Vec<String>,
    /// Delete a specific kernel argument key/val pair or an entire argument with a single key/value pair
    #[arg(long, value_name = "KEY=VALUE")]
    pub delete: Vec<String>,
    /// Like --append, but does nothing if the key is already present
    #[arg(long, value_name = "KEY=VALUE")]
    pub append_if_missing: Vec<String>,
    /// Like --delete, but does nothing if the key is already missing
    #[arg(long, value_name = "KEY=VALUE")]
    pub delete_if_present: Vec<String>,
    /// If no new deployment made, exit 77
    #[arg(long)]
    pub unchanged_exit_77: bool,
    /// Instead of modifying old kernel arguments, we modify args from current /proc/cmdline (the booted deployment)
    #[arg(long)]
    pub import_proc_cmdline: bool,
    /// Use an editor to modify the kernel arguments
    #[arg(long)]
    pub editor: bool,
    /// Prevent automatic deployment finalization on shutdown
    #[arg(long)]
    pub lock_finalization: bool,
}

#[derive(Debug, Args)]
pub struct InitramfsArgs {
    #[command(flatten)]
    pub daemon: DaemonOpts,
    #[command(flatten)]
    pub os: OsOpts,
    /// Enable regenerating initramfs locally using dracut
    #[arg(long)]
    pub enable: bool,
    /// Append ARG to the dracut arguments
    #[arg(long = "arg", value_name = "ARG")]
    pub args: Vec<String>,
    /// Disable regenerating initramfs locally
    #[arg(long)]
    pub disable: bool,
    /// Initiate a reboot after operation is complete
    #[arg(short, long)]
    pub reboot: bool,
    /// Prevent automatic deployment finalization on shutdown
    #[arg(long)]
    pub lock_finalization: bool,
}

#[derive(Debug, Args)]
pub struct InitramfsEtcArgs {
    #[command(flatten)]
    pub daemon: DaemonOpts,
    #[command(flatten)]
    pub os: OsOpts,
    /// Deploy a new tree with the latest tracked /etc files
    #[arg(long)]
    pub force_sync: bool,
    /// Track root /etc file
    #[arg(long, value_name = "FILE")]
    pub track: Vec<String>,
    /// Untrack root /etc file
    #[arg(long, value_name = "FILE")]
    pub untrack: Vec<String>,
    /// Untrack all root /etc files
    #[arg(long)]
    pub untrack_all: bool,
    /// Initiate a reboot after operation is complete
    #[arg(short, long)]
    pub reboot: bool,
    /// Prevent automatic deployment finalization on shutdown
    #[arg(long)]
    pub lock_finalization: bool,
    /// If no new deployment made, exit 77
    #[arg(long)]
    pub unchanged_exit_77: bool,
}

#[derive(Debug, Args)]
pub struct FinalizeArgs {
    #[command(flatten)]
    pub daemon: DaemonOpts,
    #[command(flatten)]
    pub os: OsOpts,
    /// Don't error out if no expected checksum is provided
    #[arg(long)]
    pub allow_missing_checksum: bool,
    /// Don't error out if the staged deployment wasn't locked
    #[arg(long)]
    pub allow_unlocked: bool,
    /// The expected checksum of the staged deployment
    pub checksum: Option<String>,
}

#[derive(Debug, Args)]
pub struct UsroverlayArgs {
    /// Arguments passed to `ostree admin unlock`
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum ComposeCmd {
    /// Generate a reproducible "chunked" container image (layers by package) from an OSTree commit
    ContainerEncapsulate(EncapsulateArgs),
}

#[derive(Debug, Args)]
pub struct EncapsulateArgs {
    /// OSTree repository
    #[arg(long)]
    pub repo: PathBuf,
    /// Additional labels for the container image, in KEY=VALUE form
    #[arg(short, long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// Maximum number of layers the tree's packages are grouped into, at
    /// least 4 (the commit's own data may take one more; default 64)
    #[arg(long, value_name = "N")]
    pub max_layers: Option<u32>,
    /// OSTree branch name or checksum
    #[arg(value_name = "OSTREE_REF")]
    pub ostree_ref: String,
    /// Image reference, e.g. registry:quay.io/exampleos/exampleos:latest
    #[arg(value_name = "IMGREF")]
    pub imgref: String,
}

#[derive(Debug, Subcommand)]
pub enum TestutilsCmd {
    /// Ask the daemon for a cow
    Moo(SimpleArgs),
}

#[derive(Debug, Subcommand)]
pub enum InternalsCmd {
    /// Write man pages for every command into DIR
    Manpages { dir: PathBuf },
    /// Write a completion script for SHELL (bash, zsh, fish) to stdout
    Completions { shell: clap_complete::Shell },
}
