//! The packages of a commit (its `rpmostree.rpmdb.pkglist` metadata, else the
//! sqlite rpm database in its tree) and the rpm databases of trees: the
//! workspace crate `rpmostree-pkglist` owns the reading (librpmostree-1 shares
//! it); re-exported here so that the layering code keeps its paths.

pub(crate) use rpmostree_pkglist::pkglist::{
    Header, PKGLIST_KEY, commit_headers, commit_packages, files_of, from_pkglist, packages_of_file,
    provided_version, to_pkglist,
};
