//! rpm-md repositories: ListRepos, ModifyYumRepo, RefreshMd, WhatProvides,
//! GetPackages, Search and their CLI verbs, against repositories the test bed
//! builds from real RPMs (createrepo_c) and serves on 127.0.0.1 (with a
//! request log: what was fetched, and that a query fetches nothing).

mod common;

use common::rpmmd::*;
use common::*;
use glib::prelude::*;
use std::time::Duration;

type Entries = Vec<Dict>;

fn os_call(bed: &Bed, method: &str, args: glib::Variant) -> Result<glib::Variant, glib::Error> {
    call(&bed.conn, OS_PATH, IFACE_OS, method, Some(&args))
}

fn entries(bed: &Bed, method: &str, args: glib::Variant) -> Entries {
    let r = os_call(bed, method, args).unwrap_or_else(|e| panic!("{method}: {e}"));
    r.child_value(0).get().unwrap()
}

fn strs(e: &Entries, key: &str) -> Vec<String> {
    e.iter()
        .map(|d| dict_str(d, key).unwrap_or_default())
        .collect()
}

fn flags(e: &Entries, key: &str) -> Vec<bool> {
    e.iter().map(|d| d[key].get::<bool>().unwrap()).collect()
}

fn terms(t: &[&str]) -> glib::Variant {
    (t.iter().map(|s| s.to_string()).collect::<Vec<_>>(),).to_variant()
}

/// A transaction through the in-process client (offline beds): its result
/// and Message lines.
fn txn(bed: &Bed, method: &str, args: &glib::Variant) -> (bool, String, Vec<String>) {
    let a = start_call(&bed.conn, OS_PATH, method, args).unwrap();
    let t = Txn::connect(&a).unwrap();
    assert!(t.start().unwrap());
    let (ok, msg) = t.wait_finished(DEADLINE).expect("Finished");
    let messages = t
        .signals("Message")
        .iter()
        .map(|m| m.child_value(0).str().unwrap_or_default().to_string())
        .collect();
    // The slot is free once the daemon has seen its last peer go.
    t.close();
    let idle = || bed.sysroot_props()["ActiveTransactionPath"].str() == Some("");
    assert!(iterate_until(DEADLINE, idle), "the transaction stayed");
    (ok, msg, messages)
}

fn refresh_args(force: bool) -> glib::Variant {
    let d = glib::VariantDict::new(None);
    d.insert("force", force);
    glib::Variant::tuple_from_iter([d.end()])
}

fn modify(bed: &Bed, repo: &str, settings: &[(&str, &str)]) -> (bool, String) {
    let map: std::collections::BTreeMap<String, String> = settings
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let (ok, msg, _) = txn(bed, "ModifyYumRepo", &(repo, map).to_variant());
    (ok, msg)
}

const APP: &[&str] = &["tp-app-1.0-1", "tp-lib-1.0-1", "tp-tool-1.0-1"];
const APP_SUMMARY: &str =
    "Test bed layering package with dependencies, scriptlets and special files";

#[test]
fn repositories_are_listed_and_enabled_without_network() {
    with_bed(Options::default(), |bed| {
        let root = deployment_root(bed);
        std::fs::create_dir_all(root.join("etc/dnf/vars")).unwrap();
        std::fs::write(root.join("etc/dnf/vars/flavour"), "custom\n").unwrap();
        let text = "# Test repositories, kept as they are\n\
            [tp-main]\nname=Main $releasever $basearch $flavour\nbaseurl=http://127.0.0.1:9/\n  http://127.0.0.1:10/\ngpgcheck=0\n\n\
            [tp-off]\nname=Off\nbaseurl=http://127.0.0.1:9/\nenabled=0\n\n\
            [tp-main-debuginfo]\nbaseurl=http://127.0.0.1:9/\n\n\
            [tp-main-source]\nname=Sources\nbaseurl=http://127.0.0.1:9/\nenabled=0\n";
        let file = write_repo_file(bed, "test.repo", text);
        let repos = entries(bed, "ListRepos", ().to_variant());
        assert_eq!(
            strs(&repos, "id"),
            ["tp-main", "tp-off", "tp-main-debuginfo", "tp-main-source"]
        );
        // $releasever from the tree's os-release (VERSION_ID=1), a var from /etc/dnf/vars.
        assert_eq!(
            strs(&repos, "description"),
            ["Main 1 x86_64 custom", "Off", "", "Sources"]
        );
        assert_eq!(flags(&repos, "is-enabled"), [true, false, true, false]);
        assert_eq!(flags(&repos, "is-devel"), [false, false, true, false]);
        assert_eq!(flags(&repos, "is-source"), [false, false, false, true]);
        // Nothing was cached or fetched by that.
        assert!(!cache_dir(bed).join("repomd/tp-main-1-x86_64").exists());

        // ModifyYumRepo changes that one value, every other byte kept.
        assert_eq!(
            modify(bed, "tp-off", &[("enabled", "1")]),
            (true, String::new())
        );
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            text.replace(
                "[tp-off]\nname=Off\nbaseurl=http://127.0.0.1:9/\nenabled=0",
                "[tp-off]\nname=Off\nbaseurl=http://127.0.0.1:9/\nenabled=1"
            )
        );
        assert_eq!(
            modify(bed, "tp-main", &[("enabled", "0")]),
            (true, String::new())
        );
        let repos = entries(bed, "ListRepos", ().to_variant());
        assert_eq!(flags(&repos, "is-enabled"), [false, true, true, false]);
        assert!(
            std::fs::read_to_string(&file)
                .unwrap()
                .contains("[tp-main]\nenabled=0\nname=")
        );

        // Refusals, each with its text; the file is left alone.
        let before = std::fs::read_to_string(&file).unwrap();
        for (repo, settings, expected) in [
            ("nope", &[("enabled", "1")][..], "Yum repo 'nope' not found"),
            (
                "tp-off",
                &[("gpgcheck", "1")][..],
                "Changing 'gpgcheck' not allowed in yum .repo files",
            ),
            (
                "tp-off",
                &[("enabled", "yes")][..],
                "Only '0' and '1' are allowed for the 'enabled' key",
            ),
            (
                "TP-OFF",
                &[("enabled", "1")][..],
                "Yum repo 'TP-OFF' not found",
            ),
        ] {
            assert_eq!(modify(bed, repo, settings), (false, expected.to_string()));
        }
        assert_eq!(std::fs::read_to_string(&file).unwrap(), before);

        // A .repo file that does not parse: a clear error naming it, and the
        // daemon goes on.
        let bad = write_repo_file(bed, "broken.repo", "[tp-x]\nthis line is no key\n");
        let e = os_call(bed, "ListRepos", ().to_variant()).unwrap_err();
        let msg = error_message(&e);
        assert!(
            msg.contains("Failed to load") && msg.contains("broken.repo"),
            "{msg}"
        );
        let (ok, msg, _) = txn(bed, "RefreshMd", &refresh_args(false));
        assert!(!ok && msg.contains("broken.repo"), "{msg}");
        std::fs::remove_file(bad).unwrap();
        assert_eq!(entries(bed, "ListRepos", ().to_variant()).len(), 4);
    });
}

/// The CLI's `refresh-md` output, exactly.
fn refreshed(bed: &Bed, args: &[&str]) -> String {
    let mut argv = vec!["refresh-md"];
    argv.extend_from_slice(args);
    let (code, out, err) = bed.cli(&argv);
    assert_eq!(code, 0, "{out}{err}");
    out
}

#[test]
fn refresh_md_fetches_what_expired_and_queries_use_the_cache() {
    let opts = Options {
        booted: true,
        ..Default::default()
    };
    with_bed(opts, |bed| {
        let repo = make_repo(bed, "tp-main", APP);
        let served = serve(bed, &repo, &[]);
        write_repo_file(
            bed,
            "test.repo",
            &repo_section("tp-main", &served.url(), ""),
        );
        let line = "rpm-md repo 'tp-main'; generated: 2024-01-01T00:00:00Z solvables: 3\n";
        assert_eq!(
            refreshed(bed, &[]),
            format!(
                "Enabled rpm-md repositories: tp-main\nUpdating metadata for 'tp-main'...done\nImporting rpm-md...done\n{line}"
            )
        );
        // repomd and primary: no filelists (DOWNLOAD_FILELISTS is not set).
        let fetched = served.requests();
        assert_eq!(fetched.len(), 2, "{fetched:?}");
        assert!(fetched[0].ends_with("/repomd.xml") && fetched[1].ends_with("-primary.xml.gz"));
        let cache = cache_dir(bed).join("repomd/tp-main-1-x86_64/repodata/repomd.xml");
        assert!(cache.is_file());
        assert!(cache_dir(bed).join("solv/tp-main.solv").is_file());

        // Fresh: nothing fetched.
        let cached = line.replace("'tp-main';", "'tp-main' (cached);");
        assert_eq!(
            refreshed(bed, &[]),
            format!("Enabled rpm-md repositories: tp-main\nImporting rpm-md...done\n{cached}")
        );
        assert_eq!(served.requests().len(), 2);
        // Older than metadata_expire (48 h by default): fetched again.
        let old = std::time::SystemTime::now() - Duration::from_secs(3 * 24 * 3600);
        std::fs::File::options()
            .write(true)
            .open(&cache)
            .unwrap()
            .set_modified(old)
            .unwrap();
        assert!(refreshed(bed, &[]).contains("Updating metadata for 'tp-main'...done\n"));
        assert_eq!(served.requests().len(), 4);
        // --force: fetched however fresh.
        assert!(refreshed(bed, &["-f"]).contains("Updating metadata for 'tp-main'...done\n"));
        assert_eq!(served.requests().len(), 6, "{:?}", served.requests());

        // Queries, from the cache only.
        let n = served.requests().len();
        let found = entries(bed, "WhatProvides", terms(&["tplib(abi) = 1"]));
        assert_eq!(strs(&found, "nevra"), ["tp-lib-1.0-1.noarch"]);
        assert_eq!(found[0]["epoch"].get::<u64>(), Some(0));
        assert_eq!(dict_str(&found[0], "reponame").as_deref(), Some("tp-main"));
        assert!(!found[0].contains_key("key"));
        assert!(entries(bed, "WhatProvides", terms(&["no-such-thing"])).is_empty());
        let found = entries(bed, "GetPackages", terms(&["tp-app", "tp-nope", "tp-app"]));
        assert_eq!(strs(&found, "key"), ["tp-app", "tp-app"]);
        assert_eq!(strs(&found, "evr"), ["1.0-1", "1.0-1"]);
        let found = entries(bed, "Search", terms(&["tool"]));
        assert_eq!(
            strs(&found, "key"),
            ["match_group_a", "match_group_b", "match_group_c"]
        );
        assert_eq!(strs(&found, "name"), ["tp-tool"; 3]);
        let found = entries(bed, "Search", terms(&["TP-APP"]));
        assert_eq!(strs(&found, "key"), ["match_group_b"]);
        assert_eq!(dict_str(&found[0], "summary").as_deref(), Some(APP_SUMMARY));
        assert_eq!(served.requests().len(), n, "a query fetched something");
        // A query runs off the main loop: the daemon answers meanwhile.
        let answered = std::rc::Rc::new(std::cell::Cell::new(false));
        let a = answered.clone();
        bed.conn.call(
            Some(BUS_NAME),
            OS_PATH,
            IFACE_OS,
            "Search",
            Some(&terms(&["tp-lib"])),
            None,
            gio::DBusCallFlags::NONE,
            60_000,
            gio::Cancellable::NONE,
            move |r| {
                assert!(r.is_ok(), "{r:?}");
                a.set(true);
            },
        );
        let _ = bed.sysroot_props();
        assert!(!answered.get(), "GetAll waited for the query");
        assert!(iterate_until(DEADLINE, || answered.get()));

        // The CLI's search, and any user may search.
        let (code, out, _) = bed.cli_as(Some("nobody"), &["search", "tp-app"]);
        assert_eq!(
            (code, out.as_str()),
            (
                0,
                format!("\n===== Name Matched =====\ntp-app : {APP_SUMMARY}\n").as_str()
            )
        );
        let (code, out, _) = bed.cli(&["search", "tp-*"]);
        assert_eq!(code, 0);
        assert!(
            out.starts_with("\n===== Name Matched =====\ntp-app : "),
            "{out}"
        );
        assert_eq!(out.lines().count(), 5);
        let (code, out, _) = bed.cli(&["search", "zzz-nothing"]);
        assert_eq!((code, out.as_str()), (0, "No matches found.\n"));
        let (code, _, err) = bed.cli(&["search"]);
        assert_eq!(
            (code, err.trim()),
            (1, "error: At least one PACKAGE must be specified")
        );
        let e = os_call(bed, "Search", terms(&[])).unwrap_err();
        assert_eq!(error_message(&e), "Must specify a term for search");

        // cleanup -m: the cache is gone; queries say so; status is unaffected.
        let status = bed.cli(&["status"]).1;
        let (code, out, err) = bed.cli(&["cleanup", "-m"]);
        assert_eq!(code, 0, "{out}{err}");
        assert_eq!(std::fs::read_dir(cache_dir(bed)).unwrap().count(), 0);
        let e = os_call(bed, "Search", terms(&["tp-app"])).unwrap_err();
        assert!(error_message(&e).contains("rpm-ostree refresh-md"), "{e}");
        assert_eq!(bed.cli(&["status"]).1, status);
        assert_eq!(served.requests().len(), n);
    });
}

#[test]
fn unusable_repositories_are_clear_errors_and_poison_nothing() {
    with_bed(Options::default(), |bed| {
        // No repository at all: nothing to do, successfully.
        let (ok, _, messages) = txn(bed, "RefreshMd", &refresh_args(false));
        assert!(ok);
        assert_eq!(messages, ["No enabled rpm-md repositories."]);
        assert!(entries(bed, "Search", terms(&["tp-app"])).is_empty());

        let good = make_repo(bed, "tp-main", APP);
        let served = serve(bed, &good, &[]);
        let main = repo_section("tp-main", &served.url(), "");
        // Unreachable, required: an error naming it.
        let gone = repo_section("tp-gone", "http://127.0.0.1:1/", "");
        write_repo_file(bed, "test.repo", &format!("{main}\n{gone}"));
        let (ok, msg, _) = txn(bed, "RefreshMd", &refresh_args(false));
        assert!(!ok);
        assert!(
            msg.starts_with("Updating rpm-md repo 'tp-gone': cannot update repo 'tp-gone'"),
            "{msg}"
        );
        // Unreachable, skip_if_unavailable: skipped, the rest refreshed.
        let gone = repo_section("tp-gone", "http://127.0.0.1:1/", "skip_if_unavailable=1\n");
        write_repo_file(bed, "test.repo", &format!("{main}\n{gone}"));
        let (ok, msg, messages) = txn(bed, "RefreshMd", &refresh_args(false));
        assert!(ok, "{msg}");
        assert!(
            messages
                .iter()
                .any(|m| m.starts_with("Skipping refresh of tp-gone: ")),
            "{messages:?}"
        );
        assert!(
            messages
                .iter()
                .any(|m| m.starts_with("rpm-md repo 'tp-main'")),
            "{messages:?}"
        );
        assert_eq!(
            strs(&entries(bed, "GetPackages", terms(&["tp-lib"])), "name"),
            ["tp-lib"]
        );

        // A primary that does not match its checksum (garbage, then truncated).
        let bad = make_repo(bed, "tp-bad", APP);
        let primary = std::fs::read_dir(bad.join("repodata"))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| p.to_string_lossy().ends_with("-primary.xml.gz"))
            .unwrap();
        let original = std::fs::read(&primary).unwrap();
        let served_bad = serve(bed, &bad, &[]);
        write_repo_file(
            bed,
            "test.repo",
            &repo_section("tp-bad", &served_bad.url(), ""),
        );
        for broken in [b"garbage".to_vec(), original[..original.len() / 2].to_vec()] {
            std::fs::write(&primary, &broken).unwrap();
            let (ok, msg, _) = txn(bed, "RefreshMd", &refresh_args(false));
            assert!(!ok);
            assert!(msg.starts_with("Updating rpm-md repo 'tp-bad': "), "{msg}");
        }
        // Repaired, the next refresh works: no half cache was left to trip on.
        std::fs::write(&primary, &original).unwrap();
        let (ok, msg, _) = txn(bed, "RefreshMd", &refresh_args(false));
        assert!(ok, "{msg}");
        assert_eq!(
            strs(&entries(bed, "Search", terms(&["tp-tool"])), "reponame")[0],
            "tp-bad"
        );
        assert!(bed.daemon_pid().is_some());

        // repo_gpgcheck without a key: refused when the file is read.
        let x = repo_section("tp-x", &served.url(), "repo_gpgcheck=1\n");
        write_repo_file(bed, "test.repo", &x);
        let (ok, msg, _) = txn(bed, "RefreshMd", &refresh_args(false));
        assert!(
            !ok && msg.contains("gpgkey not set, yet repo_gpgcheck=1"),
            "{msg}"
        );
        // gpgcheck with a key that is not there: the key cannot be fetched.
        let x = repo_section("tp-x", &served.url(), "gpgkey=file:///nonexistent/key\n")
            .replace("gpgcheck=0", "gpgcheck=1");
        write_repo_file(bed, "test.repo", &x);
        let (ok, msg, _) = txn(bed, "RefreshMd", &refresh_args(false));
        assert!(!ok, "{msg}");
        assert!(msg.starts_with("Updating rpm-md repo 'tp-x': "), "{msg}");

        // A mirrorlist, and $releasever/$basearch in URLs.
        let tree = bed.tb.join("rpmmd-tree");
        std::fs::create_dir_all(tree.join("1")).unwrap();
        run_ok(
            std::process::Command::new("cp")
                .arg("-a")
                .arg(&good)
                .arg(tree.join("1/x86_64")),
        );
        let mirrors = serve(bed, &tree, &[]);
        std::fs::write(
            tree.join("mirrors.txt"),
            format!("{}1/x86_64/\n", mirrors.url()),
        )
        .unwrap();
        let m = format!(
            "[tp-mirrored]\nname=Mirrored\nmirrorlist={}mirrors.txt\ngpgcheck=0\n\n\
             [tp-subst]\nname=Subst\nbaseurl={}$releasever/$basearch/\ngpgcheck=0\n",
            mirrors.url(),
            mirrors.url()
        );
        write_repo_file(bed, "test.repo", &m);
        let (ok, msg, messages) = txn(bed, "RefreshMd", &refresh_args(false));
        assert!(ok, "{msg}");
        assert_eq!(
            messages
                .iter()
                .filter(|m| m.contains("solvables: 3"))
                .count(),
            2,
            "{messages:?}"
        );
        assert!(mirrors.requests().contains(&"/mirrors.txt".to_string()));
        assert!(
            mirrors
                .requests()
                .contains(&"/1/x86_64/repodata/repomd.xml".to_string())
        );
        let found = entries(bed, "GetPackages", terms(&["tp-app"]));
        assert_eq!(strs(&found, "reponame"), ["tp-mirrored", "tp-subst"]);
    });
}

#[test]
fn cancel_and_a_killed_daemon_end_a_slow_refresh() {
    with_bed(Options::default(), |bed| {
        let repo = make_repo(bed, "tp-main", APP);
        let slow = serve(bed, &repo, &["--delay", "20000"]);
        write_repo_file(bed, "test.repo", &repo_section("tp-main", &slow.url(), ""));
        let helper_running = |daemon: i32| {
            let mut pids = Vec::new();
            let found = iterate_until(DEADLINE, || {
                pids = descendants_of(daemon)
                    .into_iter()
                    .filter(|&p| cmdline_of(p).contains("internal-rpmmd"))
                    .collect();
                !pids.is_empty() && !slow.requests().is_empty()
            });
            assert!(found, "no rpm-md helper fetching");
            pids
        };
        // Cancel while the metadata download hangs.
        let a = start_call(&bed.conn, OS_PATH, "RefreshMd", &refresh_args(false)).unwrap();
        let t = Txn::connect(&a).unwrap();
        assert!(t.start().unwrap());
        let helpers = helper_running(bed.daemon_pid().unwrap());
        t.cancel_within_5s();
        assert_all_exit(&helpers, "Cancel");
        drop(t);
        assert!(bed.wait_idle());
        // The daemon killed during a refresh: its helper goes with it.
        let a = start_call(&bed.conn, OS_PATH, "RefreshMd", &refresh_args(false)).unwrap();
        let t = Txn::connect(&a).unwrap();
        assert!(t.start().unwrap());
        let helpers = helper_running(bed.daemon_pid().unwrap());
        bed.kill_daemon(libc::SIGKILL);
        assert_all_exit(&helpers, "the daemon");
        drop(t);
        bed.start_daemon();
        // Neither left a cache that breaks the next refresh.
        let fast = serve(bed, &repo, &[]);
        write_repo_file(bed, "test.repo", &repo_section("tp-main", &fast.url(), ""));
        let (ok, msg, _) = txn(bed, "RefreshMd", &refresh_args(false));
        assert!(ok, "{msg}");
        assert_eq!(
            strs(&entries(bed, "GetPackages", terms(&["tp-app"])), "name"),
            ["tp-app"]
        );
    });
}

#[test]
fn filelists_only_when_asked_or_already_cached() {
    let filelists = |s: &Served, from: usize| {
        s.requests()[from..]
            .iter()
            .any(|r| r.contains("-filelists."))
    };
    with_bed(Options::default(), |bed| {
        let repo = make_repo(bed, "tp-main", APP);
        let served = serve(bed, &repo, &[]);
        write_repo_file(
            bed,
            "test.repo",
            &repo_section("tp-main", &served.url(), ""),
        );
        let (ok, msg, _) = txn(bed, "RefreshMd", &refresh_args(false));
        assert!(ok, "{msg}");
        assert!(!filelists(&served, 0));
        // Filelists in the cache (from an earlier download) are kept fresh.
        let repodata = cache_dir(bed).join("repomd/tp-main-1-x86_64/repodata");
        std::fs::write(repodata.join("0-filelists.xml.gz"), "").unwrap();
        let n = served.requests().len();
        let (ok, msg, _) = txn(bed, "RefreshMd", &refresh_args(true));
        assert!(ok, "{msg}");
        assert!(filelists(&served, n));
    });
    let opts = Options {
        daemon_env: vec![("DOWNLOAD_FILELISTS".into(), "True".into())],
        ..Default::default()
    };
    with_bed(opts, |bed| {
        let repo = make_repo(bed, "tp-main", APP);
        let served = serve(bed, &repo, &[]);
        write_repo_file(
            bed,
            "test.repo",
            &repo_section("tp-main", &served.url(), ""),
        );
        let (ok, msg, _) = txn(bed, "RefreshMd", &refresh_args(false));
        assert!(ok, "{msg}");
        assert!(filelists(&served, 0));
    });
}
