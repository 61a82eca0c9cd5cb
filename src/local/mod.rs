//! Commands that run locally rather than through the daemon, in the daemon's
//! executable because they read the repository with libostree (the client
//! links neither): `rpm-ostree db` executes `rpm-ostreed db ...`, and
//! `rpm-ostree shlib-backend` (upstream librpmostree-1's helper) executes
//! `rpm-ostreed shlib-backend ...`.

pub mod db;
pub mod shlib_backend;
