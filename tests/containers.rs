//! Container-image origins through the daemon, on images that `rpm-ostree
//! compose container-encapsulate` makes of the test bed's commits: `rebase`
//! from an ostree remote to an image (`ostree-unverified-image:oci:...`) and
//! back with `cleanup -r` pruning the image, `upgrade` when the tag moves and
//! `No upgrade available.` when it does not, `upgrade --check`, status,
//! layering on an image, a loopback registry, bad references, Cancel and a
//! killed daemon mid-pull; booted and offline.

mod common;
#[path = "container_helper/support.rs"]
#[allow(dead_code)]
mod support;

use common::image::*;
use common::layer::*;
use common::*;
use glib::prelude::*;

fn rebase_to_an_image_upgrade_and_back(booted: bool) {
    let opts = Options {
        booted,
        ..Default::default()
    };
    with_bed(opts, |bed| {
        let (_, oci) = image_of_v1(bed);
        let imgref = format!("ostree-unverified-image:{oci}");
        let out = ok(bed, &["rebase", &imgref]);
        assert!(out.contains("Fetching layer"), "{out}");
        let d = &deployments(bed)[0];
        assert_eq!(
            dict_str(d, "container-image-reference"),
            Some(imgref.clone())
        );
        assert!(d.get("origin").is_none(), "{d:?}");
        assert!(
            dict_str(d, "container-image-reference-digest")
                .is_some_and(|x| x.starts_with("sha256:")),
            "{d:?}"
        );
        assert!(
            root_of(bed, d)
                .join("usr/share/tp-base-a/version")
                .is_file()
        );
        let status = ok(bed, &["status"]);
        assert!(status.contains(&format!("  {imgref}\n")), "{status}");
        assert!(
            status.contains("                   Digest: sha256:"),
            "{status}"
        );
        assert_eq!(image_refs(bed).len(), 1);
        // The same tag again: nothing new.
        let out = ok(bed, &["upgrade"]);
        assert!(out.contains("No upgrade available."), "{out}");
        // The tag moves to v2: an upgrade deploys it.
        encapsulate(bed, &bed.world("CSUM_V2"), &oci);
        ok(bed, &["upgrade"]);
        let d = &deployments(bed)[0];
        assert_eq!(
            dict_str(d, "container-image-reference"),
            Some(imgref.clone())
        );
        let qa = rpm_qa(&root_of(bed, d));
        assert!(qa.contains(&"tp-base-a-2.0-1.noarch".to_string()), "{qa:?}");
        // Back to the ostree remote: the image goes once no deployment uses it.
        let remote = "testremote:testos/stable/x86_64";
        ok(bed, &["rebase", remote]);
        let d = &deployments(bed)[0];
        assert_eq!(dict_str(d, "origin").as_deref(), Some(remote));
        assert!(d.get("container-image-reference").is_none());
        ok(bed, &["cleanup", "-r"]);
        let images: Vec<String> = deployments(bed)
            .iter()
            .filter_map(|d| dict_str(d, "container-image-reference"))
            .collect();
        assert!(images.is_empty(), "{images:?}");
        assert!(image_refs(bed).is_empty(), "{:?}", image_refs(bed));
        fsck(bed);
    });
}

#[test]
fn rebase_to_an_image_upgrade_and_back_offline() {
    rebase_to_an_image_upgrade_and_back(false);
}

#[test]
fn rebase_to_an_image_upgrade_and_back_booted() {
    rebase_to_an_image_upgrade_and_back(true);
}

#[test]
fn bad_image_references_change_nothing() {
    with_bed(Options::default(), |bed| {
        let before = snapshot(bed);
        let missing = format!(
            "ostree-unverified-image:oci:{}",
            bed.tb.join("no-such-image").display()
        );
        let err = fails(bed, &["rebase", &missing]);
        assert!(err.contains("no-such-image"), "{err}");
        let err = fails(bed, &["rebase", "ostree-unverified-image:ftp:x"]);
        assert!(err.contains("Unknown transport 'ftp'"), "{err}");
        let repo = format!("--repo={}", bed.world("REMOTE"));
        let (code, _, err) = run(std::process::Command::new(BIN).args([
            "compose",
            "container-encapsulate",
            &repo,
            "no-such-ref",
            "oci:/nonexistent/x",
        ]));
        assert_eq!(code, 1);
        assert!(err.contains("no-such-ref"), "{err}");
        assert_eq!(snapshot(bed), before);
        assert!(image_refs(bed).is_empty());
        fsck(bed);
    });
}

#[test]
fn packages_layer_on_an_image() {
    with_repo(Options::default(), APP, |bed, _| {
        let (_, oci) = image_of_v1(bed);
        let imgref = format!("ostree-unverified-image:{oci}");
        ok(bed, &["rebase", &imgref]);
        let merge = dict_str(&deployments(bed)[0], "checksum").unwrap();
        ok(bed, &["install", "tp-tool"]);
        let d = &deployments(bed)[0];
        assert_eq!(
            dict_str(d, "container-image-reference"),
            Some(imgref.clone())
        );
        assert_eq!(dict_str(d, "base-checksum"), Some(merge));
        assert_eq!(d["packages"].get::<Vec<String>>().unwrap(), ["tp-tool"]);
        assert!(root_of(bed, d).join("usr/bin/tp-tool").is_file());
        let out = ok(bed, &["upgrade"]);
        assert!(out.contains("No upgrade available."), "{out}");
        // The tag moves: the layer follows onto the new image.
        encapsulate(bed, &bed.world("CSUM_V2"), &oci);
        ok(bed, &["upgrade"]);
        let d = &deployments(bed)[0];
        assert_eq!(d["packages"].get::<Vec<String>>().unwrap(), ["tp-tool"]);
        let qa = rpm_qa(&root_of(bed, d));
        assert!(qa.contains(&"tp-base-a-2.0-1.noarch".to_string()), "{qa:?}");
        assert!(qa.contains(&"tp-tool-1.0-1.noarch".to_string()), "{qa:?}");
        fsck(bed);
    });
}

#[test]
fn upgrade_check_records_the_manifest_diff_as_the_cached_update() {
    let opts = Options {
        booted: true,
        ..Default::default()
    };
    with_bed(opts, |bed| {
        let (layout, oci) = image_of_v1(bed);
        let imgref = format!("ostree-unverified-image:{oci}");
        ok(bed, &["rebase", &imgref]);
        let (code, out, err) = bed.cli(&["upgrade", "--check"]);
        assert_eq!(code, 77, "{out}{err}");
        assert_eq!(out.matches("No updates available.").count(), 1, "{out}");
        encapsulate(bed, &bed.world("CSUM_V2"), &oci);
        let before = snapshot(bed);
        let out = ok(bed, &["upgrade", "--check"]);
        assert!(out.contains("Update available: 2"), "{out}");
        // Nothing was imported or deployed.
        assert_eq!(snapshot(bed), before);
        let cached: Dict = bed.os_props()["CachedUpdate"].get().unwrap();
        assert_eq!(dict_str(&cached, "origin"), Some(imgref.clone()));
        assert_eq!(dict_str(&cached, "version").as_deref(), Some("2"));
        let diff: Dict = cached["manifest-diff"].get().unwrap();
        let n = |k: &str| diff[k].get::<u64>().unwrap();
        // The layers of the packages that changed (tp-base-a, -gone, -new),
        // of the files no package owns and of the commit; the rest is reused.
        assert_eq!(n("total"), manifest_layers(&layout, "stable") as u64);
        assert!(n("n-added") >= 1 && n("n-added") < n("total"), "{diff:?}");
        assert_eq!(n("n-removed"), n("n-added"), "{diff:?}");
        assert!(
            n("added-size") > 0 && n("added-size") < n("total-size"),
            "{diff:?}"
        );
        assert!(
            out.contains(&format!("Added layers: {}\n", n("n-added"))),
            "{out}"
        );
        fsck(bed);
    });
}

#[test]
fn an_image_from_a_loopback_registry_follows_its_tag() {
    with_bed(Options::default(), |bed| {
        let registry = support::Registry::start(&bed.tb.join("registry"));
        let (layout, oci) = image_of_v1(bed);
        let name = format!("127.0.0.1:{}/testos:stable", registry.port);
        push(&oci, &format!("docker://{name}"));
        let imgref = format!("ostree-unverified-registry:{name}");
        ok(bed, &["rebase", &imgref]);
        let d = &deployments(bed)[0];
        assert_eq!(
            dict_str(d, "container-image-reference"),
            Some(imgref.clone())
        );
        encapsulate(bed, &bed.world("CSUM_V2"), &oci);
        push(&oci, &format!("docker://{name}"));
        let out = ok(bed, &["upgrade"]);
        // Only the layers of what changed: the packages' layers are reused.
        let fetched = out.matches("Fetching layer").count();
        assert!(
            fetched >= 1 && fetched < manifest_layers(&layout, "stable"),
            "{out}"
        );
        let d = &deployments(bed)[0];
        let qa = rpm_qa(&root_of(bed, d));
        assert!(qa.contains(&"tp-base-a-2.0-1.noarch".to_string()), "{qa:?}");
        // A tag the registry does not have: its error, nothing changed.
        let before = snapshot(bed);
        let missing = format!(
            "ostree-unverified-registry:127.0.0.1:{}/testos:nope",
            registry.port
        );
        let err = fails(bed, &["rebase", &missing]);
        assert!(err.contains("testos:nope"), "{err}");
        assert_eq!(snapshot(bed), before);
        fsck(bed);
    });
}

/// The blob file of the first layer of the `oci:` image in `dir`.
fn layer_blob(dir: &std::path::Path) -> std::path::PathBuf {
    let blob = |digest: &str| {
        dir.join("blobs/sha256")
            .join(digest.trim_start_matches("sha256:"))
    };
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    let manifest = index["manifests"][0]["digest"].as_str().unwrap();
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(blob(manifest)).unwrap()).unwrap();
    blob(manifest["layers"][0]["digest"].as_str().unwrap())
}

#[test]
fn cancel_and_a_killed_daemon_end_an_image_pull_cleanly() {
    with_bed(Options::default(), |bed| {
        let (layout, oci) = image_of_v1(bed);
        // The layer becomes a FIFO nobody writes: the import blocks on it.
        let blob = layer_blob(&layout);
        std::fs::remove_file(&blob).unwrap();
        run_ok(std::process::Command::new("mkfifo").arg(&blob));
        let before = snapshot(bed);
        let imgref = format!("ostree-unverified-image:{oci}");
        let args = glib::Variant::tuple_from_iter([
            glib::VariantDict::new(None).end(),
            imgref.to_variant(),
            Vec::<String>::new().to_variant(),
        ]);
        let importing = |daemon: i32| {
            iterate_until(DEADLINE, || {
                descendants_of(daemon)
                    .into_iter()
                    .any(|p| cmdline_of(p).contains("rpm-ostreed-container"))
            })
        };
        let a = start_call(&bed.conn, OS_PATH, "Rebase", &args).unwrap();
        let t = Txn::connect(&a).unwrap();
        assert!(t.start().unwrap());
        let daemon = bed.daemon_pid().unwrap();
        assert!(importing(daemon), "no import running");
        let helpers = descendants_of(daemon);
        t.cancel_within_5s();
        drop(t);
        assert_all_exit(&helpers, "Cancel");
        assert!(bed.wait_idle());
        assert_eq!(snapshot(bed), before);
        assert!(image_refs(bed).is_empty());
        // The daemon killed mid-import: its helper goes with it.
        let a = start_call(&bed.conn, OS_PATH, "Rebase", &args).unwrap();
        let t = Txn::connect(&a).unwrap();
        assert!(t.start().unwrap());
        let daemon = bed.daemon_pid().unwrap();
        assert!(importing(daemon), "no import running");
        let helpers = descendants_of(daemon);
        bed.kill_daemon(libc::SIGKILL);
        assert_all_exit(&helpers, "the daemon");
        drop(t);
        bed.start_daemon();
        assert_eq!(snapshot(bed), before);
        assert!(image_refs(bed).is_empty());
        fsck(bed);
    });
}

#[test]
fn a_registry_image_deploys_by_digest_and_stays_pinned() {
    with_bed(Options::default(), |bed| {
        let registry = support::Registry::start(&bed.tb.join("registry"));
        let (_, oci) = image_of_v1(bed);
        let name = format!("127.0.0.1:{}/testos", registry.port);
        push(&oci, &format!("docker://{name}:stable"));
        let imgref = format!("ostree-unverified-registry:{name}:stable");
        ok(bed, &["rebase", &imgref]);
        let v1 = dict_str(&deployments(bed)[0], "container-image-reference-digest").unwrap();
        encapsulate(bed, &bed.world("CSUM_V2"), &oci);
        push(&oci, &format!("docker://{name}:stable"));
        ok(bed, &["upgrade"]);
        assert_eq!(
            dict_str(&deployments(bed)[0], "version").as_deref(),
            Some("2")
        );
        // Back to v1 by its digest: the origin names the image by it.
        let out = ok(bed, &["deploy", &v1]);
        assert!(
            !out.contains("Fetching layer"),
            "v1's layer is stored: {out}"
        );
        let d = &deployments(bed)[0];
        let pinned = format!("ostree-unverified-registry:{name}@{v1}");
        assert_eq!(
            dict_str(d, "container-image-reference"),
            Some(pinned.clone())
        );
        assert_eq!(
            dict_str(d, "container-image-reference-digest"),
            Some(v1.clone())
        );
        assert_eq!(dict_str(d, "version").as_deref(), Some("1"));
        assert!(ok(bed, &["status"]).contains(&format!("  {pinned}\n")));
        // Pinned: the tag moving on does not matter to an upgrade.
        assert!(ok(bed, &["upgrade"]).contains("No upgrade available."));
        // What is not a digest, and an image no digest can name.
        let before = snapshot(bed);
        let err = fails(bed, &["deploy", "sha256:1234"]);
        assert!(
            err.contains("Invalid image digest 'sha256:1234': expected sha256: and 64 hex digits"),
            "{err}"
        );
        let absent = format!("sha256:{}", "0".repeat(64));
        let err = fails(bed, &["deploy", &absent]);
        assert!(err.contains(&format!("testos@{absent}")), "{err}");
        assert_eq!(snapshot(bed), before);
        ok(bed, &["rebase", &format!("ostree-unverified-image:{oci}")]);
        let err = fails(bed, &["deploy", &v1]);
        assert!(err.contains("Cannot pin oci:"), "{err}");
        // Following the tag again.
        ok(bed, &["rebase", &imgref]);
        let d = &deployments(bed)[0];
        assert_eq!(
            dict_str(d, "container-image-reference"),
            Some(imgref.clone())
        );
        assert_eq!(dict_str(d, "version").as_deref(), Some("2"));
        fsck(bed);
    });
}
