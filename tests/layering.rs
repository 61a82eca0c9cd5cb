//! Package layering end to end: install, uninstall, upgrades of a layered
//! system, on the test bed's RPMs and repositories.

mod common;

use common::rpmmd::*;
use common::*;
use glib::prelude::*;

/// A deploy-family transaction through the in-process client: result and
/// the text of its Message and TaskBegin/TaskEnd signals.
fn txn(bed: &Bed, method: &str, args: &glib::Variant) -> (bool, String, Vec<String>) {
    let a = start_call(&bed.conn, OS_PATH, method, args).unwrap();
    let t = Txn::connect(&a).unwrap();
    assert!(t.start().unwrap());
    let (ok, msg) = t.wait_finished(DEADLINE).expect("Finished");
    let mut lines = Vec::new();
    for name in ["Message", "TaskBegin", "TaskEnd"] {
        for m in t.signals(name) {
            lines.push(format!(
                "{name}: {}",
                m.child_value(0).str().unwrap_or_default()
            ));
        }
    }
    t.close();
    let idle = || bed.sysroot_props()["ActiveTransactionPath"].str() == Some("");
    assert!(iterate_until(DEADLINE, idle), "the transaction stayed");
    (ok, msg, lines)
}

fn pkg_change(add: &[&str], remove: &[&str]) -> glib::Variant {
    let opts = glib::VariantDict::new(None).end();
    let add: Vec<String> = add.iter().map(|s| s.to_string()).collect();
    let remove: Vec<String> = remove.iter().map(|s| s.to_string()).collect();
    glib::Variant::tuple_from_iter([opts, add.to_variant(), remove.to_variant()])
}

const APP: &[&str] = &["tp-app-1.0-1", "tp-lib-1.0-1", "tp-tool-1.0-1"];

#[test]
fn install_a_package_with_its_dependencies() {
    with_bed(Options::default(), |bed| {
        let repo = make_repo(bed, "tp-main", APP);
        write_repo_file(
            bed,
            "test.repo",
            &repo_section("tp-main", &format!("file://{}", repo.display()), ""),
        );
        let (ok, msg, lines) = txn(bed, "PkgChange", &pkg_change(&["tp-app"], &[]));
        eprintln!("{ok} {msg}\n{}", lines.join("\n"));
        eprintln!("{}", bed.daemon_log());
        eprintln!("{}", bed.ostree(&["admin", "status"]));
        assert!(ok);
        let deploy = bed.sysroot().join("ostree/deploy/testos/deploy");
        let mut dirs: Vec<_> = std::fs::read_dir(&deploy)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect();
        dirs.sort_by_key(|p| std::fs::metadata(p).unwrap().modified().unwrap());
        let new = dirs.last().unwrap();
        let out = std::process::Command::new("sh").arg("-c").arg(format!(
            "cd {} && ls -la usr/bin/tp-* usr/etc/tp-app.conf usr/lib/opt/tp-app usr/share/tp-app; cat usr/share/tp-app/post-ran usr/share/tp-app/posttrans-ran usr/lib/rpm-ostree/tmpfiles.d/*; getfattr -d -m - usr/bin/tp-ping; rpm -qa --root $PWD --dbpath /usr/share/rpm | sort; ls usr/share/rpm; cat ../*.origin",
            new.display()
        )).output().unwrap();
        eprintln!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        eprintln!(
            "{}",
            bed.ostree(&[
                "fsck",
                &format!("--repo={}", bed.sysroot().join("ostree/repo").display())
            ])
        );
    });
}
