//! The rules of `Search`, apart from libdnf: three match groups (name and
//! summary, name, summary), each searched exactly and then by substring,
//! case-insensitively, terms with `*`, `?` or `[` as globs; within a group a
//! term list matches when any term does, and at most 50 new names are taken
//! per pass (a name already taken by the group's exact pass is not repeated
//! by its substring pass).

use dnf_sys::{HY_EQ, HY_GLOB, HY_ICASE, HY_PKG_NAME, HY_PKG_SUMMARY, HY_SUBSTR};
use std::collections::HashSet;

/// The match groups, in the order of the reply: the `key` of their entries
/// and the package fields that must each match a term.
pub(super) const GROUPS: &[(&str, &[i32])] = &[
    ("match_group_a", &[HY_PKG_NAME, HY_PKG_SUMMARY]),
    ("match_group_b", &[HY_PKG_NAME]),
    ("match_group_c", &[HY_PKG_SUMMARY]),
];

/// Names taken per pass at most.
pub(super) const MAX_NAMES: usize = 50;

/// libdnf's `hy_is_glob_pattern` (not exported by Debian's libdnf).
pub(super) fn is_glob(term: &str) -> bool {
    term.contains(['*', '?', '['])
}

/// The comparison and patterns of one pass over `terms`. Globs and plain
/// terms mixed in one list are all matched as globs (a plain term as
/// itself, or within `*...*` for the substring pass), since one filter
/// has one comparison.
pub(super) fn pass_filter(terms: &[String], substring: bool) -> (i32, Vec<String>) {
    let globs = terms.iter().filter(|t| is_glob(t)).count();
    if globs == 0 {
        let cmp = if substring { HY_SUBSTR } else { HY_EQ };
        return (cmp | HY_ICASE, terms.to_vec());
    }
    let patterns = terms
        .iter()
        .map(|t| {
            if is_glob(t) {
                t.clone()
            } else {
                let literal = t.replace('\\', "\\\\");
                if substring {
                    format!("*{literal}*")
                } else {
                    literal
                }
            }
        })
        .collect();
    (HY_GLOB | HY_ICASE, patterns)
}

/// The positions of the entries of `names` to take: each name not `seen`
/// yet (then recorded), in order, at most [`MAX_NAMES`] of them.
pub(super) fn take_new_names<'a>(
    names: impl IntoIterator<Item = &'a str>,
    seen: &mut HashSet<String>,
) -> Vec<usize> {
    let mut taken = Vec::new();
    for (i, name) in names.into_iter().enumerate() {
        if taken.len() == MAX_NAMES {
            break;
        }
        if seen.insert(name.to_string()) {
            taken.push(i);
        }
    }
    taken
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(t: &[&str]) -> Vec<String> {
        t.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn plain_terms_are_exact_then_substrings() {
        let t = terms(&["vim", "Emacs"]);
        assert_eq!(pass_filter(&t, false), (HY_EQ | HY_ICASE, t.clone()));
        assert_eq!(pass_filter(&t, true), (HY_SUBSTR | HY_ICASE, t.clone()));
    }

    #[test]
    fn globs_and_mixed_terms_are_globs() {
        let t = terms(&["test*"]);
        assert_eq!(pass_filter(&t, false), (HY_GLOB | HY_ICASE, t.clone()));
        assert_eq!(pass_filter(&t, true), (HY_GLOB | HY_ICASE, t.clone()));
        let t = terms(&["py?hon", "a\\b"]);
        assert_eq!(
            pass_filter(&t, true),
            (HY_GLOB | HY_ICASE, terms(&["py?hon", "*a\\\\b*"]))
        );
        assert_eq!(pass_filter(&t, false).1, terms(&["py?hon", "a\\\\b"]));
        assert!(is_glob("[ab]c") && !is_glob("abc"));
    }

    #[test]
    fn names_are_taken_once_and_at_most_fifty() {
        let mut seen = HashSet::new();
        assert_eq!(take_new_names(["a", "b", "a", "c"], &mut seen), [0, 1, 3]);
        assert_eq!(take_new_names(["c", "d"], &mut seen), [1]);
        let many: Vec<String> = (0..80).map(|i| format!("p{i}")).collect();
        let mut seen = HashSet::new();
        let taken = take_new_names(many.iter().map(String::as_str), &mut seen);
        assert_eq!(taken.len(), MAX_NAMES);
        assert_eq!(taken.last(), Some(&49));
    }
}
