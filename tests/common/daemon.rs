//! The daemon of a test bed: started (in the booted namespace or with
//! `--sysroot`), stopped, killed, its log and its environment.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use super::*;

impl Bed {
    /// Waits until the daemon ran its reboot command (a marker file).
    pub fn wait_rebooted(&self) -> bool {
        wait_for_file(&reboot_marker(&self.tb), DEADLINE)
    }

    /// Starts the daemon and waits until it owns its name.
    pub fn start_daemon(&self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.tb.join("daemon.log"))
            .unwrap();
        let _ = std::fs::remove_file(&self.res.borrow().daemon_pidfile);
        let child = if let Some(state) = &self.ns_state() {
            let mut c = Command::new(testbed("ns-exec.sh"));
            c.arg(state)
                .arg("--pidfile")
                .arg(&self.res.borrow().daemon_pidfile)
                .arg("--")
                .arg(self.bin())
                .args(["start-daemon", "-d"]);
            if !self.opts.production {
                c.arg("--test-hooks");
            }
            c
        } else {
            // Under umask 000 when asked (the daemon must not depend on it).
            let mut c = Command::new("/bin/sh");
            c.arg("-c")
                .arg(if self.opts.umask_000 {
                    "umask 000 && exec \"$0\" \"$@\""
                } else {
                    "exec \"$0\" \"$@\""
                })
                .arg(BIN)
                .arg("start-daemon")
                .arg(format!("--sysroot={}", self.sysroot().display()))
                .arg("-d");
            if !self.opts.production {
                c.arg("--test-hooks");
            }
            c
        };
        let mut child = child;
        let child = with_pdeathsig(
            child
                .envs(self.env())
                .stdin(Stdio::piped())
                .stdout(log.try_clone().unwrap())
                .stderr(log),
        )
        .spawn()
        .expect("starting the daemon");
        if !self.booted() {
            std::fs::write(&self.res.borrow().daemon_pidfile, child.id().to_string()).unwrap();
        }
        self.res.borrow_mut().daemon = Some(child);
        assert!(
            wait_name(&self.conn, BUS_NAME, true, DEADLINE),
            "the daemon did not own its name; log:\n{}",
            self.daemon_log()
        );
    }

    /// The daemon's host pid, if it runs.
    pub fn daemon_pid(&self) -> Option<i32> {
        read_pid(&self.res.borrow().daemon_pidfile)
    }

    /// Stops the daemon (SIGTERM) and waits until it is gone.
    pub fn stop_daemon(&self) {
        self.res.borrow_mut().stop_daemon();
        self.wait_name_released();
    }

    /// The bus notices a dead connection a little after the process is gone;
    /// until then the name still has the old owner.
    fn wait_name_released(&self) {
        assert!(
            wait_name(&self.conn, BUS_NAME, false, DEADLINE),
            "the bus still shows the daemon's name"
        );
    }

    /// Kills the daemon with `sig` and waits until it is gone.
    pub fn kill_daemon(&self, sig: i32) {
        if let Some(pid) = self.daemon_pid() {
            kill(pid, sig);
            assert!(wait_pid_exit(pid, DEADLINE), "daemon survived signal {sig}");
        }
        let d = self.res.borrow_mut().daemon.take();
        if let Some(mut d) = d {
            stop_child(&mut d, Duration::from_secs(10));
        }
        self.wait_name_released();
    }

    pub fn daemon_log(&self) -> String {
        std::fs::read_to_string(self.tb.join("daemon.log")).unwrap_or_default()
    }
}

/// The environment of processes of the bed: the bus, and the daemon's hooks.
fn reboot_marker(tb: &Path) -> std::path::PathBuf {
    tb.join("rebooted")
}

pub(super) fn daemon_env(opts: &Options, tb: &Path, booted: bool) -> Vec<(String, String)> {
    let mut env = vec![
        (
            "DBUS_SYSTEM_BUS_ADDRESS".to_string(),
            if booted {
                "unix:path=/run/dbus/system_bus_socket".to_string()
            } else {
                format!(
                    "unix:path={}",
                    tb.join("run/dbus/system_bus_socket").display()
                )
            },
        ),
        (
            "RPMOSTREE_TEST_CONFIG".into(),
            tb.join("rpm-ostreed.conf").to_string_lossy().into_owned(),
        ),
        ("RPMOSTREE_TEST_IDLE_JITTER_MAX_S".into(), "0".into()),
        // The loopback docker-registry of the container tests speaks HTTP.
        (
            "RPMOSTREE_TEST_INSECURE_LOOPBACK_REGISTRIES".into(),
            "1".into(),
        ),
        // A test never reboots the machine: a "reboot" leaves a marker file.
        (
            "RPMOSTREE_TEST_REBOOT_COMMAND".into(),
            format!("touch {}", reboot_marker(tb).display()),
        ),
    ];
    if !booted {
        env.push((
            "RPMOSTREE_TEST_RUNTIME_DIR".into(),
            tb.join("run/rpm-ostree").to_string_lossy().into_owned(),
        ));
    }
    if opts.config.is_none() {
        env.push((
            "RPMOSTREE_DEBUG_DISABLE_DAEMON_IDLE_EXIT".into(),
            "1".into(),
        ));
    }
    env.extend(opts.daemon_env.iter().cloned());
    env
}
