//! `rpm-ostreed.conf` (the `[Daemon]` group) and every test-hook environment
//! variable, read in this one place.

use anyhow::{Context, Result, anyhow};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::names;

/// The automatic update policy, in its normalized spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UpdatePolicy {
    #[default]
    None,
    Check,
    Stage,
    Apply,
}

impl UpdatePolicy {
    /// Parses a policy value: case-insensitive, with the aliases `off` and `ex-stage`.
    pub fn parse(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "none" | "off" => Ok(Self::None),
            "check" => Ok(Self::Check),
            "stage" | "ex-stage" => Ok(Self::Stage),
            "apply" => Ok(Self::Apply),
            _ => Err(anyhow!("Invalid value for AutomaticUpdatePolicy: '{s}'")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Check => "check",
            Self::Stage => "stage",
            Self::Apply => "apply",
        }
    }
}

/// The daemon configuration. Missing file = these defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaemonConfig {
    pub automatic_update_policy: UpdatePolicy,
    pub idle_exit_timeout: u64,
    pub lock_layering: bool,
    pub recommends: bool,
}

impl Default for DaemonConfig {
    fn default() -> Self {
        Self {
            automatic_update_policy: UpdatePolicy::None,
            idle_exit_timeout: 60,
            lock_layering: false,
            recommends: true,
        }
    }
}

const GROUP: &str = "Daemon";

impl DaemonConfig {
    /// Loads `path`. A missing file gives the defaults (with a warning); an
    /// unreadable or unparsable file, or an invalid policy, is an error.
    pub fn load(path: &Path) -> Result<Self> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                glib::g_warning!(
                    "rpm-ostreed",
                    "Missing config file '{}'; using compiled defaults",
                    path.display()
                );
                return Ok(Self::default());
            }
            Err(e) => return Err(e).with_context(|| format!("Reading {}", path.display())),
        };
        Self::parse(&text)
    }

    /// Parses the keyfile text. Unknown keys and groups are ignored.
    pub fn parse(text: &str) -> Result<Self> {
        let kf = glib::KeyFile::new();
        kf.load_from_data(text, glib::KeyFileFlags::NONE)?;
        let mut cfg = Self::default();
        if let Ok(v) = kf.string(GROUP, "AutomaticUpdatePolicy") {
            cfg.automatic_update_policy = UpdatePolicy::parse(v.trim())?;
        }
        if let Ok(v) = kf.value(GROUP, "IdleExitTimeout") {
            match v.trim().parse::<u64>() {
                Ok(n) => cfg.idle_exit_timeout = n,
                Err(_) => glib::g_warning!(
                    "rpm-ostreed",
                    "Invalid IdleExitTimeout '{v}'; using default {}",
                    cfg.idle_exit_timeout
                ),
            }
        }
        if let Some(b) = read_bool(&kf, "LockLayering")? {
            cfg.lock_layering = b;
        }
        if let Some(b) = read_bool(&kf, "Recommends")? {
            cfg.recommends = b;
        }
        Ok(cfg)
    }
}

fn read_bool(kf: &glib::KeyFile, key: &str) -> Result<Option<bool>> {
    match kf.boolean(GROUP, key) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.matches(glib::KeyFileError::KeyNotFound) => Ok(None),
        Err(e) if e.matches(glib::KeyFileError::GroupNotFound) => Ok(None),
        Err(e) => Err(anyhow!("{key}: {}", e.message())),
    }
}

/// Test hooks and environment knobs of the daemon, all read here once at startup.
/// Test hooks share the prefix `RPMOSTREE_TEST_`.
#[derive(Debug, Clone)]
pub struct Hooks {
    /// `RPMOSTREE_TEST_CONFIG`: the configuration file (default `/etc/rpm-ostreed.conf`).
    pub config_path: PathBuf,
    /// `RPMOSTREE_TEST_RUNTIME_DIR`: transaction sockets etc. (default `/run/rpm-ostree`).
    pub runtime_dir: PathBuf,
    /// `RPMOSTREE_TEST_START_TIMEOUT_MS`: abandon a transaction not started in time (default 30 s).
    pub start_timeout: Duration,
    /// `RPMOSTREE_TEST_FORCE_CLOSE_MS`: close leftover peers after `Finished` (default 30 s).
    pub force_close_timeout: Duration,
    /// `RPMOSTREE_TEST_IDLE_JITTER_MAX_S`: upper bound of the random idle-exit jitter (default 4).
    pub idle_jitter_max_s: u64,
    /// `RPMOSTREE_TEST_REBOOT_COMMAND`: run instead of `systemctl reboot` (split on whitespace).
    pub reboot_command: Vec<String>,
    /// `RPMOSTREE_TEST_PULL_STALL_TIMEOUT_S`: a pull that receives nothing for this long fails (default 300).
    pub pull_stall_timeout: Duration,
    /// `RPMOSTREE_DEBUG_DISABLE_DAEMON_IDLE_EXIT` (upstream's name): any value disables idle exit.
    pub disable_idle_exit: bool,
    /// `RPMOSTREE_TEST_INSECURE_LOOPBACK_REGISTRIES=1`: container registries on
    /// 127.0.0.1 or localhost are spoken to over plain HTTP (test registries).
    pub insecure_loopback_registries: bool,
}

impl Hooks {
    /// The hooks from the environment when `enabled` (`start-daemon
    /// --test-hooks`), else the defaults; and the `RPMOSTREE_TEST_*`
    /// variables set but ignored.
    pub fn from_env(enabled: bool) -> (Self, Vec<String>) {
        let ignored: Vec<String> = std::env::vars_os()
            .filter_map(|(k, _)| k.into_string().ok())
            .filter(|k| k.starts_with("RPMOSTREE_TEST_"))
            .collect();
        if enabled {
            return (Self::read(), Vec::new());
        }
        let mut defaults = Self::read_from(|_| None);
        defaults.disable_idle_exit =
            std::env::var_os("RPMOSTREE_DEBUG_DISABLE_DAEMON_IDLE_EXIT").is_some();
        let mut ignored = ignored;
        ignored.sort();
        (defaults, ignored)
    }

    fn read() -> Self {
        Self::read_from(|n| std::env::var(n).ok())
    }

    fn read_from(get: impl Fn(&str) -> Option<String>) -> Self {
        let var = |n: &str| get(n).filter(|v| !v.is_empty());
        let num = |n: &str| var(n).and_then(|v| v.parse::<u64>().ok());
        Self {
            config_path: var("RPMOSTREE_TEST_CONFIG")
                .map(PathBuf::from)
                .unwrap_or_else(|| names::DEFAULT_CONFIG_PATH.into()),
            runtime_dir: var("RPMOSTREE_TEST_RUNTIME_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| names::DEFAULT_RUNTIME_DIR.into()),
            start_timeout: Duration::from_millis(
                num("RPMOSTREE_TEST_START_TIMEOUT_MS").unwrap_or(30_000),
            ),
            force_close_timeout: Duration::from_millis(
                num("RPMOSTREE_TEST_FORCE_CLOSE_MS").unwrap_or(30_000),
            ),
            idle_jitter_max_s: num("RPMOSTREE_TEST_IDLE_JITTER_MAX_S").unwrap_or(4),
            reboot_command: var("RPMOSTREE_TEST_REBOOT_COMMAND")
                .filter(|v| !v.trim().is_empty())
                .map(|v| v.split_whitespace().map(String::from).collect())
                .unwrap_or_else(|| vec!["systemctl".into(), "reboot".into()]),
            pull_stall_timeout: Duration::from_secs(
                num("RPMOSTREE_TEST_PULL_STALL_TIMEOUT_S").unwrap_or(300),
            ),
            disable_idle_exit: get("RPMOSTREE_DEBUG_DISABLE_DAEMON_IDLE_EXIT").is_some(),
            insecure_loopback_registries: var("RPMOSTREE_TEST_INSECURE_LOOPBACK_REGISTRIES")
                .is_some_and(|v| v == "1"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_spellings() {
        assert_eq!(UpdatePolicy::parse("off").unwrap(), UpdatePolicy::None);
        assert_eq!(UpdatePolicy::parse("NONE").unwrap(), UpdatePolicy::None);
        assert_eq!(
            UpdatePolicy::parse("ex-stage").unwrap(),
            UpdatePolicy::Stage
        );
        assert_eq!(UpdatePolicy::parse("Apply").unwrap(), UpdatePolicy::Apply);
        assert_eq!(
            UpdatePolicy::parse("bogus").unwrap_err().to_string(),
            "Invalid value for AutomaticUpdatePolicy: 'bogus'"
        );
    }

    #[test]
    fn parse_config() {
        let c = DaemonConfig::parse(
            "[Daemon]\nAutomaticUpdatePolicy=check\nIdleExitTimeout=5\nLockLayering=true\nRecommends=false\n",
        )
        .unwrap();
        assert_eq!(c.automatic_update_policy, UpdatePolicy::Check);
        assert_eq!(c.idle_exit_timeout, 5);
        assert!(c.lock_layering);
        assert!(!c.recommends);
        // The shipped file: everything commented out -> defaults.
        let shipped = include_str!("../data/rpm-ostreed.conf");
        assert_eq!(
            DaemonConfig::parse(shipped).unwrap(),
            DaemonConfig::default()
        );
        // Bad timeout: warning + default.
        let c = DaemonConfig::parse("[Daemon]\nIdleExitTimeout=soon\n").unwrap();
        assert_eq!(c.idle_exit_timeout, 60);
        // Bad policy: error with the contract's text.
        let e = DaemonConfig::parse("[Daemon]\nAutomaticUpdatePolicy=sometimes\n").unwrap_err();
        assert_eq!(
            format!("{e:#}"),
            "Invalid value for AutomaticUpdatePolicy: 'sometimes'"
        );
        assert!(DaemonConfig::parse("not a keyfile [").is_err());
    }
}
