//! A package as rpm names it and rpm's version order: the workspace crate
//! `rpmostree-pkglist` owns it (librpmostree-1 shares it); re-exported here so
//! that the layering code keeps its paths.

pub(crate) use rpmostree_pkglist::Package;
