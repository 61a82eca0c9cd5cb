//! Golden tests: fixture dictionaries in, the exact text out.

use super::*;
use glib::prelude::*;

const C1: &str = "4bf887201914b04701208b255e9865229392bc00490c546439965ec11adf1c00";
const C2: &str = "fdee1c55032c085917fe16f980fe9f43c0e97856af7f5acb637f022b52e1b2a7";
const FPR: &str = "0123456789ABCDEF0123456789ABCDEF01234567";

fn deployment(csum: &str, version: &str, ts: u64, booted: bool) -> Dict {
    let mut d = Dict::new();
    d.insert("id".into(), format!("testos-{csum}.0").to_variant());
    d.insert("osname".into(), "testos".to_variant());
    d.insert("checksum".into(), csum.to_variant());
    d.insert("serial".into(), 0i32.to_variant());
    d.insert("booted".into(), booted.to_variant());
    d.insert("staged".into(), false.to_variant());
    d.insert("pinned".into(), false.to_variant());
    d.insert("unlocked".into(), "none".to_variant());
    d.insert("version".into(), version.to_variant());
    d.insert("timestamp".into(), ts.to_variant());
    d.insert(
        "origin".into(),
        "testremote:testos/stable/x86_64".to_variant(),
    );
    d.insert("gpg-enabled".into(), false.to_variant());
    d
}

fn signature(valid: bool, missing: bool) -> Variant {
    let sig = (
        valid,
        false,
        false,
        false,
        missing,
        FPR,
        1_704_067_200i64,
        0i64,
        "EdDSA",
        "SHA512",
        "Test OS",
        "t@example.invalid",
    )
        .to_variant();
    Variant::array_from_iter_with_type(glib::VariantTy::VARIANT, [Variant::from_variant(&sig)])
}

fn input(deployments: Vec<Dict>) -> StatusInput {
    StatusInput {
        deployments,
        policy: "none".into(),
        ..Default::default()
    }
}

#[test]
fn two_deployments() {
    let st = input(vec![
        deployment(C2, "2", 1_706_745_600, false),
        deployment(C1, "1", 1_704_067_200, true),
    ]);
    let expected = format!(
        "State: idle
Deployments:
  testremote:testos/stable/x86_64
                  Version: 2 (2024-02-01T00:00:00Z)
                   Commit: {C2}

● testremote:testos/stable/x86_64
                  Version: 1 (2024-01-01T00:00:00Z)
                   Commit: {C1}
"
    );
    assert_eq!(render(&st), expected);
}

#[test]
fn verbose_pinned_staged_unlocked_and_signed() {
    let mut staged = deployment(C2, "2", 1_706_745_600, false);
    staged.insert("staged".into(), true.to_variant());
    let mut booted = deployment(C1, "1", 1_704_067_200, true);
    booted.insert("pinned".into(), true.to_variant());
    booted.insert("unlocked".into(), "development".to_variant());
    booted.insert("gpg-enabled".into(), true.to_variant());
    booted.insert("signatures".into(), signature(true, false));
    let mut st = input(vec![staged, booted]);
    st.verbose = true;
    st.transaction = Some(("upgrade ".into(), "client(id:cli dbus:1.42 uid:0)".into()));
    st.busy = true;
    let expected = format!(
        "State: busy
AutomaticUpdates: disabled
Transaction: upgrade 
  Initiator: client(id:cli dbus:1.42 uid:0)
Deployments:
  testremote:testos/stable/x86_64 (index: 0)
                  Version: 2 (2024-02-01T00:00:00Z)
                   Commit: {C2}
                   Staged: yes
                StateRoot: testos

● testremote:testos/stable/x86_64 (index: 1)
                  Version: 1 (2024-01-01T00:00:00Z)
                   Commit: {C1}
                StateRoot: testos
             GPGSignature: 1 signature
                           Signature made 2024-01-01T00:00:00Z using EdDSA key ID 89ABCDEF01234567
                           Good signature from \"Test OS <t@example.invalid>\"
                   Pinned: yes
                 Unlocked: development
"
    );
    assert_eq!(render(&st), expected);
}

#[test]
fn signature_summaries_booted_only_and_policy() {
    let mut booted = deployment(C1, "1", 1_704_067_200, true);
    booted.insert("gpg-enabled".into(), true.to_variant());
    booted.insert("signatures".into(), signature(false, true));
    let mut other = deployment(C2, "2", 1_706_745_600, false);
    other.insert("gpg-enabled".into(), true.to_variant());
    let mut st = input(vec![other, booted]);
    st.policy = "stage".into();
    st.timer_state = "rpm-ostreed-automatic.timer: unknown state".into();
    let text = render(&st);
    assert!(text.contains("AutomaticUpdates: stage; rpm-ostreed-automatic.timer: unknown state\n"));
    assert!(text.contains(&format!(
        "             GPGSignature: Can't check signature: public key {FPR} not found\n"
    )));
    assert!(text.contains("             GPGSignature: (unsigned)\n"));
    st.booted_only = true;
    let text = render(&st);
    assert!(text.contains("BootedDeployment:\n● "));
    assert!(!text.contains(C2));
}

#[test]
fn available_update_block() {
    let mut update = Dict::new();
    update.insert("osname".into(), "testos".to_variant());
    update.insert("checksum".into(), C2.to_variant());
    update.insert("version".into(), "2".to_variant());
    update.insert("timestamp".into(), 1_706_745_600u64.to_variant());
    update.insert("ref-has-new-commit".into(), true.to_variant());
    update.insert("gpg-enabled".into(), false.to_variant());
    let block = render_cached_update(&update, false, false);
    assert_eq!(
        block,
        format!(
            "AvailableUpdate:
        Version: 2 (2024-02-01T00:00:00Z)
         Commit: {C2}
"
        )
    );
    let mut st = input(vec![deployment(C1, "1", 1_704_067_200, true)]);
    st.cached_update = Some(update.clone());
    assert!(
        !render(&st).contains("AvailableUpdate"),
        "not with policy none"
    );
    st.policy = "check".into();
    st.default_checksum = Some(C1.into());
    assert!(render(&st).ends_with(&format!("\n\n{block}")));
    st.default_checksum = Some(C2.into());
    assert!(!render(&st).contains("AvailableUpdate"), "already deployed");
}

#[test]
fn driver_and_custom_origin() {
    let mut d = deployment(C1, "1", 1_704_067_200, true);
    d.insert(
        "custom-origin".into(),
        ("pivot://x", "Managed by X").to_variant(),
    );
    d.insert(
        "remote-error".into(),
        "Remote \"gone\" not found".to_variant(),
    );
    let mut st = input(vec![d]);
    st.driver = Some((
        "TestDriver".into(),
        "test-driver.service".into(),
        "active".into(),
    ));
    let text = render(&st);
    assert!(text.starts_with(
        "State: idle\nAutomaticUpdatesDriver: TestDriver\n  DriverState: active\nDeployments:\n● pivot://x\n"
    ));
    assert!(text.contains("             CustomOrigin: Managed by X\n"));
    assert!(text.contains("       OstreeRemoteStatus: Remote \"gone\" not found\n"));
    st.verbose = true;
    assert!(render(&st).contains("AutomaticUpdatesDriver: TestDriver (test-driver.service)\n"));
}

#[test]
fn a_container_origin_shows_its_reference_and_digest() {
    let mut d = deployment(C1, "41.1", 1_704_067_200, true);
    d.remove("origin");
    d.insert(
        "container-image-reference".into(),
        "ostree-unverified-registry:quay.io/fedora/fedora-silverblue:41".to_variant(),
    );
    d.insert(
        "container-image-reference-digest".into(),
        format!("sha256:{C2}").to_variant(),
    );
    let expected = format!(
        "State: idle
Deployments:
● ostree-unverified-registry:quay.io/fedora/fedora-silverblue:41
                   Digest: sha256:{C2}
                  Version: 41.1 (2024-01-01T00:00:00Z)
"
    );
    assert_eq!(render(&input(vec![d])), expected);
}

#[test]
fn an_image_update_block_aligns_on_its_layer_keys() {
    let mut update = Dict::new();
    update.insert("version".into(), "2".to_variant());
    update.insert("ref-has-new-commit".into(), true.to_variant());
    let diff = glib::VariantDict::new(None);
    for (k, v) in [
        ("total", 9u64),
        ("total-size", 1_100_000),
        ("n-removed", 4),
        ("removed-size", 600_000),
        ("n-added", 4),
        ("added-size", 610_000),
    ] {
        diff.insert(k, v);
    }
    update.insert("manifest-diff".into(), diff.end());
    let block = render_cached_update(&update, false, false);
    assert_eq!(
        block,
        "AvailableUpdate:
         Version: 2
    Total layers: 9
            Size: 1.1\u{a0}MB
  Removed layers: 4
            Size: 600.0\u{a0}kB
    Added layers: 4
            Size: 610.0\u{a0}kB
"
    );
}
