//! The `rpm-ostree` binary: `start-daemon` runs the daemon, everything else is
//! the command line client.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // The pull child of a transaction (see transaction::pull).
    if args.get(1).is_some_and(|a| a == "internal-pull") {
        return rpmostree::transaction::pull_helper::main(&args);
    }
    if args.get(1).is_some_and(|a| a == "start-daemon") {
        let parsed = rpmostree::daemon::StartDaemonArgs::parse_from(
            std::iter::once(std::ffi::OsString::from("rpm-ostree start-daemon"))
                .chain(args.into_iter().skip(2)),
        );
        return match rpmostree::daemon::run(parsed) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    rpmostree::client::main(args)
}
