//! Commands that run locally rather than through the daemon, in the daemon's
//! executable because they read the repository with libostree (the client
//! links neither): `rpm-ostree db` executes `rpm-ostreed db ...`, and
//! `rpm-ostree shlib-backend` (upstream librpmostree-1's helper) executes
//! `rpm-ostreed shlib-backend ...`; `rpm-ostree compose container-encapsulate`
//! reads the packages' files with `rpm-ostreed internal-file-owners`.

pub mod db;
pub mod file_owners;
pub mod shlib_backend;
