//! The `rpm-ostree` command line client. `rpm-ostree start-daemon` executes the
//! daemon (`rpm-ostreed`, beside this binary or in the libexec directory), and
//! `rpm-ostree db` and `rpm-ostree shlib-backend` execute it too.

use std::os::unix::process::CommandExt;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // The daemon's executable runs these: they need libostree (hidden
    // `shlib-backend` too: it reads commits, and keeps its fd 3 across exec).
    let local = ["start-daemon", "db", "rpm", "shlib-backend"];
    if args.get(1).is_some_and(|a| local.iter().any(|l| a == l)) {
        let exe = rpmostree::client::daemon_executable();
        let mut cmd = std::process::Command::new(&exe);
        cmd.args(&args[1..]);
        // GLib 2.74's slice allocator keeps every chunk it ever handed out in
        // its own caches, which malloc_trim cannot reach: a reply of 2,000
        // package changes left the daemon 3.5 MiB bigger for good. The
        // setting is read before main() runs, so it is set here, for the
        // daemon and its helpers (later GLibs always use malloc).
        if std::env::var_os("G_SLICE").is_none() {
            cmd.env("G_SLICE", "always-malloc");
        }
        let err = cmd.exec();
        eprintln!("error: Executing {}: {err}", exe.display());
        return ExitCode::FAILURE;
    }
    rpmostree::client::main(args)
}
