//! The `rpm-ostree` command line client. `rpm-ostree start-daemon` executes the
//! daemon (`rpm-ostreed`, beside this binary or in the libexec directory), and
//! `rpm-ostree db` executes it too (`rpm-ostreed db`).

use std::os::unix::process::CommandExt;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // The daemon's executable runs these: they need libostree.
    let local = ["start-daemon", "db", "rpm"];
    if args.get(1).is_some_and(|a| local.iter().any(|l| a == l)) {
        let exe = rpmostree::client::daemon_executable();
        let err = std::process::Command::new(&exe).args(&args[1..]).exec();
        eprintln!("error: Executing {}: {err}", exe.display());
        return ExitCode::FAILURE;
    }
    rpmostree::client::main(args)
}
