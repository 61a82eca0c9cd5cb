//! The `rpm-ostree` command line client. `rpm-ostree start-daemon` executes the
//! daemon (`rpm-ostreed`, beside this binary or in the libexec directory).

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::ExitCode;

/// Where the daemon's executable is installed (set by meson at build time).
const LIBEXECDIR: &str = match option_env!("RPMOSTREE_LIBEXECDIR") {
    Some(d) => d,
    None => "/usr/libexec",
};

fn daemon_executable() -> PathBuf {
    let sibling = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join("rpm-ostreed")))
        .filter(|p| p.is_file());
    sibling.unwrap_or_else(|| PathBuf::from(LIBEXECDIR).join("rpm-ostreed"))
}

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == "start-daemon") {
        let exe = daemon_executable();
        let err = std::process::Command::new(&exe).args(&args[1..]).exec();
        eprintln!("error: Executing {}: {err}", exe.display());
        return ExitCode::FAILURE;
    }
    rpmostree::client::main(args)
}
