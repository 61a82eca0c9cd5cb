use super::*;

fn graph(files: &[(&str, &str)]) -> Graph {
    let files: Vec<(String, String)> = files
        .iter()
        .map(|(p, t)| (p.to_string(), t.to_string()))
        .collect();
    from_sources(&files).expect("sources parse")
}

const RULES: &str = "
group leaves = names progress
allow @leaves -> @leaves
allow transaction -> @leaves
allow daemon -> * !client
allow client -> names
";

#[test]
fn a_clean_tree_passes() {
    let g = graph(&[
        (
            "lib.rs",
            "mod names; mod progress; mod transaction; mod daemon;",
        ),
        ("names.rs", "pub const X: u32 = 1;"),
        (
            "progress.rs",
            "use crate::names::X; pub fn p() -> u32 { X }",
        ),
        (
            "transaction/mod.rs",
            "mod kinds; mod worker; use crate::progress; fn f() { worker::run(); }",
        ),
        ("transaction/kinds/mod.rs", "pub trait Kind {} mod deploy;"),
        (
            "transaction/kinds/deploy.rs",
            "use super::Kind; use crate::progress::p; struct D; impl Kind for D {}",
        ),
        (
            "transaction/worker.rs",
            "use super::kinds::Kind; pub fn run() {}",
        ),
        (
            "daemon.rs",
            "use crate::transaction; #[cfg(test)] mod tests { use crate::client; }",
        ),
    ]);
    assert_eq!(cycles(&g), Vec::<String>::new());
    let rules = Rules::parse(RULES).unwrap();
    assert_eq!(forbidden(&g, &rules), Vec::<String>::new());
    // A parent and its children may use each other.
    assert!(g.edges.contains_key(&(
        vec!["transaction".into(), "kinds".into(), "deploy".into()],
        vec!["transaction".into(), "kinds".into()]
    )));
}

#[test]
fn a_deliberate_cycle_fails() {
    // kinds::deploy -> worker -> kinds: a cycle between the siblings kinds
    // and worker, although no file of `kinds` itself imports `worker`.
    let g = graph(&[
        ("lib.rs", "mod transaction;"),
        ("transaction/mod.rs", "mod kinds; mod worker;"),
        ("transaction/kinds/mod.rs", "pub trait Kind {} mod deploy;"),
        (
            "transaction/kinds/deploy.rs",
            "use crate::transaction::worker::Ctx; fn f(_: &Ctx) {}",
        ),
        (
            "transaction/worker.rs",
            "pub struct Ctx; fn run(k: &dyn super::kinds::Kind) {}",
        ),
    ]);
    let found = cycles(&g);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("import cycle between transaction::kinds, transaction::worker"),
        "{}",
        found[0]
    );
    assert!(
        found[0].contains("transaction::kinds::deploy -> transaction::worker"),
        "{}",
        found[0]
    );
}

#[test]
fn a_top_level_cycle_through_inline_paths_fails() {
    let g = graph(&[
        ("lib.rs", "mod authz; mod state;"),
        ("authz.rs", "fn f(d: &crate::state::Daemon) {}"),
        (
            "state.rs",
            "pub struct Daemon; fn g() { super::authz::f(); }",
        ),
    ]);
    assert_eq!(cycles(&g).len(), 1);
}

#[test]
fn forbidden_edges_and_missing_rules_are_reported() {
    let g = graph(&[
        (
            "lib.rs",
            "mod names; mod client; mod transaction; mod stray;",
        ),
        ("names.rs", "use crate::transaction::X;"),
        ("client/mod.rs", "use crate::transaction; use crate::names;"),
        ("transaction.rs", "pub struct X;"),
        ("stray.rs", ""),
    ]);
    let rules = Rules::parse(RULES).unwrap();
    let v = forbidden(&g, &rules);
    assert!(v.contains(&"module stray has no rule".to_string()), "{v:?}");
    assert!(
        v.contains(&"forbidden import names -> transaction (names.rs)".to_string()),
        "{v:?}"
    );
    assert!(
        v.contains(&"forbidden import client -> transaction (client/mod.rs)".to_string()),
        "{v:?}"
    );
    assert_eq!(v.len(), 3, "{v:?}");
}

#[test]
fn rules_syntax_errors_are_reported() {
    assert!(Rules::parse("allow a b").is_err());
    assert!(Rules::parse("allow a -> @nope").is_err());
    assert!(Rules::parse("frobnicate").is_err());
}

#[test]
fn test_only_file_modules_are_left_out() {
    let g = graph(&[
        ("lib.rs", "mod names; #[cfg(test)] mod testutil;"),
        ("names.rs", "#[cfg(test)] mod tests;"),
        ("names/tests.rs", "use crate::testutil;"),
        ("testutil.rs", "use crate::names;"),
    ]);
    assert_eq!(
        g.modules,
        BTreeSet::from([vec![], vec!["names".to_string()]])
    );
    assert!(g.edges.is_empty(), "{:?}", g.edges);
}
