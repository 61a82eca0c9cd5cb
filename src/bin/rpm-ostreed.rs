//! `rpm-ostreed`: the daemon's executable (`rpm-ostree start-daemon` executes
//! it), and the helper processes its transactions run (`internal-pull`,
//! `internal-cleanup`). Kept apart from the command line client so that only the
//! daemon loads libostree, libpolkit and their dependencies: the client starts
//! in a fraction of the time.

use clap::Parser;
use rpmostree::deployment::{cleanup, pull};
use rpmostree::layering::pkgdb;
use std::process::ExitCode;

/// A helper's entry point: it reads its request on stdin.
type HelperMain = fn() -> ExitCode;

/// The helper verbs.
const HELPERS: &[(&str, HelperMain)] = &[
    ("internal-pull", pull::helper_main),
    ("internal-cleanup", cleanup::helper_main),
    ("internal-pkgdiff", pkgdb::helper_main),
];

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // First, before anything opens a file: it takes over its fd 3.
    if args.get(1).is_some_and(|a| a == "shlib-backend") {
        return rpmostree::local::shlib_backend::main(args.into_iter().skip(2).collect());
    }
    // `rpm-ostree db ...` (and its alias `rpm`) runs here, where libostree is.
    if args.get(1).is_some_and(|a| a == "db" || a == "rpm") {
        let mut argv = vec![std::ffi::OsString::from("rpm-ostree db")];
        argv.extend(args.into_iter().skip(2));
        return rpmostree::local::db::main(argv);
    }
    if args.get(1).is_some_and(|a| a == "internal-file-owners") {
        let rest: Vec<String> = args
            .iter()
            .skip(2)
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        return rpmostree::local::file_owners::main(&rest);
    }
    if let Some((_, helper)) = HELPERS
        .iter()
        .find(|(verb, _)| args.get(1).is_some_and(|a| a == verb))
    {
        return helper();
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
