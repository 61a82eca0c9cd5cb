//! The test bed (shared/spec/testbed.md) as reusable support code: a world (a
//! tmpfs sysroot with a `testos` deployment, a remote with versions 1-3), a
//! private system bus with the project's policy, optionally a real polkitd, an
//! HTTP server, a booted namespace, and the daemon. Everything is torn down when
//! the `Bed` drops, also when the test panics.
#![allow(dead_code)]

pub mod bus;
mod daemon;
pub mod image;
pub mod layer;
use daemon::daemon_env;
pub mod proc;
pub mod rpmmd;
pub mod txn;

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub use bus::*;
pub use proc::*;
#[allow(unused_imports)]
pub use txn::*;

pub const BIN: &str = env!("CARGO_BIN_EXE_rpm-ostree");
pub const OS_PATH: &str = "/org/projectatomic/rpmostree1/testos";
/// Generous bounds; they only matter when something is broken.
pub const DEADLINE: Duration = Duration::from_secs(30);

pub fn project_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn testbed(script: &str) -> PathBuf {
    project_root().join("tests/testbed").join(script)
}

/// Where the binary's directory and the project appear inside a booted namespace.
const NS_BIN_DIR: &str = "/srv";
const NS_PROJECT_DIR: &str = "/mnt";

/// How to build a bed.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Run the daemon in a namespace booted into the deployment (sysroot `/`).
    pub booted: bool,
    pub gpg: bool,
    pub files: Option<u32>,
    pub polkit: bool,
    /// polkit rules (JavaScript) for polkitd.
    pub rules: Option<String>,
    pub http: bool,
    pub http_stall: bool,
    /// Answer every HTTP request only after this many milliseconds.
    pub http_delay_ms: Option<u32>,
    /// rpm-ostreed.conf contents (default: an empty file = compiled defaults,
    /// with idle exit disabled through the environment).
    pub config: Option<String>,
    /// Extra environment for the daemon.
    pub daemon_env: Vec<(String, String)>,
    /// Don't start the daemon (activation tests start it through the bus).
    pub no_daemon: bool,
    /// Put the project's activation file in the bus's service directory.
    pub activation: bool,
    /// Start the daemon as production starts it: without `--test-hooks`
    /// (the RPMOSTREE_TEST_* environment is then ignored).
    pub production: bool,
    /// Start the daemon (not booted) under umask 000.
    pub umask_000: bool,
    /// Booted: the namespace's /etc/containers is `tb/etc-containers`, a
    /// copy of the host's the test may change (policy.json, registries.d).
    pub own_containers_etc: bool,
}

/// Everything that must go away, in the order it must go.
struct Resources {
    tb: PathBuf,
    daemon: Option<Child>,
    daemon_pidfile: PathBuf,
    /// (name, process) in start order; stopped in reverse.
    children: Vec<(String, Child)>,
    /// State directory of the running booted namespace.
    ns_state: Option<PathBuf>,
}

impl Resources {
    /// The namespace's init exits on SIGTERM (its unshare parent ignores it),
    /// taking every process and mount of the namespace with it.
    fn stop_namespace(&mut self) {
        if let Some(state) = self.ns_state.take() {
            if let Some(pid) = read_pid(&state.join("pid")) {
                kill(pid, libc::SIGTERM);
                wait_pid_exit(pid, Duration::from_secs(10));
            }
            if let Some(i) = self
                .children
                .iter()
                .position(|(n, _)| n == "booted-namespace")
            {
                let (_, mut c) = self.children.remove(i);
                stop_child(&mut c, Duration::from_secs(10));
            }
        }
    }

    fn stop_daemon(&mut self) {
        if let Some(mut d) = self.daemon.take() {
            // In a namespace the child is nsenter; the daemon's host pid is in the file.
            if let Some(pid) = read_pid(&self.daemon_pidfile) {
                kill(pid, libc::SIGTERM);
                if !wait_pid_exit(pid, Duration::from_secs(10)) {
                    kill(pid, libc::SIGKILL);
                }
            }
            stop_child(&mut d, Duration::from_secs(10));
        }
    }
}

impl Drop for Resources {
    fn drop(&mut self) {
        self.stop_daemon();
        self.stop_namespace();
        while let Some((_, mut c)) = self.children.pop() {
            stop_child(&mut c, Duration::from_secs(10));
        }
        let _ = Command::new(testbed("teardown.sh"))
            .arg(&self.tb)
            .stdin(Stdio::null())
            .status();
    }
}

fn read_pid(path: &Path) -> Option<i32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

pub struct Bed {
    res: RefCell<Resources>,
    pub tb: PathBuf,
    pub world: HashMap<String, String>,
    pub opts: Options,
    /// Bus address as seen from the host.
    pub bus_address: String,
    pub conn: gio::DBusConnection,
    pub http_port: Option<u16>,
}

/// Runs `body` with a bed built from `opts`, under a fresh thread-default main
/// context (tests run in parallel threads).
pub fn with_bed<R>(opts: Options, body: impl FnOnce(&Bed) -> R) -> R {
    let ctx = glib::MainContext::new();
    ctx.with_thread_default(|| {
        let bed = Bed::new(opts);
        body(&bed)
    })
    .expect("thread-default main context")
}

/// The command prefix that runs a program as `user` (only `nobody` is known).
fn as_user(user: Option<&str>) -> Vec<String> {
    match user {
        Some("nobody") => [
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
        ]
        .map(String::from)
        .to_vec(),
        Some(other) => panic!("unknown test user {other}"),
        None => Vec::new(),
    }
}

fn read_env(path: &Path) -> HashMap<String, String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn tempdir() -> PathBuf {
    // Under /tmp: the booted namespace binds the host's /tmp, so paths are equal.
    for i in 0..10_000u32 {
        let p = PathBuf::from(format!("/tmp/rpmostree-tb-{}-{i}", std::process::id()));
        if std::fs::create_dir(&p).is_ok() {
            return p;
        }
    }
    panic!("no temporary directory");
}

fn spawn(name: &str, cmd: &mut Command, res: &mut Resources) -> usize {
    let child = with_pdeathsig(cmd)
        .spawn()
        .unwrap_or_else(|e| panic!("starting {name}: {e}"));
    res.children.push((name.to_string(), child));
    res.children.len() - 1
}

impl Bed {
    pub fn new(opts: Options) -> Bed {
        let tb = tempdir();
        let mut res = Resources {
            daemon_pidfile: tb.join("daemon.pid"),
            tb: tb.clone(),
            daemon: None,
            children: Vec::new(),
            ns_state: None,
        };
        // World: sysroot, remote, deployment.
        let mut mk = Command::new(testbed("make-world.sh"));
        mk.arg(&tb);
        if opts.gpg {
            mk.arg("--gpg");
        }
        if let Some(n) = opts.files {
            mk.args(["--files", &n.to_string()]);
        }
        run_ok(&mut mk);
        let world = read_env(&tb.join("world.env"));

        // The private bus, with our policy and (maybe) our activation file.
        let policy = tb.join("policy");
        std::fs::create_dir(&policy).unwrap();
        std::fs::copy(
            project_root().join("data/org.projectatomic.rpmostree1.conf"),
            policy.join("org.projectatomic.rpmostree1.conf"),
        )
        .unwrap();
        let mut cfg = Command::new(testbed("bus-config.sh"));
        cfg.arg(&tb).arg(&policy);
        if opts.activation {
            let services = tb.join("services");
            std::fs::create_dir(&services).unwrap();
            cfg.arg(&services);
        }
        run_ok(&mut cfg);
        std::fs::write(
            tb.join("rpm-ostreed.conf"),
            opts.config.clone().unwrap_or_default(),
        )
        .unwrap();
        let idx = spawn(
            "dbus-daemon",
            Command::new("dbus-daemon")
                .arg(format!(
                    "--config-file={}",
                    tb.join("bus/system.conf").display()
                ))
                .args(["--nofork", "--nopidfile", "--nosyslog", "--print-address=1"])
                .envs(daemon_env(&opts, &tb, false))
                .stdout(Stdio::piped())
                .stderr(std::fs::File::create(tb.join("dbus-daemon.log")).unwrap()),
            &mut res,
        );
        let printed = first_line(&mut res.children[idx].1);
        let bus_address = printed.split(',').next().unwrap_or_default().to_string();
        assert!(
            bus_address.starts_with("unix:path="),
            "bus address: {printed}"
        );
        let conn = connect(&bus_address);
        if opts.activation {
            let exec = format!(
                "[D-BUS Service]\nName={}\nExec={BIN} start-daemon --test-hooks --sysroot={}\nUser=root\n",
                BUS_NAME,
                tb.join("sysroot").display()
            );
            std::fs::write(
                tb.join("services/org.projectatomic.rpmostree1.service"),
                exec,
            )
            .unwrap();
        }

        if opts.polkit {
            start_polkitd(&tb, &opts, &bus_address, &conn, &mut res);
        }
        let mut http_port = None;
        if opts.http || opts.http_stall || opts.http_delay_ms.is_some() {
            let mut cmd = Command::new("/usr/bin/python3");
            cmd.arg(testbed("httpd.py")).arg(tb.join("remote"));
            if opts.http_stall {
                cmd.arg("--stall");
            }
            if let Some(ms) = opts.http_delay_ms {
                cmd.args(["--delay", &ms.to_string()]);
            }
            let idx = spawn("httpd", cmd.stdout(Stdio::piped()), &mut res);
            http_port = first_line(&mut res.children[idx].1).parse().ok();
        }

        if opts.own_containers_etc {
            assert!(opts.booted, "own_containers_etc needs a booted namespace");
            run_ok(
                Command::new("cp")
                    .args(["-a", "/etc/containers"])
                    .arg(tb.join("etc-containers")),
            );
        }
        if opts.booted {
            start_namespace(&tb, &opts, 0, &mut res);
        }
        let bed = Bed {
            res: RefCell::new(res),
            tb,
            world,
            opts,
            bus_address,
            conn,
            http_port,
        };
        if !bed.opts.no_daemon {
            bed.start_daemon();
        }
        bed
    }

    pub fn sysroot(&self) -> PathBuf {
        self.tb.join("sysroot")
    }

    pub fn booted(&self) -> bool {
        self.res.borrow().ns_state.is_some()
    }

    fn ns_state(&self) -> Option<PathBuf> {
        self.res.borrow().ns_state.clone()
    }

    /// "Reboots": stops the daemon and the namespace, boots the default boot
    /// entry in a new namespace and starts the daemon there.
    pub fn reboot(&self) {
        self.stop_daemon();
        let n = {
            let mut res = self.res.borrow_mut();
            res.stop_namespace();
            res.children.len() + 1
        };
        start_namespace(&self.tb, &self.opts, n, &mut self.res.borrow_mut());
        self.start_daemon();
    }

    /// Host pids of every process of the bed (daemon, namespace init, bus...).
    pub fn pids(&self) -> Vec<i32> {
        let res = self.res.borrow();
        let mut pids: Vec<i32> = res.children.iter().map(|(_, c)| c.id() as i32).collect();
        pids.extend(self.daemon_pid());
        if let Some(state) = &res.ns_state {
            pids.extend(read_pid(&state.join("pid")));
        }
        pids
    }

    /// The environment a daemon or client gets.
    fn env(&self) -> Vec<(String, String)> {
        daemon_env(&self.opts, &self.tb, self.booted())
    }

    /// A command that runs `argv` as the test bed's system sees it: inside the
    /// booted namespace, or directly.
    pub fn command(&self, argv: &[&str]) -> Command {
        match &self.ns_state() {
            Some(state) => {
                let mut c = Command::new(testbed("ns-exec.sh"));
                c.arg(state).arg("--").args(argv);
                c.envs(self.env());
                c
            }
            None => {
                let mut c = Command::new(argv[0]);
                c.args(&argv[1..]);
                c.envs(self.env());
                c
            }
        }
    }

    /// The path of the rpm-ostree binary as the test bed's system sees it.
    pub fn bin(&self) -> String {
        if self.booted() {
            format!("{NS_BIN_DIR}/rpm-ostree")
        } else {
            BIN.to_string()
        }
    }

    /// A path of the project as the test bed's system sees it.
    pub fn project_path(&self, rel: &str) -> String {
        if self.booted() {
            format!("{NS_PROJECT_DIR}/{rel}")
        } else {
            project_root().join(rel).to_string_lossy().into_owned()
        }
    }

    /// Runs the CLI (`rpm-ostree ARGS`), adding `--sysroot` when not booted.
    pub fn cli(&self, args: &[&str]) -> (i32, String, String) {
        self.cli_as(None, args)
    }

    /// Runs the CLI as `nobody` when `user` is `Some("nobody")`.
    pub fn cli_as(&self, user: Option<&str>, args: &[&str]) -> (i32, String, String) {
        let bin = self.bin();
        let mut argv = as_user(user);
        argv.push(bin);
        argv.extend(args.iter().map(|s| s.to_string()));
        if !self.booted() && !args.is_empty() {
            argv.push(format!("--sysroot={}", self.sysroot().display()));
        }
        let refs: Vec<&str> = argv.iter().map(String::as_str).collect();
        run(&mut self.command(&refs))
    }

    /// `ostree ARGS` against the bed's sysroot (as the booted system, or `--sysroot`).
    pub fn ostree(&self, args: &[&str]) -> String {
        let mut argv = vec!["ostree"];
        argv.extend_from_slice(args);
        let sysroot = format!("--sysroot={}", self.sysroot().display());
        if !self.booted() && args.first() == Some(&"admin") {
            argv.push(&sysroot);
        }
        run_ok(&mut self.command(&argv))
    }

    pub fn world(&self, key: &str) -> String {
        self.world
            .get(key)
            .cloned()
            .unwrap_or_else(|| panic!("world.env has no {key}"))
    }

    /// Moves the remote branch head to `version` (1, 2, 3).
    pub fn set_head(&self, version: u32) {
        run_ok(
            Command::new(testbed("set-head.sh"))
                .arg(&self.tb)
                .arg(version.to_string()),
        );
    }

    /// Serves `dir` over HTTP on 127.0.0.1 (tests/testbed/httpd.py with
    /// `args`) until the bed goes away; returns the port.
    pub fn serve_http(&self, dir: &Path, args: &[&str]) -> u16 {
        let mut cmd = Command::new("/usr/bin/python3");
        cmd.arg(testbed("httpd.py")).arg(dir).args(args);
        let mut res = self.res.borrow_mut();
        let idx = spawn("httpd", cmd.stdout(Stdio::piped()), &mut res);
        first_line(&mut res.children[idx].1)
            .parse()
            .expect("httpd.py prints its port")
    }

    /// Adds remote `name` pointing at the bed's HTTP server (no GPG).
    pub fn add_http_remote(&self, name: &str) {
        let port = self.http_port.expect("the bed has an HTTP server");
        run_ok(
            Command::new("ostree")
                .arg(format!(
                    "--repo={}",
                    self.sysroot().join("ostree/repo").display()
                ))
                .args(["remote", "add", "--set=gpg-verify=false", name])
                .arg(format!("http://127.0.0.1:{port}/")),
        );
    }

    /// Waits (with the deadline) until no transaction is active.
    pub fn wait_idle(&self) -> bool {
        iterate_until(DEADLINE, || {
            self.sysroot_props()["ActiveTransactionPath"].str() == Some("")
        })
    }

    pub fn sysroot_props(&self) -> Dict {
        get_all(&self.conn, SYSROOT, IFACE_SYSROOT)
    }

    pub fn os_props(&self) -> Dict {
        get_all(&self.conn, OS_PATH, IFACE_OS)
    }

    /// Runs the transaction client (`tests/clients/txn_client.py ARGS`): JSON lines.
    pub fn txn_client(&self, user: Option<&str>, args: &[&str]) -> (i32, Vec<serde_json::Value>) {
        let script = self.project_path("tests/clients/txn_client.py");
        let mut argv = as_user(user);
        argv.push("/usr/bin/python3".into());
        argv.push(script);
        argv.extend(args.iter().map(|s| s.to_string()));
        let refs: Vec<&str> = argv.iter().map(String::as_str).collect();
        let (code, out, err) = run(&mut self.command(&refs));
        let events = out
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect::<Vec<serde_json::Value>>();
        if events.is_empty() {
            eprintln!("txn_client printed nothing; stderr:\n{err}");
        }
        (code, events)
    }
}

fn start_polkitd(
    tb: &Path,
    opts: &Options,
    bus_address: &str,
    conn: &gio::DBusConnection,
    res: &mut Resources,
) {
    let actions = tb.join("polkit/actions");
    let rules = tb.join("polkit/rules");
    std::fs::create_dir_all(&actions).unwrap();
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::copy(
        project_root().join("data/org.projectatomic.rpmostree1.policy"),
        actions.join("org.projectatomic.rpmostree1.policy"),
    )
    .unwrap();
    if let Some(r) = &opts.rules {
        std::fs::write(rules.join("50-test.rules"), r).unwrap();
    }
    for d in [tb.join("polkit"), actions.clone(), rules.clone()] {
        run_ok(Command::new("chmod").arg("0755").arg(&d));
    }
    spawn(
        "polkitd",
        Command::new(testbed("polkitd.sh"))
            .arg(&actions)
            .arg(&rules)
            .env("DBUS_SYSTEM_BUS_ADDRESS", bus_address),
        res,
    );
    assert!(
        wait_name(conn, "org.freedesktop.PolicyKit1", true, DEADLINE),
        "polkitd did not start"
    );
}

fn start_namespace(tb: &Path, opts: &Options, n: usize, res: &mut Resources) {
    let state = tb.join(format!("ns{n}"));
    std::fs::create_dir(&state).unwrap();
    let bin_dir = Path::new(BIN).parent().unwrap().to_path_buf();
    spawn(
        "booted-namespace",
        Command::new("unshare")
            .args([
                "--mount",
                "--pid",
                "--fork",
                "--kill-child",
                "--propagation",
                "private",
                "--",
            ])
            .arg(testbed("booted-init.sh"))
            .arg(&state)
            .arg(tb.join("sysroot"))
            .arg(tb.join("run"))
            .arg("--bind")
            .arg(format!("{}:{NS_BIN_DIR}", bin_dir.display()))
            .arg("--bind")
            .arg(format!("{}:{NS_PROJECT_DIR}", project_root().display()))
            .args(
                opts.own_containers_etc
                    .then(|| {
                        [
                            "--bind".to_string(),
                            format!("{}:/etc/containers", tb.join("etc-containers").display()),
                        ]
                    })
                    .into_iter()
                    .flatten(),
            ),
        res,
    );
    res.ns_state = Some(state.clone());
    assert!(
        wait_for_file(&state.join("ready"), DEADLINE),
        "the booted namespace did not come up"
    );
}
