//! `data/org.projectatomic.rpmostree1.xml` against a table of every member and
//! signature, written here from the contract (§2): a typo in either fails.

use crate::names;

/// One member as `kind name(dir name type, ...)` / `property name type access`.
fn xml_members(iface: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse_with_options(
        names::INTROSPECTION_XML,
        roxmltree::ParsingOptions {
            allow_dtd: true,
            ..Default::default()
        },
    )
    .expect("XML parses");
    let node = doc
        .descendants()
        .find(|n| n.has_tag_name("interface") && n.attribute("name") == Some(iface))
        .unwrap_or_else(|| panic!("{iface} missing"));
    let mut out = Vec::new();
    for m in node.children().filter(|n| n.is_element()) {
        let name = m.attribute("name").unwrap_or_default();
        match m.tag_name().name() {
            "property" => out.push(format!(
                "property {name} {} {}",
                m.attribute("type").unwrap_or_default(),
                m.attribute("access").unwrap_or_default()
            )),
            kind @ ("method" | "signal") => {
                let args: Vec<String> = m
                    .children()
                    .filter(|c| c.has_tag_name("arg"))
                    .map(|a| {
                        let dir = a.attribute("direction").unwrap_or("out");
                        let prefix = if kind == "method" {
                            format!("{dir} ")
                        } else {
                            String::new()
                        };
                        format!(
                            "{prefix}{} {}",
                            a.attribute("name").unwrap_or_default(),
                            a.attribute("type").unwrap_or_default()
                        )
                    })
                    .collect();
                out.push(format!("{kind} {name}({})", args.join(", ")));
            }
            _ => {}
        }
    }
    out.sort();
    out
}

fn table(rows: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = rows.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

#[test]
fn sysroot_interface() {
    assert_eq!(
        xml_members(names::IFACE_SYSROOT),
        table(&[
            "property Booted o read",
            "property Path s read",
            "property ActiveTransaction (sss) read",
            "property ActiveTransactionPath s read",
            "property AutomaticUpdatePolicy s read",
            "property Deployments aa{sv} read",
            "method RegisterClient(in options a{sv})",
            "method UnregisterClient(in options a{sv})",
            "method Reload()",
            "method ReloadConfig()",
            "method GetOS(in name s, out object_path o)",
        ])
    );
}

#[test]
fn os_interface() {
    const TXN: &str = "out transaction_address s";
    const DIFF: &str = "out result a(sua{sv})";
    let rows = [
        "property BootedDeployment a{sv} read".to_string(),
        "property DefaultDeployment a{sv} read".into(),
        "property RollbackDeployment a{sv} read".into(),
        "property CachedUpdate a{sv} read".into(),
        "property HasCachedUpdateRpmDiff b read".into(),
        "property Name s read".into(),
        "method AutomaticUpdateTrigger(in options a{sv}, out enabled b, out transaction_address s)"
            .into(),
        format!("method GetDeploymentsRpmDiff(in deployid0 s, in deployid1 s, {DIFF})"),
        format!("method Deploy(in revision s, in options a{{sv}}, {TXN})"),
        format!(
            "method GetCachedDeployRpmDiff(in revision s, in packages as, {DIFF}, out details a{{sv}})"
        ),
        format!("method DownloadDeployRpmDiff(in revision s, in packages as, {TXN})"),
        format!("method Upgrade(in options a{{sv}}, {TXN})"),
        format!("method GetCachedUpdateRpmDiff(in deployid s, {DIFF}, out details a{{sv}})"),
        format!("method DownloadUpdateRpmDiff({TXN})"),
        format!("method Rollback(in options a{{sv}}, {TXN})"),
        format!("method ClearRollbackTarget(in options a{{sv}}, {TXN})"),
        format!("method Rebase(in options a{{sv}}, in refspec s, in packages as, {TXN})"),
        format!(
            "method GetCachedRebaseRpmDiff(in refspec s, in packages as, {DIFF}, out details a{{sv}})"
        ),
        format!("method DownloadRebaseRpmDiff(in refspec s, in packages as, {TXN})"),
        format!(
            "method PkgChange(in options a{{sv}}, in packages_added as, in packages_removed as, {TXN})"
        ),
        format!("method SetInitramfsState(in regenerate b, in args as, in options a{{sv}}, {TXN})"),
        format!(
            "method InitramfsEtc(in track as, in untrack as, in untrack_all b, in force_sync b, in options a{{sv}}, {TXN})"
        ),
        format!(
            "method KernelArgs(in existing_kernel_arg_string s, in kernel_args_added as, in kernel_args_replaced as, in kernel_args_removed as, in options a{{sv}}, {TXN})"
        ),
        "method GetDeploymentBootConfig(in deployid s, in is_pending b, out bootconfig a{sv})"
            .into(),
        format!("method Cleanup(in elements as, {TXN})"),
        format!("method RefreshMd(in options a{{sv}}, {TXN})"),
        format!("method ModifyYumRepo(in repo_id s, in settings a{{ss}}, {TXN})"),
        "method ListRepos(out repos aa{sv})".into(),
        format!("method UpdateDeployment(in modifiers a{{sv}}, in options a{{sv}}, {TXN})"),
        format!("method FinalizeDeployment(in options a{{sv}}, {TXN})"),
        "method WhatProvides(in provides as, out packages aa{sv})".into(),
        "method GetPackages(in names as, out packages aa{sv})".into(),
        "method Search(in names as, out packages aa{sv})".into(),
    ];
    let refs: Vec<&str> = rows.iter().map(String::as_str).collect();
    assert_eq!(xml_members(names::IFACE_OS), table(&refs));
}

#[test]
fn os_experimental_interface() {
    assert_eq!(
        xml_members(names::IFACE_OS_EXPERIMENTAL),
        table(&[
            "method Moo(in utf8 b, out result s)",
            "method LiveFs(in options a{sv}, out transaction_address s)",
            "method DownloadPackages(in queries as, in source s)",
        ])
    );
}

#[test]
fn transaction_interface() {
    assert_eq!(
        xml_members(names::IFACE_TRANSACTION),
        table(&[
            "property Title s read",
            "property InitiatingClientDescription s read",
            "method Cancel()",
            "method Start(out started b)",
            "signal Finished(success b, error_message s)",
            "signal Message(text s)",
            "signal TaskBegin(text s)",
            "signal TaskEnd(text s)",
            "signal PercentProgress(text s, percentage u)",
            "signal DownloadProgress(time (tt), outstanding (uu), metadata (uuu), delta (uuut), content (uu), transfer (tt))",
            "signal SignatureProgress(signature av, commit s)",
            "signal ProgressEnd()",
        ])
    );
}

/// The methods that take Unix FD lists carry GDBus's annotation.
#[test]
fn fd_methods_are_annotated() {
    for (iface, method) in [
        (names::IFACE_OS, "Deploy"),
        (names::IFACE_OS, "Upgrade"),
        (names::IFACE_OS, "Rebase"),
        (names::IFACE_OS, "PkgChange"),
        (names::IFACE_OS, "UpdateDeployment"),
        (names::IFACE_OS_EXPERIMENTAL, "DownloadPackages"),
    ] {
        assert!(
            crate::bus::interface_info(iface)
                .lookup_method(method)
                .is_some()
        );
        let needle = format!("<method name=\"{method}\">");
        let start = names::INTROSPECTION_XML
            .find(&needle)
            .unwrap_or_else(|| panic!("{method} element"));
        let end = start + names::INTROSPECTION_XML[start..].find("</method>").unwrap();
        assert!(
            names::INTROSPECTION_XML[start..end]
                .contains("name=\"org.gtk.GDBus.C.UnixFD\" value=\"true\""),
            "{iface}.{method}"
        );
    }
}
