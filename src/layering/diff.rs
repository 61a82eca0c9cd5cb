//! How two package sets differ, paired the way upstream pairs them: by name
//! in sorted order; same name and arch with another version is a change;
//! same name in another arch is a change only when each side has just that
//! one package of the name (else multilib: the smaller arch stands alone);
//! several packages of one name (kernels) pair up in version order.

use std::cmp::Ordering;

use super::nevra::Package;
use crate::pkgdiff::{Change, Entry, PkgDiff, PkgRef};

fn side(p: &Package) -> PkgRef {
    PkgRef {
        name: p.name.clone(),
        evr: p.evr(),
        arch: p.arch.clone(),
    }
}

fn only(e: &mut Vec<Entry>, change: Change, p: &Package) {
    let (old, new) = match change {
        Change::Removed => (Some(side(p)), None),
        _ => (None, Some(side(p))),
    };
    e.push(Entry { change, old, new });
}

fn modified(e: &mut Vec<Entry>, old: &Package, new: &Package) {
    let down = old.cmp_list(new) == Ordering::Greater;
    e.push(Entry {
        change: if down {
            Change::Downgraded
        } else {
            Change::Upgraded
        },
        old: Some(side(old)),
        new: Some(side(new)),
    });
}

/// True if `list[i]` is the only package of its name in `list`.
fn alone(list: &[Package], i: usize) -> bool {
    let name = &list[i].name;
    !(i > 0 && list[i - 1].name == *name) && list.get(i + 1).is_none_or(|n| n.name != *name)
}

/// The changes from `old` to `new` (both sorted with [`Package::cmp_list`]).
pub(crate) fn diff(old: &[Package], new: &[Package]) -> PkgDiff {
    let mut e = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < old.len() && j < new.len() {
        let (a, b) = (&old[i], &new[j]);
        match a.name.cmp(&b.name) {
            Ordering::Less => {
                only(&mut e, Change::Removed, a);
                i += 1;
            }
            Ordering::Greater => {
                only(&mut e, Change::Added, b);
                j += 1;
            }
            Ordering::Equal if a.arch == b.arch => {
                if a.cmp_evr(b) != Ordering::Equal {
                    modified(&mut e, a, b);
                }
                i += 1;
                j += 1;
            }
            Ordering::Equal if alone(old, i) && alone(new, j) => {
                modified(&mut e, a, b);
                i += 1;
                j += 1;
            }
            Ordering::Equal if a.arch < b.arch => {
                only(&mut e, Change::Removed, a);
                i += 1;
            }
            Ordering::Equal => {
                only(&mut e, Change::Added, b);
                j += 1;
            }
        }
    }
    for p in &old[i..] {
        only(&mut e, Change::Removed, p);
    }
    for p in &new[j..] {
        only(&mut e, Change::Added, p);
    }
    PkgDiff::new(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(nevras: &[&str]) -> Vec<Package> {
        let mut v: Vec<Package> = nevras
            .iter()
            .map(|n| Package::parse_nevra(n).unwrap())
            .collect();
        v.sort_by(Package::cmp_list);
        v
    }

    fn lines(d: &PkgDiff) -> String {
        d.diff_lines()
    }

    #[test]
    fn all_four_ways_in_rpm_order() {
        let v1 = list(&[
            "tp-base-core-1.0-1.noarch",
            "tp-base-a-1.0-1.noarch",
            "tp-base-b-2.0-1.noarch",
            "tp-base-gone-1.0-1.noarch",
            "tp-base-epoch-1:1.0-1.noarch",
            "tp-base-tilde-2.0~rc1-1.noarch",
        ]);
        let v3 = list(&[
            "tp-base-core-1.0-1.noarch",
            "tp-base-a-2.0-1.noarch",
            "tp-base-b-1.5-1.noarch",
            "tp-base-new-1.0-1.noarch",
            "tp-base-epoch-1:1.0-1.noarch",
            "tp-base-tilde-2.0-1.noarch",
        ]);
        let d = diff(&v1, &v3);
        assert_eq!(d.summary(), "2 upgraded, 1 downgraded, 1 removed, 1 added");
        assert_eq!(
            d.block(),
            "Upgraded:\n  tp-base-a 1.0-1 -> 2.0-1\n  tp-base-tilde 2.0~rc1-1 -> 2.0-1\n\
             Downgraded:\n  tp-base-b 2.0-1 -> 1.5-1\nRemoved:\n  tp-base-gone-1.0-1.noarch\n\
             Added:\n  tp-base-new-1.0-1.noarch\n"
        );
        assert!(diff(&v1, &v1).is_empty());
    }

    #[test]
    fn kernels_pair_in_order_and_arch_changes() {
        let d = diff(
            &list(&["kernel-6.1-1.x86_64", "kernel-6.2-1.x86_64"]),
            &list(&["kernel-6.2-1.x86_64", "kernel-6.3-1.x86_64"]),
        );
        assert_eq!(d.summary(), "2 upgraded");
        // The only package of its name on both sides: a change, even with the same version.
        let d = diff(&list(&["a-1-1.i686"]), &list(&["a-1-1.x86_64"]));
        assert_eq!(lines(&d), "!a-1-1.i686\n=a-1-1.x86_64\n");
        // Multilib: the smaller arch stands alone.
        let d = diff(
            &list(&["glibc-2-1.i686", "glibc-2-1.x86_64"]),
            &list(&["glibc-2-1.x86_64"]),
        );
        assert_eq!(lines(&d), "-glibc-2-1.i686\n");
    }
}
