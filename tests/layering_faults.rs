//! Layering faults that must end with a clear error and the sysroot, the
//! origin and the repository's refs as they were: a package whose download
//! does not match its checksum, a script that writes outside `/usr` and
//! `/etc` (and one that writes into a base file, which gets a copy), Cancel
//! while packages download, and an origin with what this daemon cannot
//! layer yet (replacements), refused until a reset drops it.

mod common;

use common::layer::*;
use common::rpmmd::*;
use common::*;
use glib::prelude::*;

#[test]
fn a_download_that_does_not_match_its_checksum_is_refused() {
    with_bed(Options::default(), |bed| {
        let repo = make_repo(bed, "tp-main", APP);
        // The served file is another package's, under tp-tool's name.
        std::fs::copy(
            rpm(bed, "tp-lib-1.0-1"),
            repo.join("tp-tool-1.0-1.noarch.rpm"),
        )
        .unwrap();
        let served = serve(bed, &repo, &[]);
        write_repo_file(
            bed,
            "test.repo",
            &repo_section("tp-main", &served.url(), ""),
        );
        let before = snapshot(bed);
        let err = fails(bed, &["install", "tp-tool"]);
        assert!(err.contains("Downloading from 'tp-main'"), "{err}");
        assert!(err.contains("tp-tool"), "{err}");
        assert_eq!(snapshot(bed), before);
        assert!(pkgcache_refs(bed).is_empty());
        no_layer_workdirs(bed);
        fsck(bed);
    });
}

#[test]
fn scripts_change_copies_of_base_files_and_nothing_outside_usr_and_etc() {
    with_repo(
        Options::default(),
        &["tp-scribble-1.0-1", "tp-escape-1.0-1"],
        |bed, _| {
            let before = snapshot(bed);
            let file = deployment_root(bed).join("usr/share/testos/version");
            let content = std::fs::read_to_string(&file).unwrap();
            // Outside /usr and /etc: refused, nothing deployed.
            let err = fails(bed, &["install", "tp-escape"]);
            assert!(err.contains("Running %post for tp-escape"), "{err}");
            assert!(
                err.contains("cannot create /tp-escaped: Read-only file system"),
                "{err}"
            );
            assert_eq!(snapshot(bed), before);
            no_layer_workdirs(bed);
            // A base file in /usr: the script changes a copy.
            ok(bed, &["install", "tp-scribble"]);
            let new = root_of(bed, &deployments(bed)[0]);
            assert_eq!(
                std::fs::read_to_string(new.join("usr/share/testos/version")).unwrap(),
                format!("{content}scribbled\n")
            );
            assert_eq!(std::fs::read_to_string(&file).unwrap(), content);
            // The object behind the base's file stays intact.
            fsck(bed);
        },
    );
}

#[test]
fn cancel_ends_a_layering_while_packages_download() {
    with_bed(Options::default(), |bed| {
        let repo = make_repo(bed, "tp-main", APP);
        let slow = serve(bed, &repo, &["--delay", "20000", "--delay-only", ".rpm"]);
        write_repo_file(bed, "test.repo", &repo_section("tp-main", &slow.url(), ""));
        let before = snapshot(bed);
        let args = glib::Variant::tuple_from_iter([
            glib::VariantDict::new(None).end(),
            vec!["tp-tool".to_string()].to_variant(),
            Vec::<String>::new().to_variant(),
        ]);
        let a = start_call(&bed.conn, OS_PATH, "PkgChange", &args).unwrap();
        let t = Txn::connect(&a).unwrap();
        assert!(t.start().unwrap());
        assert!(
            iterate_until(DEADLINE, || slow
                .requests()
                .iter()
                .any(|r| r.ends_with(".rpm"))),
            "no package download started: {:?}",
            slow.requests()
        );
        let helpers = descendants_of(bed.daemon_pid().unwrap());
        t.cancel_within_5s();
        assert_all_exit(&helpers, "Cancel");
        drop(t);
        assert!(bed.wait_idle());
        assert_eq!(snapshot(bed), before);
        assert!(pkgcache_refs(bed).is_empty());
        no_layer_workdirs(bed);
        fsck(bed);
    });
}

#[test]
fn a_replacement_missing_from_the_pkgcache_is_refused_until_it_is_reset() {
    with_repo(Options::default(), APP, |bed, _| {
        // An origin as upstream writes it for `override replace ./x.rpm`,
        // whose package the pkgcache does not have (another repository's).
        let root = deployment_root(bed);
        let origin = root.with_extension("0.origin");
        let origin = if origin.exists() {
            origin
        } else {
            std::path::PathBuf::from(format!("{}.origin", root.display()))
        };
        let mut text = std::fs::read_to_string(&origin).unwrap();
        text.push_str("\n[overrides]\nreplace-local=0123abcd:tp-base-a-9.0-1.noarch;\n");
        std::fs::write(&origin, text).unwrap();
        call(&bed.conn, SYSROOT, IFACE_SYSROOT, "Reload", None).unwrap();
        let before = snapshot(bed);
        let err = fails(bed, &["install", "tp-tool"]);
        assert!(
            err.contains(
                "Failed to find cached package for 'tp-base-a-9.0-1.noarch'; \
                 install it again from its file"
            ),
            "{err}"
        );
        assert_eq!(snapshot(bed), before);
        // Dropping them is allowed: the base again, no override left.
        ok(bed, &["override", "reset", "--all"]);
        let d = &deployments(bed)[0];
        assert!(
            d["requested-base-local-replacements"]
                .get::<Vec<String>>()
                .unwrap()
                .is_empty()
        );
        ok(bed, &["install", "tp-tool"]);
        fsck(bed);
    });
}
