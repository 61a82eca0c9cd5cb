//! `rpm-ostree start-daemon`: connect to the system bus, export the objects, own
//! the name, and run the main loop until idle exit or a signal; watch the
//! sysroot for changes made behind our back.

use anyhow::{Context, Result, anyhow, bail};
use gio::prelude::*;
use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};

use crate::bus::ObjectStore;
use crate::config::Hooks;
use crate::names;
use crate::state::{Daemon, Publisher};
use crate::{os, sysroot};

/// Arguments of `rpm-ostree start-daemon`.
#[derive(Debug, clap::Parser)]
#[command(name = "rpm-ostree start-daemon", about = "Start the daemon process")]
pub struct StartDaemonArgs {
    /// Use system root SYSROOT
    #[arg(long, value_name = "SYSROOT", default_value = "/")]
    pub sysroot: PathBuf,
    /// Print debug information on stderr, exit when stdin closes
    #[arg(short, long)]
    pub debug: bool,
    /// Read the RPMOSTREE_TEST_* hooks from the environment (the test bed
    /// only: the activation file and the unit never pass it)
    #[arg(long, hide = true)]
    pub test_hooks: bool,
}

/// Runs the daemon until it exits; errors before the name is owned are fatal.
pub fn run(args: StartDaemonArgs) -> Result<()> {
    let started = Instant::now();
    crate::ffi::malloc::limit_arenas();
    let _ = crate::ffi::rlimit::raise_nofile();
    if !is_root() && std::env::var_os("RPMOSTREE_SUPPRESS_REQUIRES_ROOT_CHECK").is_none() {
        bail!("This command requires root privileges");
    }
    glib::set_prgname(Some("rpm-ostreed"));
    let (hooks, ignored) = Hooks::from_env(args.test_hooks);
    if !ignored.is_empty() {
        glib::g_warning!(
            "rpm-ostreed",
            "Ignoring {}: test hooks are read only by `start-daemon --test-hooks`",
            ignored.join(", ")
        );
    }
    let sysroot = std::fs::canonicalize(&args.sysroot)
        .with_context(|| format!("Opening sysroot {}", args.sysroot.display()))?;
    if sysroot == Path::new("/") {
        environment_check()?;
    }
    crate::fsutil::own_dir(&hooks.runtime_dir, 0o755).map_err(anyhow::Error::msg)?;
    remove_stale_sockets(&hooks.runtime_dir);

    let conn = gio::bus_get_sync(gio::BusType::System, gio::Cancellable::NONE)
        .context("Connecting to the system bus")?;
    conn.set_exit_on_close(false);
    let store = ObjectStore::new(&conn)?;
    let publisher = Publisher {
        sysroot: sysroot::update_properties,
        oses: os::sync_objects,
    };
    let daemon = Daemon::new(store.clone(), hooks, sysroot, publisher)?;
    sysroot::export(&daemon)?;
    os::sync_objects(&daemon)?;
    request_name(&conn)?;
    glib::g_message!(
        "rpm-ostreed",
        "Acquired {} in {} ms",
        names::BUS_NAME,
        started.elapsed().as_millis()
    );

    let main_loop = glib::MainLoop::new(None, false);
    let exit_reason: Rc<RefCell<Option<String>>> = Rc::default();
    let quit = {
        let main_loop = main_loop.clone();
        let exit_reason = exit_reason.clone();
        move |reason: &str| {
            exit_reason
                .borrow_mut()
                .get_or_insert_with(|| reason.to_string());
            main_loop.quit();
        }
    };
    let quit: Rc<dyn Fn(&str)> = Rc::new(quit);

    let idle = IdleExit::new(&daemon, quit.clone());
    {
        let idle = idle.clone();
        let weak = Rc::downgrade(&daemon);
        daemon.set_idle_callback(move || {
            if let Some(d) = weak.upgrade() {
                idle.reevaluate(&d)
            }
        });
    }
    {
        let d = Rc::downgrade(&daemon);
        store.set_activity_callback(move || {
            if let Some(d) = d.upgrade() {
                d.touch()
            }
        });
    }
    idle.reevaluate(&daemon);
    // Startup work is done: give back what serving calls does not need.
    glib::idle_add_local_full(glib::Priority::LOW, || {
        crate::ffi::malloc::trim();
        glib::ControlFlow::Break
    });

    for sig in [libc::SIGTERM, libc::SIGINT] {
        let quit = quit.clone();
        glib::unix_signal_add_local(sig, move || {
            quit("Received shutdown signal, preparing to terminate");
            glib::ControlFlow::Break
        });
    }
    if args.debug {
        watch_stdin(quit.clone());
    }
    // Without the bus there is nobody to serve (and no name to give back).
    let closed_handler = {
        let quit = glib::thread_guard::ThreadGuard::new(quit.clone());
        conn.connect_closed(move |_, _, _| (quit.get_ref())("Lost the system bus connection"))
    };
    let _monitor = watch_sysroot(&daemon)?;

    main_loop.run();

    let reason = exit_reason.borrow().clone().unwrap_or_default();
    glib::g_message!("rpm-ostreed", "{reason}");
    daemon.txns.cancel_all();
    release_name(&conn);
    // Disconnected here: the connection may be finalized in GDBus's thread.
    conn.disconnect(closed_handler);
    Ok(())
}

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// Refuses to manage a booted system in a state we must not touch.
fn environment_check() -> Result<()> {
    let rpmdb = Path::new("/var/lib/rpm");
    if let Ok(m) = std::fs::symlink_metadata(rpmdb)
        && !m.file_type().is_symlink()
    {
        bail!("/var/lib/rpm must be a symbolic link");
    }
    Ok(())
}

/// Transaction sockets left by a daemon that was killed: nobody listens on them.
fn remove_stale_sockets(runtime_dir: &Path) {
    let Ok(entries) = std::fs::read_dir(runtime_dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("transaction-") && name.ends_with(".sock") {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

fn request_name(conn: &gio::DBusConnection) -> Result<()> {
    const DO_NOT_QUEUE: u32 = 4;
    let reply = conn
        .call_sync(
            Some("org.freedesktop.DBus"),
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus",
            "RequestName",
            Some(&(names::BUS_NAME, DO_NOT_QUEUE).to_variant()),
            Some(glib::VariantTy::new("(u)").expect("valid type")),
            gio::DBusCallFlags::NONE,
            -1,
            gio::Cancellable::NONE,
        )
        .with_context(|| format!("Requesting {}", names::BUS_NAME))?;
    match reply.get::<(u32,)>() {
        Some((1,)) | Some((4,)) => Ok(()),
        Some((3,)) => Err(anyhow!("{} is already owned", names::BUS_NAME)),
        other => Err(anyhow!(
            "Unexpected reply to RequestName({}): {other:?}",
            names::BUS_NAME
        )),
    }
}

/// Gives the name back and waits for the bus to confirm, so that activation can
/// start a new instance as soon as we are gone.
fn release_name(conn: &gio::DBusConnection) {
    let _ = conn.call_sync(
        Some("org.freedesktop.DBus"),
        "/org/freedesktop/DBus",
        "org.freedesktop.DBus",
        "ReleaseName",
        Some(&(names::BUS_NAME,).to_variant()),
        None,
        gio::DBusCallFlags::NONE,
        5000,
        gio::Cancellable::NONE,
    );
    let _ = conn.flush_sync(gio::Cancellable::NONE);
}

/// In `--debug` mode the daemon lives as long as its stdin.
fn watch_stdin(quit: Rc<dyn Fn(&str)>) {
    glib::unix_fd_add_local(
        0,
        glib::IOCondition::IN | glib::IOCondition::HUP | glib::IOCondition::ERR,
        move |_, _cond| {
            let mut buf = [0u8; 256];
            let n = std::io::Read::read(&mut std::io::stdin(), &mut buf).unwrap_or(0);
            if n > 0 {
                return glib::ControlFlow::Continue;
            }
            quit("stdin closed, exiting");
            glib::ControlFlow::Break
        },
    );
}

/// Reloads when libostree bumps the deploy directory (someone deployed, pinned,
/// undeployed...), coalescing bursts of events into one reload.
fn watch_sysroot(daemon: &Rc<Daemon>) -> Result<gio::FileMonitor> {
    let dir = gio::File::for_path(daemon.sysroot_path.join("ostree/deploy"));
    let monitor = dir
        .monitor_directory(gio::FileMonitorFlags::NONE, gio::Cancellable::NONE)
        .context("Watching ostree/deploy")?;
    let pending = Rc::new(Cell::new(false));
    let weak = Rc::downgrade(daemon);
    monitor.connect_changed(move |_, _, _, _| {
        if pending.replace(true) {
            return;
        }
        let pending = pending.clone();
        let weak = weak.clone();
        glib::idle_add_local_once(move || {
            pending.set(false);
            if let Some(d) = weak.upgrade()
                && let Err(e) = d.reload(false)
            {
                glib::g_warning!("rpm-ostreed", "Reloading after a sysroot change: {e:#}");
            }
        });
    });
    Ok(monitor)
}

/// Exit after `IdleExitTimeout` (+ jitter) without clients, transaction or calls.
struct IdleExit {
    source: RefCell<Option<glib::SourceId>>,
    jitter: Duration,
    quit: Rc<dyn Fn(&str)>,
}

impl IdleExit {
    fn new(daemon: &Daemon, quit: Rc<dyn Fn(&str)>) -> Rc<Self> {
        let max = daemon.hooks.idle_jitter_max_s;
        let jitter = if max == 0 {
            0
        } else {
            glib::random_int_range(0, (max.min(i32::MAX as u64 - 1) + 1) as i32) as u64
        };
        Rc::new(Self {
            source: RefCell::new(None),
            jitter: Duration::from_secs(jitter),
            quit,
        })
    }

    fn timeout(&self, daemon: &Daemon) -> Option<Duration> {
        let secs = daemon.config.borrow().idle_exit_timeout;
        (secs > 0 && !daemon.hooks.disable_idle_exit)
            .then(|| Duration::from_secs(secs) + self.jitter)
    }

    fn reevaluate(self: &Rc<Self>, daemon: &Rc<Daemon>) {
        let Some(timeout) = self.timeout(daemon).filter(|_| daemon.is_idle()) else {
            if let Some(s) = self.source.borrow_mut().take() {
                s.remove();
            }
            return;
        };
        if self.source.borrow().is_some() {
            return;
        }
        let deadline = daemon.last_activity.get() + timeout;
        let wait = deadline.saturating_duration_since(Instant::now());
        glib::g_message!(
            "rpm-ostreed",
            "In idle state; will auto-exit in {} seconds",
            wait.as_secs_f64().round()
        );
        self.arm(daemon, wait);
    }

    fn arm(self: &Rc<Self>, daemon: &Rc<Daemon>, wait: Duration) {
        let this = self.clone();
        let weak = Rc::downgrade(daemon);
        let id = glib::timeout_add_local_once(wait, move || {
            this.source.borrow_mut().take();
            let Some(d) = weak.upgrade() else { return };
            let Some(timeout) = this.timeout(&d).filter(|_| d.is_idle()) else {
                return;
            };
            let deadline = d.last_activity.get() + timeout;
            let now = Instant::now();
            if now < deadline {
                this.arm(&d, deadline - now);
            } else {
                (this.quit)("Exiting due to idle");
            }
        });
        *self.source.borrow_mut() = Some(id);
    }
}
