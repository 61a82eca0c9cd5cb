use super::*;

fn sample() -> PkgDiff {
    let p = PkgRef::new;
    PkgDiff::new(vec![
        Entry {
            change: Change::Added,
            old: None,
            new: Some(p("tp-base-new", "1.0-1", "noarch")),
        },
        Entry {
            change: Change::Upgraded,
            old: Some(p("tp-base-a", "1.0-1", "noarch")),
            new: Some(p("tp-base-a", "2.0-1", "noarch")),
        },
        Entry {
            change: Change::Removed,
            old: Some(p("tp-base-gone", "1.0-1", "noarch")),
            new: None,
        },
        Entry {
            change: Change::Downgraded,
            old: Some(p("tp-base-b", "2.0-1", "noarch")),
            new: Some(p("tp-base-b", "1.5-1", "noarch")),
        },
    ])
}

#[test]
fn wire_order_and_round_trips() {
    let d = sample();
    let kinds: Vec<Change> = d.entries.iter().map(|e| e.change).collect();
    assert_eq!(
        kinds,
        [
            Change::Added,
            Change::Removed,
            Change::Upgraded,
            Change::Downgraded
        ]
    );
    let v = d.to_variant();
    assert_eq!(v.type_().as_str(), "a(sua{sv})");
    assert_eq!(
        v.child_value(2).print(false).as_str(),
        "('tp-base-a', 2, {'NewPackage': <('tp-base-a', '2.0-1', 'noarch')>, 'PreviousPackage': <('tp-base-a', '1.0-1', 'noarch')>})"
    );
    assert_eq!(PkgDiff::from_variant(&v).unwrap(), d);
    assert_eq!(PkgDiff::from_json(&d.to_json()).unwrap(), d);
    let rd = d.to_rpm_diff(0);
    assert_eq!(rd.type_().as_str(), "a{sv}");
    let dict = glib::VariantDict::new(Some(&rd));
    assert_eq!(
        dict.lookup_value("upgraded", None)
            .unwrap()
            .print(false)
            .as_str(),
        "[(0, 'tp-base-a', ('1.0-1', 'noarch'), ('2.0-1', 'noarch'))]"
    );
    assert_eq!(
        dict.lookup_value("added", None)
            .unwrap()
            .print(false)
            .as_str(),
        "[(0, 'tp-base-new', '1.0-1', 'noarch')]"
    );
    assert_eq!(PkgDiff::from_rpm_diff(&rd).unwrap(), d);
    assert!(PkgDiff::from_variant(&"x".to_variant()).is_none());
}

#[test]
fn text_forms() {
    let d = sample();
    assert_eq!(d.summary(), "1 upgraded, 1 downgraded, 1 removed, 1 added");
    assert_eq!(
        d.block(),
        "Upgraded:\n  tp-base-a 1.0-1 -> 2.0-1\nDowngraded:\n  tp-base-b 2.0-1 -> 1.5-1\n\
         Removed:\n  tp-base-gone-1.0-1.noarch\nAdded:\n  tp-base-new-1.0-1.noarch\n"
    );
    assert_eq!(
        d.aligned(13),
        "       Upgraded: tp-base-a 1.0-1 -> 2.0-1\n     Downgraded: tp-base-b 2.0-1 -> 1.5-1\n\
         \x20       Removed: tp-base-gone-1.0-1.noarch\n          Added: tp-base-new-1.0-1.noarch\n"
    );
    assert_eq!(
        d.diff_lines(),
        "!tp-base-a-1.0-1.noarch\n=tp-base-a-2.0-1.noarch\n!tp-base-b-2.0-1.noarch\n\
         =tp-base-b-1.5-1.noarch\n-tp-base-gone-1.0-1.noarch\n+tp-base-new-1.0-1.noarch\n"
    );
    assert_eq!(
        d.preview_lines(),
        "!tp-base-a-1.0-1-noarch\n=tp-base-a-2.0-1-noarch\n!tp-base-b-2.0-1-noarch\n\
         =tp-base-b-1.5-1-noarch\n-tp-base-gone-1.0-1-noarch\n+tp-base-new-1.0-1-noarch\n"
    );
    let empty = PkgDiff::default();
    assert_eq!(
        (empty.summary(), empty.block()),
        (String::new(), String::new())
    );
}

#[test]
fn diff_lines_merge_in_package_order() {
    let p = PkgRef::new;
    let d = PkgDiff::new(vec![
        Entry {
            change: Change::Added,
            old: None,
            new: Some(p("a", "1-1", "noarch")),
        },
        Entry {
            change: Change::Removed,
            old: Some(p("z", "1-1", "noarch")),
            new: None,
        },
        Entry {
            change: Change::Upgraded,
            old: Some(p("m", "1-1", "noarch")),
            new: Some(p("m", "2-1", "noarch")),
        },
    ]);
    assert_eq!(
        d.diff_lines(),
        "+a-1-1.noarch\n!m-1-1.noarch\n=m-2-1.noarch\n-z-1-1.noarch\n"
    );
}
