//! `rpm-ostreed`: the daemon's executable (`rpm-ostree start-daemon` executes
//! it), and the helpers its transactions spawn (`internal-pull`,
//! `internal-prune`). Kept apart from the command line client so that only the
//! daemon loads libostree, libpolkit and their dependencies: the client starts
//! in a fraction of the time.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    match args.get(1).and_then(|a| a.to_str()) {
        Some("internal-pull") => return rpmostree::transaction::pull_helper::main(&args),
        Some("internal-prune") => return rpmostree::transaction::prune::helper_main(&args),
        _ => {}
    }
    // `rpm-ostreed [start-daemon] [OPTIONS]`.
    let skip = if args.get(1).is_some_and(|a| a == "start-daemon") {
        2
    } else {
        1
    };
    let parsed = rpmostree::daemon::StartDaemonArgs::parse_from(
        std::iter::once(std::ffi::OsString::from("rpm-ostree start-daemon"))
            .chain(args.into_iter().skip(skip)),
    );
    match rpmostree::daemon::run(parsed) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
