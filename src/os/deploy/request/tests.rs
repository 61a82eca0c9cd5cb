use super::*;
use crate::testutil::dict;
use glib::prelude::*;

fn tuple(items: &[Variant]) -> Variant {
    Variant::tuple_from_iter(items.iter().cloned())
}

fn update(mods: &[(&str, Variant)], opts: &[(&str, Variant)]) -> DeployCall {
    DeployCall::parse("UpdateDeployment", &tuple(&[dict(mods), dict(opts)]), &[]).unwrap()
}

fn actions(c: &DeployCall) -> Vec<&'static str> {
    match c.needed() {
        Needed::Actions(a) => a,
        other => panic!("{other:?}"),
    }
}

fn env() -> BuildEnv {
    BuildEnv {
        lock_layering: false,
        insecure_loopback_registries: false,
        runtime_dir: "/run/rpm-ostree".into(),
        stall_timeout: Duration::from_secs(5),
        policy: UpdatePolicy::None,
        agent: None,
        caller_unit: None,
    }
}

#[test]
fn update_deployment_action_sets() {
    let t = true.to_variant();
    let s = |v: &str| v.to_variant();
    let pkgs = vec!["foo"].to_variant();
    assert_eq!(actions(&update(&[], &[])), ["upgrade"]);
    assert_eq!(
        actions(&update(&[("set-refspec", s("r:b"))], &[])),
        ["rebase"]
    );
    assert_eq!(
        actions(&update(&[("set-revision", s("1"))], &[])),
        ["deploy"]
    );
    assert_eq!(
        actions(&update(
            &[("set-refspec", s("r:b")), ("set-revision", s("1"))],
            &[]
        )),
        ["rebase"]
    );
    assert_eq!(
        actions(&update(&[], &[("no-pull-base", t.clone())])),
        ["override"]
    );
    assert_eq!(
        actions(&update(
            &[],
            &[("no-initramfs", t.clone()), ("no-pull-base", t.clone())]
        )),
        ["bootconfig"]
    );
    assert_eq!(
        actions(&update(
            &[("install-packages", pkgs.clone())],
            &[("no-pull-base", t.clone())]
        )),
        ["install-uninstall-packages"]
    );
    assert_eq!(
        actions(&update(
            &[],
            &[("no-layering", t.clone()), ("no-overrides", t.clone())]
        )),
        ["install-uninstall-packages", "override", "upgrade"]
    );
    assert_eq!(
        actions(&update(&[("override-remove-packages", pkgs.clone())], &[])),
        ["override", "upgrade"]
    );
}

#[test]
fn legacy_methods_map_onto_update_deployment() {
    let none = dict(&[]);
    let c = DeployCall::parse(
        "Deploy",
        &tuple(&["version=2".to_variant(), none.clone()]),
        &[],
    )
    .unwrap();
    assert_eq!(actions(&c), ["deploy"]);
    let d = c.build("testos", &env()).unwrap();
    assert_eq!(d.revision.as_deref(), Some("version=2"));
    assert!(
        d.flags.allow_downgrade,
        "Deploy allows downgrades by default"
    );
    assert_eq!(d.title, "deploy");

    let c = DeployCall::parse("Upgrade", &tuple(std::slice::from_ref(&none)), &[]).unwrap();
    let d = c.build("testos", &env()).unwrap();
    assert!(!d.flags.allow_downgrade);
    assert_eq!(d.title, "upgrade");

    let opts = dict(&[
        ("revision", "1".to_variant()),
        ("skip-purge", true.to_variant()),
    ]);
    let c = DeployCall::parse(
        "Rebase",
        &tuple(&[
            opts,
            "other:os/x".to_variant(),
            Vec::<String>::new().to_variant(),
        ]),
        &[],
    )
    .unwrap();
    assert_eq!(actions(&c), ["rebase"]);
    let d = c.build("testos", &env()).unwrap();
    assert_eq!(d.refspec.as_deref(), Some("other:os/x"));
    assert_eq!(d.revision.as_deref(), Some("1"));
    assert!(d.flags.skip_purge && d.flags.allow_downgrade);

    let d = update(&[("set-refspec", "r:b".to_variant())], &[])
        .build("testos", &env())
        .unwrap();
    assert!(
        d.flags.allow_downgrade,
        "quirk: refspec implies allow-downgrade"
    );
    let d = update(&[("set-revision", "1".to_variant())], &[])
        .build("testos", &env())
        .unwrap();
    assert!(!d.flags.allow_downgrade);
}

#[test]
fn gnome_software_upgrade_options_are_accepted() {
    let keys = [
        "reboot",
        "allow-downgrade",
        "cache-only",
        "download-only",
        "skip-purge",
        "no-pull-base",
        "dry-run",
        "no-overrides",
    ];
    let entries: Vec<(&str, Variant)> = keys.iter().map(|k| (*k, false.to_variant())).collect();
    let c = DeployCall::parse("Upgrade", &tuple(&[dict(&entries)]), &[]).unwrap();
    c.build("testos", &env()).unwrap();
}

#[test]
fn conflicts_and_refusals() {
    let t = true.to_variant();
    let err = |mods: &[(&str, Variant)], opts: &[(&str, Variant)]| {
        update(mods, opts)
            .build("testos", &env())
            .unwrap_err()
            .message()
            .to_string()
    };
    assert_eq!(
        err(&[], &[("skip-purge", t.clone())]),
        "Can't specify skip-purge if not setting a new refspec"
    );
    assert_eq!(
        err(
            &[("set-revision", "1".to_variant())],
            &[("no-pull-base", t.clone())]
        ),
        "Can't specify no-pull-base if setting a new refspec or revision"
    );
    assert_eq!(
        err(&[], &[("dry-run", t.clone()), ("download-only", t.clone())]),
        "Can't specify dry-run and download-only"
    );
    assert_eq!(
        err(
            &[],
            &[("cache-only", t.clone()), ("download-only", t.clone())]
        ),
        "Can't specify cache-only and download-only"
    );
    assert_eq!(
        err(&[], &[("apply-live", t.clone()), ("reboot", t.clone())]),
        "Cannot specify `apply-live` and `reboot`"
    );
    assert_eq!(
        err(&[], &[("custom-origin", ("url", "").to_variant())]),
        "Invalid custom-origin"
    );
    assert!(
        update(
            &[("override-remove-packages", vec!["foo"].to_variant())],
            &[]
        )
        .build("testos", &env())
        .is_ok()
    );
    assert!(
        update(&[("install-packages", vec!["foo"].to_variant())], &[])
            .build("testos", &env())
            .is_ok()
    );
    assert_eq!(
        err(
            &[("override-replace-packages", vec!["foo"].to_variant())],
            &[]
        ),
        "Non-local replacement overrides not implemented yet"
    );
    let bad = update(&[("set-refspec", "remote:bad ref".to_variant())], &[])
        .build("testos", &env())
        .unwrap_err();
    assert!(
        matches!(bad, BusError::Named(n, _) if n == crate::error::RPMOSTREED_ERROR_INVALID_REFSPEC)
    );
    for ok in ["otherremote:", ":local/ref", "ostree://r:b/c"] {
        update(&[("set-refspec", ok.to_variant())], &[])
            .build("testos", &env())
            .unwrap();
    }
    // Empty package lists are not requests.
    update(
        &[("install-packages", Vec::<String>::new().to_variant())],
        &[],
    )
    .build("testos", &env())
    .unwrap();
    // Unknown keys and wrong types are refused at parse time.
    assert!(
        DeployCall::parse(
            "UpdateDeployment",
            &tuple(&[dict(&[("bogus", t.clone())]), dict(&[])]),
            &[]
        )
        .is_err()
    );
    assert!(
        DeployCall::parse(
            "Upgrade",
            &tuple(&[dict(&[("reboot", "yes".to_variant())])]),
            &[]
        )
        .is_err()
    );
    assert!(
        DeployCall::parse(
            "Upgrade",
            &tuple(&[dict(&[("revision", "1".to_variant())])]),
            &[]
        )
        .is_err()
    );
}

#[test]
fn automatic_update_modes_and_titles() {
    let c = DeployCall::parse(
        "AutomaticUpdateTrigger",
        &tuple(&[dict(&[("mode", "ex-stage".to_variant())])]),
        &[],
    )
    .unwrap();
    assert_eq!(c.mode, Some(UpdatePolicy::Stage));
    let c = DeployCall::parse(
        "AutomaticUpdateTrigger",
        &tuple(&[dict(&[("mode", "sometimes".to_variant())])]),
        &[],
    )
    .unwrap_err();
    assert_eq!(
        c.message(),
        "Invalid value for AutomaticUpdatePolicy: 'sometimes'"
    );
    let c = DeployCall::parse(
        "AutomaticUpdateTrigger",
        &tuple(&[dict(&[(
            "initiating-command-line",
            "upgrade --trigger-automatic-update-policy ".to_variant(),
        )])]),
        &[],
    )
    .unwrap();
    let mut e = env();
    e.policy = UpdatePolicy::Check;
    let d = c.build("testos", &e).unwrap();
    assert!(d.flags.check_only && d.flags.output_to_self);
    assert_eq!(d.title, "automatic (check)");
    e.policy = UpdatePolicy::Apply;
    let d = c.build("testos", &e).unwrap();
    assert!(d.flags.reboot);
    assert_eq!(d.title, "automatic (stage)");
    let d = update(&[], &[("cache-only", true.to_variant())])
        .build("testos", &env())
        .unwrap();
    assert_eq!(d.title, "upgrade (cache only)");
    let d = update(
        &[],
        &[(
            "initiating-command-line",
            "upgrade --cache-only ".to_variant(),
        )],
    )
    .build("testos", &env())
    .unwrap();
    assert_eq!(d.title, "upgrade --cache-only ");
}

#[test]
fn titles_name_what_a_no_pull_base_call_changes() {
    let base = [("no-pull-base", true.to_variant())];
    let title =
        |mods: &[(&str, Variant)]| update(mods, &base).build("testos", &env()).unwrap().title;
    assert_eq!(
        title(&[("install-packages", vec!["a", "b"].to_variant())]),
        "install; install: 2"
    );
    assert_eq!(
        title(&[("uninstall-packages", vec!["a"].to_variant())]),
        "uninstall; uninstall: 1"
    );
    assert_eq!(
        title(&[("override-remove-packages", vec!["a"].to_variant())]),
        "override"
    );
    assert_eq!(
        title(&[("override-reset-packages", vec!["a"].to_variant())]),
        "override"
    );
}
