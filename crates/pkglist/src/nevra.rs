//! A package as rpm names it: name, epoch, version, release, arch; its EVR
//! and NEVRA spellings, and rpm's version ordering (epoch first, then
//! version and release with rpmvercmp: `~` sorts before anything, `^` after
//! the version it extends).

use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Package {
    pub name: String,
    pub epoch: u64,
    pub version: String,
    pub release: String,
    pub arch: String,
}

impl Package {
    /// `[epoch:]version-release` (no epoch when it is 0).
    pub fn evr(&self) -> String {
        if self.epoch == 0 {
            format!("{}-{}", self.version, self.release)
        } else {
            format!("{}:{}-{}", self.epoch, self.version, self.release)
        }
    }

    /// `name-[epoch:]version-release.arch`.
    pub fn nevra(&self) -> String {
        format!("{}-{}.{}", self.name, self.evr(), self.arch)
    }

    /// rpm's order of two versions of a package (names are not compared).
    pub fn cmp_evr(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| rpm_version::rpm_evr_compare(&self.version, &other.version))
            .then_with(|| rpm_version::rpm_evr_compare(&self.release, &other.release))
    }

    /// The order of package lists: by name, then version, then arch.
    pub fn cmp_list(&self, other: &Self) -> Ordering {
        self.name
            .cmp(&other.name)
            .then_with(|| self.cmp_evr(other))
            .then_with(|| self.arch.cmp(&other.arch))
    }

    /// Parses `name-[epoch:]version-release.arch`.
    pub fn parse_nevra(s: &str) -> Option<Self> {
        let (rest, arch) = s.rsplit_once('.')?;
        let (rest, release) = rest.rsplit_once('-')?;
        let (name, ev) = rest.rsplit_once('-')?;
        let (epoch, version) = match ev.split_once(':') {
            Some((e, v)) => (e.parse().ok()?, v),
            None => (0, ev),
        };
        (!name.is_empty() && !version.is_empty() && !release.is_empty() && !arch.is_empty()).then(
            || Self {
                name: name.to_string(),
                epoch,
                version: version.to_string(),
                release: release.to_string(),
                arch: arch.to_string(),
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(nevra: &str) -> Package {
        Package::parse_nevra(nevra).unwrap()
    }

    #[test]
    fn spellings() {
        let a = p("foo-1.0-1.fc39.x86_64");
        assert_eq!(a.evr(), "1.0-1.fc39");
        assert_eq!(a.nevra(), "foo-1.0-1.fc39.x86_64");
        let e = p("bar-baz-2:3.1-4.noarch");
        assert_eq!((e.name.as_str(), e.epoch), ("bar-baz", 2));
        assert_eq!(e.nevra(), "bar-baz-2:3.1-4.noarch");
        assert!(Package::parse_nevra("nodash.noarch").is_none());
        assert!(Package::parse_nevra("x-1-2").is_none());
    }

    #[test]
    fn rpm_version_order() {
        let lt = |a: &str, b: &str| assert_eq!(p(a).cmp_evr(&p(b)), Ordering::Less, "{a} < {b}");
        lt("a-1.0~rc1-1.noarch", "a-1.0-1.noarch");
        lt("a-1.0-1.noarch", "a-1.0^git1-1.noarch");
        lt("a-9.9-1.noarch", "a-1:0.1-1.noarch");
        lt("a-2.a-1.noarch", "a-2.1-1.noarch");
        lt("a-1.0-1.noarch", "a-1.0-2.noarch");
        lt("a-1.9-1.noarch", "a-1.10-1.noarch");
        assert_eq!(
            p("a-1.0-1.noarch").cmp_evr(&p("a-0:1.0-1.x86_64")),
            Ordering::Equal
        );
    }
}
