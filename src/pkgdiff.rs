//! A package diff as its users see it: the `a(sua{sv})` of the `Get*RpmDiff`
//! methods and of `db diff --format=json`, the `rpm-diff` dictionary of a
//! cached update, and their text forms (the `Upgraded:`/`Downgraded:`/
//! `Removed:`/`Added:` blocks, the `+`/`-`/`!`/`=` lines, the `Diff:`
//! summary). Shared by the daemon, the local `db` command and the CLI.

use glib::Variant;
use glib::prelude::*;
use serde_json::{Value, json};
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt::Write;

/// One side of a change: (name, evr, arch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PkgRef {
    pub name: String,
    pub evr: String,
    pub arch: String,
}

impl PkgRef {
    pub fn new(name: &str, evr: &str, arch: &str) -> Self {
        Self {
            name: name.into(),
            evr: evr.into(),
            arch: arch.into(),
        }
    }

    /// `name-evr.arch`.
    pub fn nevra(&self) -> String {
        format!("{}-{}.{}", self.name, self.evr, self.arch)
    }

    /// rpm's package order: name, then EVR, then arch.
    fn cmp(&self, other: &Self) -> Ordering {
        self.name
            .cmp(&other.name)
            .then_with(|| rpm_version::rpm_evr_compare(&self.evr, &other.evr))
            .then_with(|| self.arch.cmp(&other.arch))
    }
}

/// The kinds of change, with their wire codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Change {
    Added = 0,
    Removed = 1,
    Upgraded = 2,
    Downgraded = 3,
}

impl Change {
    fn from_code(u: u32) -> Option<Self> {
        Some(match u {
            0 => Self::Added,
            1 => Self::Removed,
            2 => Self::Upgraded,
            3 => Self::Downgraded,
            _ => return None,
        })
    }

    fn word(self) -> &'static str {
        match self {
            Self::Added => "Added",
            Self::Removed => "Removed",
            Self::Upgraded => "Upgraded",
            Self::Downgraded => "Downgraded",
        }
    }
}

/// One changed package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub change: Change,
    /// Before the change (removed, upgraded, downgraded).
    pub old: Option<PkgRef>,
    /// After the change (added, upgraded, downgraded).
    pub new: Option<PkgRef>,
}

impl Entry {
    /// The name the entry is known by: the old package's, else the new one's.
    pub fn name(&self) -> &str {
        self.old
            .as_ref()
            .or(self.new.as_ref())
            .map(|p| p.name.as_str())
            .unwrap_or_default()
    }
}

/// The changes between two package sets, in the order of the wire: by kind
/// (added, removed, upgraded, downgraded), then name; packages of one name
/// keep their order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PkgDiff {
    pub entries: Vec<Entry>,
}

/// The order of the lists in text output.
const TEXT_ORDER: [Change; 4] = [
    Change::Upgraded,
    Change::Downgraded,
    Change::Removed,
    Change::Added,
];

/// An `rpm-diff` entry of a changed package: (type, name, (old evr, old
/// arch), (new evr, new arch)).
type ModifiedTuple = (u32, String, (String, String), (String, String));

fn tuple3(v: &Variant) -> Option<PkgRef> {
    let (name, evr, arch): (String, String, String) = v.get()?;
    Some(PkgRef { name, evr, arch })
}

impl PkgDiff {
    /// Sorts entries into the wire order (stable).
    pub fn new(mut entries: Vec<Entry>) -> Self {
        entries.sort_by(|a, b| a.change.cmp(&b.change).then_with(|| a.name().cmp(b.name())));
        Self { entries }
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn of(&self, c: Change) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(move |e| e.change == c)
    }

    fn count(&self, c: Change) -> usize {
        self.of(c).count()
    }

    /// `a(sua{sv})`: (name, kind, {PreviousPackage: (sss), NewPackage: (sss)}).
    pub fn to_variant(&self) -> Variant {
        let items = self.entries.iter().map(|e| {
            let mut d: BTreeMap<String, Variant> = BTreeMap::new();
            let side = |p: &PkgRef| (p.name.as_str(), p.evr.as_str(), p.arch.as_str()).to_variant();
            if let Some(p) = &e.old {
                d.insert("PreviousPackage".into(), side(p));
            }
            if let Some(p) = &e.new {
                d.insert("NewPackage".into(), side(p));
            }
            (e.name(), e.change as u32, d).to_variant()
        });
        Variant::array_from_iter_with_type(
            glib::VariantTy::new("(sua{sv})").expect("valid type"),
            items,
        )
    }

    /// Reads an `a(sua{sv})`.
    pub fn from_variant(v: &Variant) -> Option<Self> {
        if v.type_().as_str() != "a(sua{sv})" {
            return None;
        }
        let mut entries = Vec::new();
        for item in v.iter() {
            let change = Change::from_code(item.child_value(1).get()?)?;
            let d = glib::VariantDict::new(Some(&item.child_value(2)));
            let side = |k: &str| d.lookup_value(k, None).as_ref().and_then(tuple3);
            entries.push(Entry {
                change,
                old: side("PreviousPackage"),
                new: side("NewPackage"),
            });
        }
        Some(Self { entries })
    }

    /// The JSON of `a(sua{sv})` (tuples as arrays, dictionaries as objects).
    pub fn to_json(&self) -> Value {
        let side = |p: &PkgRef| json!([p.name, p.evr, p.arch]);
        Value::Array(
            self.entries
                .iter()
                .map(|e| {
                    let mut d = serde_json::Map::new();
                    if let Some(p) = &e.old {
                        d.insert("PreviousPackage".into(), side(p));
                    }
                    if let Some(p) = &e.new {
                        d.insert("NewPackage".into(), side(p));
                    }
                    json!([e.name(), e.change as u32, d])
                })
                .collect(),
        )
    }

    /// Reads what [`Self::to_json`] writes.
    pub fn from_json(v: &Value) -> Option<Self> {
        let side = |v: Option<&Value>| -> Option<PkgRef> {
            let a = v?.as_array()?;
            Some(PkgRef::new(
                a.first()?.as_str()?,
                a.get(1)?.as_str()?,
                a.get(2)?.as_str()?,
            ))
        };
        let mut entries = Vec::new();
        for item in v.as_array()? {
            let change = Change::from_code(u32::try_from(item.get(1)?.as_u64()?).ok()?)?;
            let d = item.get(2)?;
            entries.push(Entry {
                change,
                old: side(d.get("PreviousPackage")),
                new: side(d.get("NewPackage")),
            });
        }
        Some(Self { entries })
    }

    /// The `rpm-diff` dictionary of a cached update: `upgraded`/`downgraded`
    /// `a(us(ss)(ss))` and `removed`/`added` `a(usss)`, each sorted by name;
    /// `pkg_type` 0 for base packages, 1 for layered ones.
    pub fn to_rpm_diff(&self, pkg_type: u32) -> Variant {
        let modified = |c: Change| {
            let items = self.of(c).filter_map(|e| {
                let (o, n) = (e.old.as_ref()?, e.new.as_ref()?);
                Some(
                    (
                        pkg_type,
                        o.name.as_str(),
                        (o.evr.as_str(), o.arch.as_str()),
                        (n.evr.as_str(), n.arch.as_str()),
                    )
                        .to_variant(),
                )
            });
            Variant::array_from_iter_with_type(
                glib::VariantTy::new("(us(ss)(ss))").expect("valid type"),
                items,
            )
        };
        let single = |c: Change| {
            let items = self.of(c).filter_map(|e| {
                let p = e.old.as_ref().or(e.new.as_ref())?;
                Some((pkg_type, p.name.as_str(), p.evr.as_str(), p.arch.as_str()).to_variant())
            });
            Variant::array_from_iter_with_type(
                glib::VariantTy::new("(usss)").expect("valid type"),
                items,
            )
        };
        let mut d: BTreeMap<String, Variant> = BTreeMap::new();
        d.insert("upgraded".into(), modified(Change::Upgraded));
        d.insert("downgraded".into(), modified(Change::Downgraded));
        d.insert("removed".into(), single(Change::Removed));
        d.insert("added".into(), single(Change::Added));
        d.to_variant()
    }

    /// Reads an `rpm-diff` dictionary.
    pub fn from_rpm_diff(v: &Variant) -> Option<Self> {
        let d = glib::VariantDict::new(Some(v));
        let mut entries = Vec::new();
        for (key, change) in [
            ("upgraded", Change::Upgraded),
            ("downgraded", Change::Downgraded),
        ] {
            let list: Vec<ModifiedTuple> = d.lookup_value(key, None)?.get()?;
            for (_, name, (oe, oa), (ne, na)) in list {
                entries.push(Entry {
                    change,
                    old: Some(PkgRef::new(&name, &oe, &oa)),
                    new: Some(PkgRef::new(&name, &ne, &na)),
                });
            }
        }
        for (key, change) in [("removed", Change::Removed), ("added", Change::Added)] {
            let list: Vec<(u32, String, String, String)> = d.lookup_value(key, None)?.get()?;
            for (_, name, evr, arch) in list {
                let p = Some(PkgRef::new(&name, &evr, &arch));
                let (old, new) = if change == Change::Removed {
                    (p, None)
                } else {
                    (None, p)
                };
                entries.push(Entry { change, old, new });
            }
        }
        Some(Self::new(entries))
    }

    /// `N upgraded, N downgraded, N removed, N added` (zero counts left out).
    pub fn summary(&self) -> String {
        TEXT_ORDER
            .iter()
            .filter_map(|&c| {
                let n = self.count(c);
                (n > 0).then(|| format!("{n} {}", c.word().to_lowercase()))
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The block format (`db diff`, and the CLI after a new deployment):
    /// `Upgraded:` lines `  name old-evr -> new-evr`, `Removed:`/`Added:` lines
    /// `  nevra`; a section only when it has entries.
    pub fn block(&self) -> String {
        let mut out = String::new();
        for c in TEXT_ORDER {
            let mut entries = self.of(c).peekable();
            if entries.peek().is_none() {
                continue;
            }
            let _ = writeln!(out, "{}:", c.word());
            for e in entries {
                match (&e.old, &e.new) {
                    (Some(o), Some(n)) => {
                        let _ = writeln!(out, "  {} {} -> {}", o.name, o.evr, n.evr);
                    }
                    (Some(p), None) | (None, Some(p)) => {
                        let _ = writeln!(out, "  {}", p.nevra());
                    }
                    (None, None) => {}
                }
            }
        }
        out
    }

    /// The same lists aligned under a key column of `width` (`status -v`,
    /// `upgrade --preview`): `  <key>: name old -> new`, removed and added as
    /// `nevra`.
    pub fn aligned(&self, width: usize) -> String {
        let mut out = String::new();
        for c in TEXT_ORDER {
            for (i, e) in self.of(c).enumerate() {
                let (key, sep) = if i == 0 { (c.word(), ":") } else { ("", " ") };
                let text = match (&e.old, &e.new) {
                    (Some(o), Some(n)) => format!("{} {} -> {}", o.name, o.evr, n.evr),
                    (Some(p), None) | (None, Some(p)) => p.nevra(),
                    (None, None) => continue,
                };
                let _ = writeln!(out, "  {key:>width$}{sep} {text}");
            }
        }
        out
    }

    /// The `--format=diff` lines: `!old` and `=new` for a changed package,
    /// `-` removed, `+` added, merged in package order.
    pub fn diff_lines(&self) -> String {
        let mut modified: Vec<(&PkgRef, &PkgRef)> = Vec::new();
        let mut removed: Vec<&PkgRef> = Vec::new();
        let mut added: Vec<&PkgRef> = Vec::new();
        for e in &self.entries {
            match (&e.old, &e.new) {
                (Some(o), Some(n)) => modified.push((o, n)),
                (Some(o), None) => removed.push(o),
                (None, Some(n)) => added.push(n),
                (None, None) => {}
            }
        }
        modified.sort_by(|a, b| a.0.cmp(b.0));
        removed.sort_by(|a, b| a.cmp(b));
        added.sort_by(|a, b| a.cmp(b));
        // A list that is done sorts after everything.
        let before = |a: Option<&PkgRef>, b: Option<&PkgRef>| match (a, b) {
            (Some(a), Some(b)) => a.cmp(b) == Ordering::Less,
            (Some(_), None) => true,
            (None, _) => false,
        };
        let (mut m, mut r, mut a) = (0, 0, 0);
        let mut out = String::new();
        loop {
            let (hm, hr, ha) = (
                modified.get(m).map(|p| p.0),
                removed.get(r).copied(),
                added.get(a).copied(),
            );
            if hm.is_none() && hr.is_none() && ha.is_none() {
                break;
            }
            if before(hm, hr) && before(hm, ha) {
                let (o, n) = modified[m];
                let _ = writeln!(out, "!{}\n={}", o.nevra(), n.nevra());
                m += 1;
            } else if before(hr, ha) {
                let _ = writeln!(out, "-{}", removed[r].nevra());
                r += 1;
            } else if let Some(p) = ha {
                let _ = writeln!(out, "+{}", p.nevra());
                a += 1;
            }
        }
        out
    }

    /// `deploy --preview`: the entries by name, `!name-evr-arch` and
    /// `=name-evr-arch` for a change, `-` removed, `+` added.
    pub fn preview_lines(&self) -> String {
        let mut entries: Vec<&Entry> = self.entries.iter().collect();
        entries.sort_by(|a, b| a.name().cmp(b.name()));
        let dashed = |p: &PkgRef| format!("{}-{}-{}", p.name, p.evr, p.arch);
        let mut out = String::new();
        for e in entries {
            match (&e.old, &e.new) {
                (Some(o), Some(n)) => {
                    let _ = writeln!(out, "!{}\n={}", dashed(o), dashed(n));
                }
                (Some(o), None) => {
                    let _ = writeln!(out, "-{}", dashed(o));
                }
                (None, Some(n)) => {
                    let _ = writeln!(out, "+{}", dashed(n));
                }
                (None, None) => {}
            }
        }
        out
    }
}

#[cfg(test)]
mod tests;
