//! rpm-ostree's daemon model (`rpm-ostreed`) over libostree, and the drop-in
//! `rpm-ostree` command line that talks to it.
//!
//! The daemon is a single-threaded GLib program: GDBus objects on the main
//! loop (`bus`, `sysroot`, `os`), every call through one gate (`gate`,
//! `authz`), one transaction at a time in a worker thread reporting over a
//! private peer-to-peer socket (`transaction`). Domain logic over libostree
//! lives in `deployment`; heavy work runs in child processes (`helper`).
//! `make lint` checks the dependency rules between these modules
//! (build-aux/import-rules.txt).

// Leaves.
pub(crate) mod config;
pub(crate) mod error;
pub(crate) mod fsutil;
pub mod names;
pub(crate) mod options;
pub mod pkgdiff;
pub(crate) mod procstat;
pub(crate) mod progress;
pub(crate) mod state_files;
pub(crate) mod stdout;
pub(crate) mod validate;
// Bindings.
pub(crate) mod ffi;
// Helper processes and the domain.
pub(crate) mod container;
pub mod deployment;
pub(crate) mod helper;
pub mod layering;
pub mod local;
// Transactions.
pub mod transaction;
// The D-Bus face.
pub(crate) mod authz;
pub(crate) mod bus;
pub(crate) mod client_registry;
pub mod daemon;
pub(crate) mod gate;
pub(crate) mod os;
pub(crate) mod state;
pub(crate) mod sysroot;
// The command line.
pub mod client;

#[cfg(test)]
mod contract_tests;
#[cfg(test)]
pub(crate) mod testutil;
