//! Container images beyond a plain encapsulated commit, through the daemon:
//! a derived image (the base plus a plain tar layer, as a container build
//! makes it) whose base layers are reused on upgrade, then `cleanup -p/-b`;
//! an `oci-archive:` image; `ostree-remote-image:`
//! verifying the embedded commit with the ostree remote's GPG keys; and
//! `containers-storage:`, which Debian's skopeo cannot serve to the import.

mod common;

use common::image::*;
use common::layer::*;
use common::*;
use std::process::Command;

fn write(path: &std::path::Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn a_derived_image_brings_its_layer_and_reuses_the_base_one() {
    let opts = Options {
        booted: true,
        ..Default::default()
    };
    with_bed(opts, |bed| {
        let (layout, oci) = image_of_v1(bed);
        let imgref = format!("ostree-unverified-image:{oci}");
        ok(bed, &["rebase", &imgref]);
        // What a Containerfile's RUN would add on top: a file, a config file
        // under /etc, and a base file deleted (a whiteout).
        let extra = bed.tb.join("extra");
        write(&extra.join("usr/share/derived/hello.txt"), "derived\n");
        write(&extra.join("etc/derived.conf"), "key=1\n");
        write(&extra.join("usr/share/tp-base-a/.wh.version"), "");
        let derived = derive_image(&layout, "stable", &extra);

        let out = ok(bed, &["upgrade", "--check"]);
        assert!(out.contains("Added layers: 1\n"), "{out}");
        let out = ok(bed, &["upgrade"]);
        assert_eq!(
            out.matches("Fetching layer").count(),
            1,
            "only the new layer is fetched: {out}"
        );
        let d = &deployments(bed)[0];
        assert_eq!(
            dict_str(d, "container-image-reference-digest"),
            Some(derived.clone())
        );
        assert_eq!(
            dict_str(d, "container-image-reference"),
            Some(imgref.clone())
        );
        let root = root_of(bed, d);
        assert_eq!(
            std::fs::read_to_string(root.join("usr/share/derived/hello.txt")).unwrap(),
            "derived\n"
        );
        // The image's /etc is the tree's default configuration, merged into
        // the deployment's /etc.
        assert!(root.join("usr/etc/derived.conf").is_file());
        assert!(root.join("etc/derived.conf").is_file());
        assert!(!root.join("usr/share/tp-base-a/version").exists());
        assert!(root.join("usr/share/tp-base-a").is_dir());
        // The base's files and rpmdb are there.
        let qa = rpm_qa(&root);
        assert!(qa.contains(&"tp-base-a-1.0-1.noarch".to_string()), "{qa:?}");
        assert_eq!(image_refs(bed).len(), 1, "{:?}", image_refs(bed));
        let blobs = ostree_repo(bed, &["refs"])
            .lines()
            .filter(|l| l.starts_with("ostree/container/blob/"))
            .count();
        assert_eq!(
            blobs,
            manifest_layers(&layout, "stable"),
            "the base's layers and the derived one"
        );
        assert!(ok(bed, &["upgrade"]).contains("No upgrade available."));
        // Cleanup on a container system: the pending deployment, then the
        // base refs and caches; the image the booted system follows stays.
        ok(bed, &["cleanup", "-p"]);
        assert_eq!(deployments(bed).len(), 1);
        ok(bed, &["cleanup", "-b"]);
        fsck(bed);
    });
}

#[test]
fn an_oci_archive_image_deploys() {
    with_bed(Options::default(), |bed| {
        let before = var_tmp_oci();
        let archive = format!(
            "oci-archive:{}:v1",
            bed.tb.join("testos.ociarchive").display()
        );
        encapsulate(bed, &bed.world("CSUM_V1"), &archive);
        let imgref = format!("ostree-unverified-image:{archive}");
        ok(bed, &["rebase", &imgref]);
        let d = &deployments(bed)[0];
        assert_eq!(
            dict_str(d, "container-image-reference"),
            Some(imgref.clone())
        );
        assert_eq!(dict_str(d, "version").as_deref(), Some("1"));
        assert!(ok(bed, &["upgrade"]).contains("No upgrade available."));
        assert_eq!(image_refs(bed).len(), 1);
        // skopeo unpacked the archive for each import: nothing of it is left
        // (the upgrade found the image present and never closed it).
        assert_eq!(var_tmp_oci(), before, "skopeo's unpacked archives are left");
        fsck(bed);
    });
}

#[test]
fn an_image_of_a_signed_commit_is_verified_with_the_remotes_keys() {
    let opts = Options {
        gpg: true,
        ..Default::default()
    };
    with_bed(opts, |bed| {
        let (_, oci) = image_of_v1(bed);
        let remote = bed.world("REMOTE_NAME");
        let imgref = format!("ostree-remote-image:{remote}:{oci}");
        ok(bed, &["rebase", &imgref]);
        let d = &deployments(bed)[0];
        assert_eq!(
            dict_str(d, "container-image-reference"),
            Some(imgref.clone())
        );
        assert!(ok(bed, &["status"]).contains(&format!("  {imgref}\n")));

        // A commit without a signature, and a remote without the key (for
        // an image not stored yet: a stored one is not fetched again).
        let v2_oci = format!("oci:{}:stable", bed.tb.join("images/v2").display());
        encapsulate(bed, &bed.world("CSUM_V2"), &v2_oci);
        let repo = bed.world("REMOTE");
        let unsigned = std::process::Command::new("ostree")
            .args(["commit", &format!("--repo={repo}"), "--branch=unsigned"])
            .arg(format!("--tree=ref={}", bed.world("CSUM_V2")))
            .output()
            .unwrap();
        assert!(unsigned.status.success(), "{unsigned:?}");
        let unsigned_oci = format!("oci:{}:stable", bed.tb.join("images/unsigned").display());
        encapsulate(bed, "unsigned", &unsigned_oci);
        ostree_repo(
            bed,
            &[
                "remote",
                "add",
                "--set=gpg-verify=true",
                "nokeys",
                "file:///nonexistent",
            ],
        );
        let before = snapshot(bed);
        let refs = image_refs(bed);
        let cases = [
            (
                format!("ostree-remote-image:{remote}:{unsigned_oci}"),
                "commitmeta",
            ),
            (
                format!("ostree-remote-image:nokeys:{v2_oci}"),
                "public key not found",
            ),
            (
                format!("ostree-remote-image:nosuch:{v2_oci}"),
                "Remote \"nosuch\" not found",
            ),
        ];
        for (bad, why) in &cases {
            let err = fails(bed, &["rebase", bad]);
            assert!(
                err.contains(bad.as_str()) && err.contains(why),
                "{bad}: {err}"
            );
            assert_eq!(snapshot(bed), before, "{bad}");
            assert_eq!(image_refs(bed), refs, "{bad}");
        }
        fsck(bed);
    });
}

#[test]
fn a_containers_storage_image_is_refused_clearly_by_debians_skopeo() {
    with_bed(Options::default(), |bed| {
        let (_, oci) = image_of_v1(bed);
        // A private vfs store: nothing of the host's container storage is used.
        let store = format!(
            "[vfs@{}+{}]localhost/testos:v1",
            bed.tb.join("cs/root").display(),
            bed.tb.join("cs/run").display()
        );
        push(&oci, &format!("containers-storage:{store}"));
        let imgref = format!("ostree-unverified-image:containers-storage:{store}");
        let before = snapshot(bed);
        let err = fails(bed, &["rebase", &imgref]);
        // skopeo 1.9.3's image proxy (protocol 0.2.3) lacks GetLayerInfo.
        assert!(
            err.contains(&imgref) && err.contains("skopeo too old to pull from containers-storage"),
            "{err}"
        );
        assert_eq!(snapshot(bed), before);
        assert!(image_refs(bed).is_empty());
        fsck(bed);
    });
}

#[test]
fn compose_container_encapsulate_packs_into_at_most_max_layers() {
    with_bed(Options::default(), |bed| {
        let repo = format!("--repo={}", bed.world("REMOTE"));
        let v1 = bed.world("CSUM_V1");
        let layout = bed.tb.join("four");
        let oci = format!("oci:{}:v1", layout.display());
        let compose = |max: &str| {
            Command::new(BIN)
                .args([
                    "compose",
                    "container-encapsulate",
                    &repo,
                    "--max-layers",
                    max,
                    &v1,
                    &oci,
                ])
                .output()
                .unwrap()
        };
        let out = compose("2");
        assert!(!out.status.success());
        assert_eq!(
            String::from_utf8_lossy(&out.stderr).trim(),
            "error: --max-layers 2: a chunked image has at least 4 layers"
        );
        assert!(!layout.exists());
        let out = compose("4");
        assert!(out.status.success(), "{out:?}");
        // The packages' layers, plus at most one for the commit itself.
        let four = manifest_layers(&layout, "v1");
        assert!((4..=5).contains(&four), "{four} layers");
        // By default each package of the test bed gets a layer of its own.
        let (default_layout, _) = image_of_v1(bed);
        assert!(manifest_layers(&default_layout, "stable") > four);
    });
}
