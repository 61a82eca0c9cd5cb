//! Commands that run locally rather than through the daemon, in the daemon's
//! executable because they read the repository with libostree (the client
//! links neither): `rpm-ostree db` executes `rpm-ostreed db ...`.

pub mod db;
