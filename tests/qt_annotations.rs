//! Qt clients (KDE Discover) generate their proxies from the installed
//! interface XML with `qdbusxml2cpp`, which knows no `a{sv}` by itself: every
//! `a{sv}` argument and property carries `org.qtproject.QtDBus.QtTypeName`
//! (`.InN`/`.OutN` for the N-th in/out argument of a method), and the tool
//! generates proxies and adaptors from the file without an error.

mod common;

use std::path::PathBuf;
use std::process::Command;

const XML: &str = "data/org.projectatomic.rpmostree1.xml";
const QT_TYPE_NAME: &str = "org.qtproject.QtDBus.QtTypeName";

fn xml_path() -> PathBuf {
    common::project_root().join(XML)
}

/// The `QtTypeName` annotation values of `node` with `key` after the prefix.
fn annotation<'a>(node: roxmltree::Node<'a, 'a>, key: &str) -> Option<&'a str> {
    let name = format!("{QT_TYPE_NAME}{key}");
    node.children()
        .filter(|c| c.has_tag_name("annotation"))
        .find(|c| c.attribute("name") == Some(name.as_str()))
        .and_then(|c| c.attribute("value"))
}

#[test]
fn every_vardict_is_annotated_as_qvariantmap() {
    let text = std::fs::read_to_string(xml_path()).unwrap();
    let doc = roxmltree::Document::parse_with_options(
        &text,
        roxmltree::ParsingOptions {
            allow_dtd: true,
            ..Default::default()
        },
    )
    .unwrap();
    let mut annotated = 0;
    for node in doc.descendants() {
        if node.has_tag_name("property") && node.attribute("type") == Some("a{sv}") {
            assert_eq!(
                annotation(node, ""),
                Some("QVariantMap"),
                "property {:?}",
                node.attribute("name")
            );
            annotated += 1;
        }
        if node.has_tag_name("method") {
            let (mut ins, mut outs) = (0, 0);
            for arg in node.children().filter(|c| c.has_tag_name("arg")) {
                let key = match arg.attribute("direction") {
                    Some("out") => {
                        outs += 1;
                        format!(".Out{}", outs - 1)
                    }
                    _ => {
                        ins += 1;
                        format!(".In{}", ins - 1)
                    }
                };
                if arg.attribute("type") == Some("a{sv}") {
                    assert_eq!(
                        annotation(node, &key),
                        Some("QVariantMap"),
                        "{}{key}",
                        node.attribute("name").unwrap_or_default()
                    );
                    annotated += 1;
                }
            }
        }
    }
    // 4 OS properties, 2 Sysroot, 18 OS and 1 OSExperimental method arguments.
    assert_eq!(annotated, 25);
}

#[test]
fn qdbusxml2cpp_generates_proxies_and_adaptors() {
    let out = std::env::temp_dir().join(format!("rpmostree-qt-{}", std::process::id()));
    std::fs::create_dir(&out).unwrap();
    struct Cleanup(PathBuf);
    impl Drop for Cleanup {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    let _cleanup = Cleanup(out.clone());
    for (flag, base) in [("-p", "proxy"), ("-a", "adaptor")] {
        let result = Command::new("qdbusxml2cpp")
            .current_dir(&out)
            .args([flag, base])
            .arg(xml_path())
            .output()
            .unwrap_or_else(|e| {
                panic!("qdbusxml2cpp (qtbase5-dev-tools, build-aux/install-deps.sh): {e}")
            });
        assert!(
            result.status.success() && result.stderr.is_empty(),
            "qdbusxml2cpp {flag}: {}",
            String::from_utf8_lossy(&result.stderr)
        );
    }
    let proxy = std::fs::read_to_string(out.join("proxy.h")).unwrap();
    for expected in [
        "Q_PROPERTY(QVariantMap CachedUpdate READ cachedUpdate)",
        "Q_PROPERTY(QVariantMap BootedDeployment READ bootedDeployment)",
        "QDBusPendingReply<QString> Upgrade(const QVariantMap &options)",
        "QDBusPendingReply<QString> UpdateDeployment(const QVariantMap &modifiers, const QVariantMap &options)",
        "QDBusPendingReply<QVariantMap> GetDeploymentBootConfig(const QString &deployid, bool is_pending)",
        "QDBusPendingReply<> RegisterClient(const QVariantMap &options)",
    ] {
        assert!(proxy.contains(expected), "proxy.h lacks {expected}");
    }
}
