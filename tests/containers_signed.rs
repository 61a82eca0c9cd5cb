//! `ostree-image-signed:` through the daemon, on a booted system whose
//! /etc/containers (policy.json, registries.d) the test writes: an image
//! signed with the test bed's key into a `file://` lookaside is accepted by
//! a `signedBy` policy and deployed; an unsigned tag and a `reject` scope are
//! refused, naming the image, with nothing changed. The policy is read at
//! transaction time (what clients' drop-ins over policy.json rely on).

mod common;
#[path = "container_helper/support.rs"]
#[allow(dead_code)]
mod support;

use common::image::*;
use common::layer::*;
use common::*;
use std::process::Command;

#[test]
fn a_signed_image_passes_the_policy_and_an_unsigned_one_does_not() {
    let opts = Options {
        booted: true,
        gpg: true,
        own_containers_etc: true,
        ..Default::default()
    };
    with_bed(opts, |bed| {
        let registry = support::Registry::start(&bed.tb.join("registry"));
        let host = format!("127.0.0.1:{}", registry.port);
        let (gnupg, fpr) = (bed.world("GNUPGHOME"), bed.world("KEYID"));
        let sigstore = bed.tb.join("sigstore");
        let registries_d = format!(
            "docker:\n  {host}:\n    lookaside: file://{0}\n    lookaside-staging: file://{0}\n",
            sigstore.display()
        );
        let etc = bed.tb.join("etc-containers");
        std::fs::create_dir_all(etc.join("registries.d")).unwrap();
        std::fs::write(etc.join("registries.d/test.yaml"), &registries_d).unwrap();

        let (_, oci) = image_of_v1(bed);
        let unsigned_oci = format!("oci:{}:stable", bed.tb.join("images/v2").display());
        encapsulate(bed, &bed.world("CSUM_V2"), &unsigned_oci);
        let push = |src: &str, tag: &str, sign: bool| {
            let mut cmd = Command::new("skopeo");
            cmd.env("GNUPGHOME", &gnupg)
                .arg("--registries.d")
                .arg(etc.join("registries.d"))
                .args(["copy", "--quiet", "--dest-tls-verify=false"]);
            if sign {
                cmd.args(["--sign-by", &fpr]);
            }
            run_ok(cmd.args([src, &format!("docker://{host}/testos:{tag}")]));
        };
        push(&oci, "signed", true);
        push(&unsigned_oci, "unsigned", false);
        let policy = |reqs: serde_json::Value| {
            let p = serde_json::json!({
                "default": [{"type": "reject"}],
                "transports": {"docker": {format!("{host}/testos"): reqs}},
            });
            std::fs::write(etc.join("policy.json"), p.to_string()).unwrap();
        };
        policy(serde_json::json!([{
            "type": "signedBy",
            "keyType": "GPGKeys",
            "keyPath": format!("{gnupg}/pubkey.asc"),
        }]));

        let before = snapshot(bed);
        let unsigned = format!("ostree-image-signed:docker://{host}/testos:unsigned");
        let err = fails(bed, &["rebase", &unsigned]);
        assert!(
            err.contains(&unsigned)
                && err.contains(
                    "Source image rejected: A signature was required, but no signature exists"
                ),
            "{err}"
        );
        assert_eq!(snapshot(bed), before);
        assert!(image_refs(bed).is_empty());

        let signed = format!("ostree-image-signed:docker://{host}/testos:signed");
        let out = ok(bed, &["rebase", &signed]);
        assert!(out.contains("Fetching layer"), "{out}");
        let d = &deployments(bed)[0];
        assert_eq!(
            dict_str(d, "container-image-reference"),
            Some(signed.clone())
        );
        assert!(ok(bed, &["status"]).contains(&format!("  {signed}\n")));

        // The policy is read when the transaction runs: now the scope rejects.
        policy(serde_json::json!([{"type": "reject"}]));
        let before = snapshot(bed);
        let err = fails(bed, &["upgrade", "--check"]);
        assert!(
            err.contains(&signed)
                && err.contains(&format!(
                    "Source image rejected: Running image docker://{host}/testos:signed is rejected by policy."
                )),
            "{err}"
        );
        assert_eq!(snapshot(bed), before);
        fsck(bed);
    });
}
