//! rpm-ostree's daemon model (`rpm-ostreed`) over libostree, and the drop-in
//! `rpm-ostree` command line that talks to it.
//!
//! The daemon is a single-threaded GLib program: GDBus objects on the main loop
//! (`bus`, `sysroot`, `os`), one transaction at a time in a worker thread
//! reporting over a private peer-to-peer socket (`transaction`), authorization
//! through polkit (`authz`). Domain logic over libostree lives in `deployment`.

pub(crate) mod authz;
pub(crate) mod bus;
pub mod client;
pub(crate) mod clients;
pub(crate) mod config;
pub mod daemon;
pub(crate) mod deploy_request;
pub(crate) mod deployment;
pub(crate) mod error;
pub(crate) mod memory;
pub mod names;
pub(crate) mod options;
pub(crate) mod os;
pub(crate) mod polkit;
pub(crate) mod state;
pub(crate) mod sysroot;
pub mod transaction;

#[cfg(test)]
mod contract_tests;
#[cfg(test)]
pub(crate) mod testutil;
