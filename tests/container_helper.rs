//! The container helper (`rpm-ostreed-container`, crates/container-helper) on
//! the test bed's commits: encapsulated into `oci:` and `oci-archive:` images
//! and a loopback docker-registry (requests on the command line, and as JSON
//! on stdin as the daemon's helper module sends them), imported into fresh bare repositories,
//! checked against a moved tag, pruned; the signature policy, bad input, and
//! a helper killed mid-layer. The oracles are ostree's CLI (`ls -R -C`,
//! `refs`, `fsck`) and skopeo.

mod common;
#[path = "container_helper/support.rs"]
mod support;

use common::image::var_tmp_oci;
use common::*;
use serde_json::Value;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use support::*;

fn bed_opts() -> Options {
    Options {
        no_daemon: true,
        ..Default::default()
    }
}

/// A directory for the test's images and repositories (removed with the bed).
fn work(bed: &Bed) -> PathBuf {
    let d = bed.tb.join("ct");
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn encapsulate(bed: &Bed, rev: &str, imgref: &str) -> String {
    let r = helper(&["encapsulate", "--repo", &bed.world("REMOTE"), rev, imgref]);
    let done = r.done();
    assert_eq!(done["imgref"], imgref);
    let digest = done["manifest_digest"].as_str().unwrap().to_string();
    assert!(digest.starts_with("sha256:"), "{done}");
    digest
}

fn import(repo: &str, imgref: &str, extra: &[&str]) -> Reply {
    let mut args = vec!["import", "--repo", repo];
    args.extend_from_slice(extra);
    args.push(imgref);
    helper(&args)
}

fn check(repo: &str, imgref: &str, extra: &[&str]) -> Value {
    let mut args = vec!["check", "--repo", repo];
    args.extend_from_slice(extra);
    args.push(imgref);
    helper(&args).done().clone()
}

/// The import's result names the image, the commit the test bed made, and a
/// merge commit with the same tree; its progress counts the one layer.
fn assert_imported(bed: &Bed, repo: &str, r: &Reply, imgref: &str, csum: &str, version: &str) {
    let done = r.done();
    assert_eq!(done["imgref"], imgref);
    assert_eq!(done["changed"], true);
    assert_eq!(done["base_commit"], csum);
    assert_eq!(done["version"], version);
    let merge = done["merge_commit"].as_str().unwrap();
    assert_eq!(
        tree(repo, merge),
        tree(&bed.world("REMOTE"), csum),
        "the imported tree"
    );
    let progress = r.progress();
    let first = progress.first().expect("progress lines");
    let last = progress.last().unwrap();
    assert_eq!(first["layers_total"], 1, "{progress:?}");
    assert_eq!(first["layers_fetched"], 0);
    assert_eq!(last["layers_fetched"], 1, "{progress:?}");
    assert_eq!(last["bytes_fetched"], last["bytes_total"]);
    assert!(last["bytes_total"].as_u64().unwrap() > 0);
    assert_eq!(image_refs(repo).len(), 1, "one image ref");
    assert_fsck(repo);
}

#[test]
fn oci_import_check_update_and_prune() {
    with_bed(bed_opts(), |bed| {
        let w = work(bed);
        let (v1, v2) = (bed.world("CSUM_V1"), bed.world("CSUM_V2"));
        let oci = format!("oci:{}:v1", w.join("img").display());
        let d1 = encapsulate(bed, &v1, &oci);
        // skopeo sees what we wrote.
        let inspect = run_ok(Command::new("skopeo").args(["inspect", &oci]));
        let inspect: Value = serde_json::from_str(&inspect).unwrap();
        assert_eq!(inspect["Digest"], d1.as_str());
        assert_eq!(inspect["Labels"]["org.opencontainers.image.version"], "1");

        let repo = init_repo(&w.join("repo"), "bare");
        let imgref = format!("ostree-unverified-image:{oci}");
        let r = import(&repo, &imgref, &[]);
        assert_imported(bed, &repo, &r, &imgref, &v1, "1");
        assert_eq!(r.done()["manifest_digest"], d1.as_str());
        assert_eq!(r.done()["manifest_diff"], Value::Null);

        // Current: nothing to fetch, no layer added or removed.
        let c = check(&repo, &imgref, &[]);
        assert_eq!(
            (&c["stored"], &c["current"]),
            (&Value::from(true), &Value::from(true))
        );
        assert_eq!(c["manifest_digest"], d1.as_str());
        assert_eq!(c["manifest_diff"]["n-added"], 0);
        assert_eq!(c["manifest_diff"]["n-removed"], 0);
        assert_eq!(c["manifest_diff"]["total"], 1);
        let again = import(&repo, &imgref, &[]);
        assert_eq!(again.done()["changed"], false);
        assert!(again.progress().is_empty(), "{again:?}");

        // The tag moves to v2: not current, one layer out and one in.
        let d2 = encapsulate(bed, &v2, &oci);
        assert_ne!(d1, d2);
        let c = check(&repo, &imgref, &[]);
        assert_eq!(
            (&c["stored"], &c["current"]),
            (&Value::from(true), &Value::from(false))
        );
        assert_eq!(c["stored_digest"], d1.as_str());
        assert_eq!(c["manifest_digest"], d2.as_str());
        assert_eq!(
            (&c["stored_version"], &c["version"]),
            (&Value::from("1"), &Value::from("2"))
        );
        let diff = &c["manifest_diff"];
        assert_eq!(
            (&diff["total"], &diff["n-added"], &diff["n-removed"]),
            (&1.into(), &1.into(), &1.into())
        );
        assert_eq!(diff["total-size"], diff["added-size"]);
        assert!(diff["added-size"].as_u64().unwrap() > 0);
        assert!(diff["removed-size"].as_u64().unwrap() > 0);
        // A check fetches nothing: the stored image is still v1's.
        assert_eq!(check(&repo, &imgref, &[])["stored_digest"], d1.as_str());
        assert_fsck(&repo);

        let r = import(&repo, &imgref, &[]);
        assert_imported(bed, &repo, &r, &imgref, &v2, "2");
        assert_eq!(r.done()["manifest_diff"], c["manifest_diff"]);
        assert_eq!(check(&repo, &imgref, &[])["current"], true);

        // Prune keeps what the caller names, then removes the rest.
        let p = helper(&["prune", "--repo", &repo, "--keep", &imgref]);
        assert_eq!(p.done()["kept"], serde_json::json!([oci]));
        assert_eq!(p.done()["removed"], serde_json::json!([]));
        assert_eq!(image_refs(&repo).len(), 1);
        let p = helper(&["prune", "--repo", &repo]);
        assert_eq!(p.done()["removed"], serde_json::json!([oci]));
        assert!(p.done()["layers_pruned"].as_u64().unwrap() >= 1, "{p:?}");
        let refs = ostree_in(&repo, &["refs"]);
        assert!(!refs.contains("ostree/container/"), "refs left: {refs}");
        ostree_in(&repo, &["prune", "--refs-only"]);
        assert_fsck(&repo);
    })
}

#[test]
fn oci_archive_round_trip() {
    with_bed(bed_opts(), |bed| {
        let w = work(bed);
        let v1 = bed.world("CSUM_V1");
        let before = var_tmp_oci();
        let archive = format!("oci-archive:{}:v1", w.join("img.ociarchive").display());
        encapsulate(bed, &v1, &archive);
        assert!(w.join("img.ociarchive").is_file());
        let repo = init_repo(&w.join("repo"), "bare");
        let imgref = format!("ostree-unverified-image:{archive}");
        // The request on stdin, as the daemon's helper module sends it.
        let request = serde_json::json!({"repo": repo, "imgref": imgref});
        let r = helper_request("import", &request);
        assert_imported(bed, &repo, &r, &imgref, &v1, "1");
        let c = helper_request("check", &request);
        assert_eq!(c.done()["current"], true);
        // skopeo unpacked the archive under /var/tmp for each: gone again.
        assert_eq!(var_tmp_oci(), before, "skopeo's unpacked archives are left");
        let bad = helper_request("check", &serde_json::json!({"repo": repo}));
        assert_eq!(bad.code, 2, "{bad:?}");
        assert!(
            bad.lines[0]["error"].as_str().unwrap().contains("imgref"),
            "{bad:?}"
        );
    })
}

#[test]
fn loopback_registry_round_trip() {
    with_bed(bed_opts(), |bed| {
        let w = work(bed);
        let (v1, v2) = (bed.world("CSUM_V1"), bed.world("CSUM_V2"));
        let registry = Registry::start(&w.join("registry"));
        let port = registry.port;
        let oci = format!("oci:{}:v1", w.join("img").display());
        let push = |digest_of: &str| {
            run_ok(Command::new("skopeo").args([
                "copy",
                "--dest-tls-verify=false",
                digest_of,
                &format!("docker://127.0.0.1:{port}/testos:v1"),
            ]));
        };
        encapsulate(bed, &v1, &oci);
        push(&oci);
        let repo = init_repo(&w.join("repo"), "bare");
        let imgref = format!("ostree-unverified-registry:127.0.0.1:{port}/testos:v1");
        let insecure = ["--insecure-skip-tls-verification"];
        let r = import(&repo, &imgref, &insecure);
        assert_imported(bed, &repo, &r, &imgref, &v1, "1");
        let c = check(&repo, &imgref, &insecure);
        assert_eq!(c["current"], true);

        // The tag moves in the registry.
        encapsulate(bed, &v2, &oci);
        push(&oci);
        let c = check(&repo, &imgref, &insecure);
        assert_eq!((&c["current"], &c["version"]), (&false.into(), &"2".into()));
        assert_eq!(c["manifest_diff"]["n-added"], 1);
        let r = import(&repo, &imgref, &insecure);
        assert_imported(bed, &repo, &r, &imgref, &v2, "2");

        // Without the test-only flag the client speaks https to it.
        let e = import(&repo, &imgref, &[]).error();
        assert!(e.starts_with(&format!("Importing {imgref}: ")), "{e}");
        assert!(e.contains("http"), "{e}");
        // A tag the registry does not have.
        let missing = format!("ostree-unverified-registry:127.0.0.1:{port}/testos:nosuch");
        let e = import(&repo, &missing, &insecure).error();
        assert!(e.starts_with(&format!("Importing {missing}: ")), "{e}");
        assert!(e.contains("manifest unknown"), "{e}");
        assert_eq!(image_refs(&repo).len(), 1);
        assert_fsck(&repo);
        drop(registry);
    })
}

/// An error line that names the image, and a repository left as it was.
fn assert_refused(repo: &str, imgref: &str, needle: &str) {
    let e = import(repo, imgref, &[]).error();
    assert!(e.starts_with(&format!("Importing {imgref}: ")), "{e}");
    assert!(e.contains(needle), "{e:?} should say {needle:?}");
    assert!(image_refs(repo).is_empty(), "{:?}", image_refs(repo));
    assert_fsck(repo);
}

#[test]
fn bad_input_is_refused_naming_the_image() {
    with_bed(bed_opts(), |bed| {
        let w = work(bed);
        let dir = w.join("img");
        let oci = format!("oci:{}:v1", dir.display());
        encapsulate(bed, &bed.world("CSUM_V1"), &oci);
        let repo = init_repo(&w.join("repo"), "bare");

        assert_refused(&repo, "fedora:41", "Invalid image reference 'fedora:41'");
        assert_refused(
            &repo,
            "ostree-unverified-image:bogus:/x",
            "Unknown transport 'bogus'",
        );
        let missing_tag = format!("ostree-unverified-image:oci:{}:nosuch", dir.display());
        assert_refused(&repo, &missing_tag, "nosuch");
        let no_dir = format!(
            "ostree-unverified-image:oci:{}:v1",
            w.join("nodir").display()
        );
        assert_refused(&repo, &no_dir, "no such file or directory");
        // A port nobody listens on (the kernel's pick, released).
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let unreachable = format!("ostree-unverified-registry:127.0.0.1:{port}/testos:v1");
        assert_refused(&repo, &unreachable, "connection refused");
        // Debian's default policy accepts anything: signed images are refused.
        let signed = format!("ostree-image-signed:{oci}");
        assert_refused(&repo, &signed, "insecureAcceptAnything");

        // A corrupt layer: same name, other bytes.
        let corrupt = w.join("corrupt");
        run_ok(Command::new("cp").arg("-a").arg(&dir).arg(&corrupt));
        let blobs = corrupt.join("blobs/sha256");
        let layer = std::fs::read_dir(&blobs)
            .unwrap()
            .map(|e| e.unwrap().path())
            .max_by_key(|p| std::fs::metadata(p).unwrap().len())
            .unwrap();
        let mut bytes = std::fs::read(&layer).unwrap();
        bytes.truncate(bytes.len() / 2);
        std::fs::write(&layer, &bytes).unwrap();
        let imgref = format!("ostree-unverified-image:oci:{}:v1", corrupt.display());
        let e = import(&repo, &imgref, &[]).error();
        assert!(e.starts_with(&format!("Importing {imgref}: ")), "{e}");
        assert!(image_refs(&repo).is_empty());
        assert_fsck(&repo);

        // A tag whose index offers only another architecture's manifest.
        let arm = w.join("arm");
        run_ok(Command::new("cp").arg("-a").arg(&dir).arg(&arm));
        let index: Value =
            serde_json::from_slice(&std::fs::read(arm.join("index.json")).unwrap()).unwrap();
        let mut manifest = index["manifests"][0].clone();
        manifest["platform"]["architecture"] = "arm64".into();
        manifest.as_object_mut().unwrap().remove("annotations");
        let nested = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [manifest],
        })
        .to_string();
        let nested_path = arm.join("nested.json");
        std::fs::write(&nested_path, &nested).unwrap();
        let sum = run_ok(Command::new("sha256sum").arg(&nested_path));
        let sum = sum.split_whitespace().next().unwrap();
        std::fs::rename(&nested_path, arm.join("blobs/sha256").join(sum)).unwrap();
        let top = serde_json::json!({
            "schemaVersion": 2,
            "manifests": [{
                "mediaType": "application/vnd.oci.image.index.v1+json",
                "digest": format!("sha256:{sum}"),
                "size": nested.len(),
                "annotations": {"org.opencontainers.image.ref.name": "v1"},
            }],
        });
        std::fs::write(arm.join("index.json"), top.to_string()).unwrap();
        let arm_ref = format!("ostree-unverified-image:oci:{}:v1", arm.display());
        assert_refused(
            &repo,
            &arm_ref,
            "no image found in image index for architecture",
        );

        // Bad command lines exit 2 with an error line.
        for args in [&["frob"][..], &["import", "x"], &["check", "--repo", &repo]] {
            let r = helper(args);
            assert_eq!(r.code, 2, "{r:?}");
            assert!(
                r.lines[0]["error"]
                    .as_str()
                    .unwrap()
                    .starts_with("rpm-ostreed-container: ")
            );
        }
        let e = helper(&[
            "import",
            "--repo",
            &w.join("norepo").display().to_string(),
            &signed,
        ]);
        assert!(e.error().contains("Opening repository"), "{e:?}");
    })
}

/// The daemon SIGKILLs a helper on Cancel or its own death. Killed while a
/// layer streams (its blob is a FIFO the test feeds half of), the import
/// leaves no image ref; prune collects what it left; a new import works.
#[test]
fn killed_import_leaves_no_image_ref() {
    with_bed(bed_opts(), |bed| {
        let w = work(bed);
        let v1 = bed.world("CSUM_V1");
        let dir = w.join("img");
        encapsulate(bed, &v1, &format!("oci:{}:v1", dir.display()));
        let layer = std::fs::read_dir(dir.join("blobs/sha256"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .max_by_key(|p| std::fs::metadata(p).unwrap().len())
            .unwrap();
        let saved = w.join("layer.saved");
        std::fs::rename(&layer, &saved).unwrap();
        run_ok(Command::new("mkfifo").arg(&layer));
        let repo = init_repo(&w.join("repo"), "bare");
        let imgref = format!("ostree-unverified-image:oci:{}:v1", dir.display());
        let mut child = spawn_helper(&["import", "--repo", &repo, &imgref]);

        // Wait for the layer to start, then for skopeo to open the FIFO.
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut seen = Vec::new();
        loop {
            let mut line = String::new();
            assert!(
                out.read_line(&mut line).unwrap() > 0,
                "helper ended: {seen:?}"
            );
            let started = line.contains("Fetching layer");
            seen.push(line);
            if started {
                break;
            }
        }
        let (tx, rx) = std::sync::mpsc::channel();
        let fifo = layer.clone();
        std::thread::spawn(move || {
            let _ = tx.send(std::fs::OpenOptions::new().write(true).open(&fifo));
        });
        let mut writer = rx
            .recv_timeout(DEADLINE)
            .expect("skopeo opens the layer")
            .expect("opening the FIFO");
        let data = std::fs::read(&saved).unwrap();
        writer.write_all(&data[..data.len() / 2]).unwrap();
        writer.flush().unwrap();

        // Mid-layer: kill the helper and whatever it started.
        let pid = child.id() as i32;
        let family = descendants_of(pid);
        kill(pid, libc::SIGKILL);
        for p in &family {
            kill(*p, libc::SIGKILL);
        }
        let status = wait_child(&mut child, DEADLINE).expect("the helper exits");
        assert!(!status.success());
        for p in &family {
            assert!(wait_pid_exit(*p, DEADLINE), "process {p} outlived the kill");
        }
        drop(writer);
        assert!(image_refs(&repo).is_empty(), "{:?}", image_refs(&repo));
        assert_fsck(&repo);

        // The leftovers go with prune; the image imports afterwards.
        helper(&["prune", "--repo", &repo]).done();
        std::fs::remove_file(&layer).unwrap();
        std::fs::rename(&saved, &layer).unwrap();
        let r = import(&repo, &imgref, &[]);
        assert_imported(bed, &repo, &r, &imgref, &v1, "1");
    })
}

/// `ostree-image-signed:` under /etc/containers/policy.json (skopeo 1.9.3's
/// image proxy does not evaluate it; the helper does): a loopback registry,
/// the bed's GPG key signing into a file:// lookaside, and each policy in a
/// copy of /etc/containers mounted over it in the helper's own mount
/// namespace. Every refusal leaves no image ref and nothing cached.
#[test]
fn signature_policy_is_enforced() {
    let opts = Options {
        gpg: true,
        ..bed_opts()
    };
    with_bed(opts, |bed| {
        let w = work(bed);
        let (v1, v2) = (bed.world("CSUM_V1"), bed.world("CSUM_V2"));
        let (gnupg, fpr) = (bed.world("GNUPGHOME"), bed.world("KEYID"));
        let pubkey = format!("{gnupg}/pubkey.asc");
        // An unrelated key, for the wrong-key case (same home: teardown stops its agent).
        run_ok(Command::new("gpg").args([
            "--homedir",
            &gnupg,
            "--batch",
            "--quiet",
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "",
            "--quick-gen-key",
            "Other <o@example.invalid>",
            "ed25519",
            "sign",
            "never",
        ]));
        let other = w.join("other.asc");
        let armored = run_ok(Command::new("gpg").args([
            "--homedir",
            &gnupg,
            "--batch",
            "--armor",
            "--export",
            "o@example.invalid",
        ]));
        std::fs::write(&other, armored).unwrap();

        let registry = Registry::start(&w.join("registry"));
        let host = format!("127.0.0.1:{}", registry.port);
        let sigstore = w.join("sigstore");
        let registries_d = format!(
            "docker:\n  {host}:\n    lookaside: file://{0}\n    lookaside-staging: file://{0}\n",
            sigstore.display()
        );
        let push_d = w.join("registries.d");
        std::fs::create_dir_all(&push_d).unwrap();
        std::fs::write(push_d.join("test.yaml"), &registries_d).unwrap();
        let push = |src: &str, tag: &str, sign: bool| {
            let mut cmd = Command::new("skopeo");
            cmd.env("GNUPGHOME", &gnupg)
                .arg("--registries.d")
                .arg(&push_d);
            cmd.args(["copy", "--dest-tls-verify=false"]);
            if sign {
                cmd.args(["--sign-by", &fpr]);
            }
            run_ok(cmd.args([src, &format!("docker://{host}/testos:{tag}")]));
        };
        let (oci1, oci2) = (
            format!("oci:{}:v1", w.join("img1").display()),
            format!("oci:{}:v2", w.join("img2").display()),
        );
        let d1 = encapsulate(bed, &v1, &oci1);
        encapsulate(bed, &v2, &oci2);
        push(&oci1, "v1", true);
        push(&oci2, "unsigned", false);
        // v1's manifest under another tag: its signature names :v1.
        push(&oci1, "retag", false);
        let hex = d1.strip_prefix("sha256:").unwrap();
        assert!(
            sigstore
                .join(format!("testos@sha256={hex}/signature-1"))
                .is_file()
        );

        let signed_by = |key: &str| serde_json::json!([{"type": "signedBy", "keyType": "GPGKeys", "keyPath": key}]);
        let reject = serde_json::json!([{"type": "reject"}]);
        let etc = |name: &str, policy: Value| containers_etc(&w.join(name), &policy, &registries_d);
        let scoped = |reqs: Value| {
            serde_json::json!({
                "default": reject,
                "transports": {"docker": {format!("{host}/testos"): reqs}, "oci": {"": signed_by(&pubkey)}},
            })
        };
        let signed = etc("etc-signed", scoped(signed_by(&pubkey)));
        let wrong_key = etc(
            "etc-wrong-key",
            scoped(signed_by(&other.display().to_string())),
        );
        let rejecting = etc("etc-reject", scoped(reject.clone()));
        let key_data = run_ok(Command::new("base64").arg("-w0").arg(&pubkey));
        let any_tag = etc(
            "etc-repository",
            scoped(serde_json::json!([{
                "type": "signedBy", "keyType": "GPGKeys", "keyData": key_data,
                "signedIdentity": {"type": "matchRepository"},
            }])),
        );
        let two_keys = etc(
            "etc-two-keys",
            scoped(serde_json::json!([{
                "type": "signedBy", "keyType": "GPGKeys",
                "keyPaths": [other.display().to_string(), pubkey],
            }])),
        );
        let insecure_default = etc(
            "etc-insecure",
            serde_json::json!({"default": [{"type": "insecureAcceptAnything"}],
                               "transports": {"docker": {host.clone(): signed_by(&pubkey)}}}),
        );
        let malformed = w.join("etc-malformed");
        containers_etc(&malformed, &Value::Null, &registries_d);
        std::fs::write(malformed.join("policy.json"), "{\"default\": [").unwrap();

        let insecure = "--insecure-skip-tls-verification";
        let image = |tag: &str| format!("ostree-image-signed:docker://{host}/testos:{tag}");
        let fresh = |name: &str| init_repo(&w.join(name), "bare");
        let refused = |etc: &Path, verb: &str, repo: &str, imgref: &str, needle: &str| {
            let e = helper_in(etc, &[verb, "--repo", repo, insecure, imgref]).error();
            let what = if verb == "import" {
                "Importing"
            } else {
                "Checking"
            };
            assert!(e.starts_with(&format!("{what} {imgref}: ")), "{e}");
            assert!(e.contains(needle), "{e:?} should say {needle:?}");
            assert!(image_refs(repo).is_empty(), "{:?}", image_refs(repo));
            assert_fsck(repo);
            e
        };

        // Signed by the policy's key, for this tag: imported and current.
        let repo = fresh("repo");
        let r = helper_in(
            &signed,
            &["import", "--repo", &repo, insecure, &image("v1")],
        );
        assert_imported(bed, &repo, &r, &image("v1"), &v1, "1");
        let c = helper_in(&signed, &["check", "--repo", &repo, insecure, &image("v1")]);
        assert_eq!(c.done()["current"], true);
        let again = helper_in(
            &signed,
            &["import", "--repo", &repo, insecure, &image("v1")],
        );
        assert_eq!(again.done()["changed"], false);
        // The same image, accepted by keyData and any tag of the repository.
        let r = helper_in(
            &any_tag,
            &[
                "import",
                "--repo",
                &fresh("repo-any"),
                insecure,
                &image("retag"),
            ],
        );
        assert_eq!(r.done()["manifest_digest"], d1.as_str());

        // One of the keyPaths signed it.
        let r = helper_in(
            &two_keys,
            &[
                "import",
                "--repo",
                &fresh("repo-keys"),
                insecure,
                &image("v1"),
            ],
        );
        assert_eq!(r.done()["manifest_digest"], d1.as_str());

        let e = refused(
            &signed,
            "import",
            &fresh("r1"),
            &image("unsigned"),
            "Source image rejected: A signature was required, but no signature exists",
        );
        assert!(e.ends_with("no signature exists"), "{e}");
        refused(
            &signed,
            "check",
            &fresh("r2"),
            &image("unsigned"),
            "Source image rejected: A signature was required, but no signature exists",
        );
        refused(
            &signed,
            "import",
            &fresh("r3"),
            &image("retag"),
            &format!(
                "Source image rejected: Signature for identity {host}/testos:v1 is not accepted"
            ),
        );
        refused(
            &wrong_key,
            "import",
            &fresh("r4"),
            &image("v1"),
            &format!(
                "Source image rejected: Invalid GPG signature: signed by an unknown key {fpr}"
            ),
        );
        refused(
            &rejecting,
            "import",
            &fresh("r5"),
            &image("v1"),
            &format!(
                "Source image rejected: Running image docker://{host}/testos:v1 is rejected by policy."
            ),
        );
        refused(
            &rejecting,
            "check",
            &fresh("r6"),
            &image("v1"),
            "is rejected by policy.",
        );
        refused(
            &insecure_default,
            "import",
            &fresh("r7"),
            &image("v1"),
            "insecureAcceptAnything",
        );
        refused(
            &malformed,
            "import",
            &fresh("r8"),
            &image("v1"),
            "Reading the signature policy /etc/containers/policy.json: ",
        );
        // oci: images carry no signatures.
        refused(
            &signed,
            "import",
            &fresh("r9"),
            &format!("ostree-image-signed:{oci1}"),
            "Source image rejected: A signature was required, but no signature exists",
        );
        // ostree-unverified-* is none of the policy's business.
        let r = helper_in(
            &rejecting,
            &[
                "import",
                "--repo",
                &fresh("r10"),
                insecure,
                &format!("ostree-unverified-registry:{host}/testos:unsigned"),
            ],
        );
        assert_eq!(r.done()["changed"], true);

        // The signed tag moves to an unsigned manifest: check and import
        // refuse it, the stored v1 stays, and no update is cached on it.
        push(&oci2, "v1", false);
        let merge = image_refs(&repo);
        let stored = ostree_in(&repo, &["rev-parse", &merge[0]]);
        let c = refused_keeping(&signed, "check", &repo, &image("v1"));
        assert!(c.contains("no signature exists"), "{c}");
        let e = refused_keeping(&signed, "import", &repo, &image("v1"));
        assert!(e.contains("no signature exists"), "{e}");
        assert_eq!(image_refs(&repo), merge);
        assert_eq!(ostree_in(&repo, &["rev-parse", &merge[0]]), stored);
        // ostree-ext caches a newer manifest on the stored image during
        // `prepare`; the refusal put the detached metadata back (there was none).
        let key = "--print-detached-metadata-key=ostree-ext.cached.manifest-digest";
        let (code, meta, _) = run(Command::new("ostree").arg(format!("--repo={repo}")).args([
            "show",
            key,
            stored.trim(),
        ]));
        assert!(code != 0 || meta.trim().is_empty(), "cached: {meta}");
        assert_fsck(&repo);
        drop(registry);
    })
}

/// A refusal on a repository that holds the image already.
fn refused_keeping(etc: &Path, verb: &str, repo: &str, imgref: &str) -> String {
    let r = helper_in(
        etc,
        &[
            verb,
            "--repo",
            repo,
            "--insecure-skip-tls-verification",
            imgref,
        ],
    );
    r.error()
}
