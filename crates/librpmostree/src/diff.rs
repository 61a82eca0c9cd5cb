//! How two sorted package lists differ, paired as upstream's library pairs
//! them: by name in list order; the same name and arch in another version is
//! a change; the same name in another arch is a change when the next package
//! of each list has another name, else the smaller arch stands alone
//! (multilib).

use rpmostree_pkglist::Package;
use std::cmp::Ordering;

/// Positions in the old (`a`) and new (`b`) lists.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Diff {
    pub removed: Vec<usize>,
    pub added: Vec<usize>,
    /// (old, new) pairs of changed versions.
    pub modified: Vec<(usize, usize)>,
}

/// True if the package after `list[i]` has another name (or there is none).
fn last_of_name(list: &[Package], i: usize) -> bool {
    list.get(i + 1).is_none_or(|n| n.name != list[i].name)
}

/// The changes from `a` to `b`, both sorted by name, version and arch.
pub(crate) fn diff(a: &[Package], b: &[Package]) -> Diff {
    let mut d = Diff::default();
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let (pa, pb) = (&a[i], &b[j]);
        match pa.name.cmp(&pb.name) {
            Ordering::Less => {
                d.removed.push(i);
                i += 1;
            }
            Ordering::Greater => {
                d.added.push(j);
                j += 1;
            }
            Ordering::Equal => match pa.arch.cmp(&pb.arch) {
                Ordering::Equal => {
                    if pa.cmp_evr(pb) != Ordering::Equal {
                        d.modified.push((i, j));
                    }
                    i += 1;
                    j += 1;
                }
                _ if last_of_name(a, i) && last_of_name(b, j) => {
                    d.modified.push((i, j));
                    i += 1;
                    j += 1;
                }
                Ordering::Less => {
                    d.removed.push(i);
                    i += 1;
                }
                Ordering::Greater => {
                    d.added.push(j);
                    j += 1;
                }
            },
        }
    }
    d.removed.extend(i..a.len());
    d.added.extend(j..b.len());
    d
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

    #[test]
    fn pairs_like_upstream() {
        let a = list(&[
            "a-1-1.noarch",
            "b-2-1.noarch",
            "gone-1-1.noarch",
            "same-1-1.noarch",
        ]);
        let b = list(&[
            "a-2-1.noarch",
            "b-1.5-1.noarch",
            "new-1-1.noarch",
            "same-1-1.noarch",
        ]);
        let d = diff(&a, &b);
        assert_eq!(d.modified, [(0, 0), (1, 1)]);
        assert_eq!((d.removed, d.added), (vec![2], vec![2]));
        assert_eq!(diff(&a, &a), Diff::default());
        // One package of the name on each side: an arch change is a change.
        let d = diff(&list(&["x-1-1.i686"]), &list(&["x-1-1.x86_64"]));
        assert_eq!(d.modified, [(0, 0)]);
        // Multilib: the smaller arch stands alone.
        let d = diff(
            &list(&["glibc-2-1.i686", "glibc-2-1.x86_64"]),
            &list(&["glibc-2-1.x86_64"]),
        );
        assert_eq!((d.removed, d.added, d.modified), (vec![0], vec![], vec![]));
        // Several of one name (kernels) pair in version order.
        let d = diff(
            &list(&["kernel-6.1-1.x86_64", "kernel-6.2-1.x86_64"]),
            &list(&["kernel-6.2-1.x86_64", "kernel-6.3-1.x86_64"]),
        );
        assert_eq!(d.modified, [(0, 0), (1, 1)]);
    }
}
