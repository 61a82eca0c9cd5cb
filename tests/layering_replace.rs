//! `override replace --experimental --from repo=ID NAME...`: base packages
//! replaced with the newest of their names in a repository, kept across
//! upgrades (inactive once the base catches up), and reset by name.

mod common;

use common::layer::*;
use common::rpmmd::*;
use common::*;

fn strv(d: &Dict, k: &str) -> Vec<String> {
    d[k].get::<Vec<String>>().unwrap()
}

/// `requested-base-remote-replacements`, sorted.
fn requested(d: &Dict) -> Vec<(String, Vec<String>)> {
    d.get("requested-base-remote-replacements")
        .map(|v| v.get::<Vec<(String, Vec<String>)>>().unwrap())
        .unwrap_or_default()
}

/// The new NEVRAs of `base-remote-replacements` under `source`.
fn replaced_from(d: &Dict, source: &str) -> Vec<String> {
    let all: std::collections::BTreeMap<String, glib::Variant> =
        d["base-remote-replacements"].get().unwrap();
    let Some(list) = all.get(source) else {
        return Vec::new();
    };
    let mut out: Vec<String> = (0..list.n_children())
        .map(|i| {
            let pair = list.child_value(i);
            let new = pair.child_value(0).as_variant().unwrap();
            new.child_value(0).str().unwrap().to_string()
        })
        .collect();
    out.sort();
    out
}

#[test]
fn base_packages_are_replaced_from_a_repository_and_reset_by_name() {
    with_repo(Options::default(), APP, |bed, _| {
        let updates = make_repo(
            bed,
            "tp-updates",
            &[
                "tp-base-a-2.0-1",
                "tp-base-b-1.5-1",
                "tp-base-core-1.0-1",
                "tp-base-new-1.0-1",
            ],
        );
        let served = serve(bed, &updates, &[]);
        write_repo_file(
            bed,
            "updates.repo",
            &repo_section("tp-updates", &served.url(), ""),
        );
        let before = (snapshot(bed), pkgcache_refs(bed));
        let err = fails(bed, &["override", "replace", "tp-base-a"]);
        assert!(err.contains("without --experimental --from"), "{err}");
        let err = fails(
            bed,
            &[
                "override",
                "replace",
                "--from",
                "repo=tp-updates",
                "tp-base-a",
            ],
        );
        assert!(
            err.contains("--from and --freeze require --experimental"),
            "{err}"
        );
        let from = [
            "override",
            "replace",
            "--experimental",
            "--from",
            "repo=tp-updates",
        ];
        let with = |names: &[&str]| -> Vec<String> {
            from.iter().chain(names).map(|s| s.to_string()).collect()
        };
        let args = with(&["tp-nope"]);
        let err = fails(bed, &args.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(
            err.contains("No package 'tp-nope' in repo 'tp-updates'"),
            "{err}"
        );
        // What the base has already, and what it has no package of.
        let args = with(&["tp-base-core"]);
        let err = fails(bed, &args.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(
            err.contains("Package 'tp-base-core-1.0-1.noarch' is already in the base"),
            "{err}"
        );
        let args = with(&["tp-base-new"]);
        let err = fails(bed, &args.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(
            err.contains(
                "No package 'tp-base-new' in the base to replace with tp-base-new-1.0-1.noarch"
            ),
            "{err}"
        );
        assert_eq!((snapshot(bed), pkgcache_refs(bed)), before);

        let args = with(&["tp-base-a"]);
        let out = ok(bed, &args.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(
            out.contains("Use \"rpm-ostree override reset\" to undo overrides"),
            "{out}"
        );
        let d = &deployments(bed)[0];
        assert_eq!(dict_str(d, "base-checksum"), Some(bed.world("CSUM_V1")));
        assert_eq!(
            replaced_from(d, "repo=tp-updates"),
            ["tp-base-a-2.0-1.noarch"]
        );
        assert_eq!(
            requested(d),
            [("repo=tp-updates".to_string(), vec!["tp-base-a".to_string()])]
        );
        assert_eq!(d["base-local-replacements"].n_children(), 0);
        let qa = rpm_qa(&root_of(bed, d));
        assert!(qa.contains(&"tp-base-a-2.0-1.noarch".to_string()), "{qa:?}");
        let status = ok(bed, &["status"]);
        assert!(
            status.contains(
                "          RemoteOverrides: repo=tp-updates\n\
                 \x20                          └─ tp-base-a 1.0-1 -> 2.0-1\n"
            ),
            "{status}"
        );
        // A second name from the same repository joins the same entry.
        let args = with(&["tp-base-b"]);
        ok(bed, &args.iter().map(String::as_str).collect::<Vec<_>>());
        let d = &deployments(bed)[0];
        assert_eq!(
            replaced_from(d, "repo=tp-updates"),
            ["tp-base-a-2.0-1.noarch", "tp-base-b-1.5-1.noarch"]
        );
        let err = fails(bed, &["override", "remove", "tp-base-b"]);
        assert!(
            err.contains("Override already exists for package 'tp-base-b'"),
            "{err}"
        );
        // v2 ships tp-base-a 2.0-1: that replacement is inactive, kept.
        bed.set_head(2);
        let out = ok(bed, &["upgrade"]);
        assert!(
            out.contains("Inactive base replacements:\n  tp-base-a-2.0-1.noarch"),
            "{out}"
        );
        let d = &deployments(bed)[0];
        assert_eq!(
            replaced_from(d, "repo=tp-updates"),
            ["tp-base-b-1.5-1.noarch"]
        );
        let verbose = ok(bed, &["status", "-v"]);
        assert!(
            verbose.contains("InactiveRemoteOverrides: tp-base-a"),
            "{verbose}"
        );
        ok(bed, &["override", "reset", "tp-base-a"]);
        let d = &deployments(bed)[0];
        assert_eq!(
            requested(d),
            [("repo=tp-updates".to_string(), vec!["tp-base-b".to_string()])]
        );
        // `reset -o`: every override goes.
        ok(bed, &["reset", "--overrides"]);
        let d = &deployments(bed)[0];
        assert!(requested(d).is_empty());
        assert_eq!(dict_str(d, "checksum"), Some(bed.world("CSUM_V2")));
        assert!(strv(d, "requested-base-local-replacements").is_empty());
        no_layer_workdirs(bed);
        fsck(bed);
    });
}

#[test]
fn replacements_stage_on_a_booted_system() {
    let opts = Options {
        booted: true,
        ..Default::default()
    };
    with_repo(opts, APP, |bed, _| {
        let updates = make_repo(bed, "tp-updates", &["tp-base-b-1.5-1"]);
        let served = serve(bed, &updates, &[]);
        write_repo_file(
            bed,
            "updates.repo",
            &repo_section("tp-updates", &served.url(), ""),
        );
        let a2 = rpm(bed, "tp-base-a-2.0-1").display().to_string();
        ok(bed, &["override", "replace", &a2]);
        let args = [
            "override",
            "replace",
            "--experimental",
            "--from",
            "repo=tp-updates",
            "tp-base-b",
        ];
        let out = ok(bed, &args);
        // Booted: the new deployment's package diff against the booted one.
        assert!(out.contains("Downgraded:"), "{out}");
        let d = &deployments(bed)[0];
        assert_eq!(d["staged"].get::<bool>(), Some(true));
        assert_eq!(
            replaced_from(d, "repo=tp-updates"),
            ["tp-base-b-1.5-1.noarch"]
        );
        assert_eq!(d["base-local-replacements"].n_children(), 1);
        let qa = rpm_qa(&root_of(bed, d));
        assert!(qa.contains(&"tp-base-a-2.0-1.noarch".to_string()), "{qa:?}");
        assert!(qa.contains(&"tp-base-b-1.5-1.noarch".to_string()), "{qa:?}");
        ok(bed, &["override", "reset", "--all"]);
        let d = &deployments(bed)[0];
        assert!(requested(d).is_empty());
        assert_eq!(d["base-local-replacements"].n_children(), 0);
        fsck(bed);
    });
}
