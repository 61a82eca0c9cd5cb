//! `rpm-ostreed-dnf`: the daemon's helper process for rpm-md repositories
//! (libdnf). A program of its own so that only it loads libdnf and its
//! dependencies (librpm, libsolv, librepo): the daemon stays small.

fn main() -> std::process::ExitCode {
    rpmostree::layering::rpmmd::engine::helper_main()
}
