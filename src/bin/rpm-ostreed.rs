//! `rpm-ostreed`: the daemon's executable (`rpm-ostree start-daemon` executes
//! it), and the helpers its transactions run (`internal-pull`,
//! `internal-prune`). Kept apart from the command line client so that only the
//! daemon loads libostree, libpolkit and their dependencies: the client starts
//! in a fraction of the time.

use clap::Parser;
use rpmostree::transaction::{prune, pull_helper, zygote};
use std::process::ExitCode;

/// The helpers: forked by the zygote, or run as `rpm-ostreed VERB SPEC`.
const HELPERS: &[(&str, zygote::HelperMain)] = &[
    ("internal-pull", pull_helper::main),
    ("internal-prune", prune::helper_main),
];

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Some((_, helper)) = HELPERS
        .iter()
        .find(|(verb, _)| args.get(1).is_some_and(|a| a == verb))
    {
        return helper(&args);
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
    // While this process still has a single thread and no GLib state.
    zygote::start(HELPERS);
    match rpmostree::daemon::run(parsed) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
