//! Local RPMs (`install ./x.rpm`, `override replace ./x.rpm`): the files go
//! to the daemon as descriptors, into the pkgcache, and later layerings do
//! without them; and every bad input refused with nothing changed.

mod common;

use common::layer::*;
use common::rpmmd::*;
use common::*;
use std::path::PathBuf;

/// A copy of the test RPM `nvr` in a directory of its own under the bed.
fn copy_of(bed: &Bed, nvr: &str) -> PathBuf {
    let dir = bed.tb.join("local-rpms");
    std::fs::create_dir_all(&dir).unwrap();
    let to = dir.join(format!("{nvr}.noarch.rpm"));
    std::fs::copy(rpm(bed, nvr), &to).unwrap();
    to
}

fn origin_of(bed: &Bed, d: &Dict) -> String {
    let root = root_of(bed, d);
    let name = root.file_name().unwrap().to_string_lossy().into_owned();
    let path = root.with_file_name(format!("{name}.origin"));
    std::fs::read_to_string(path).unwrap()
}

fn strv(d: &Dict, k: &str) -> Vec<String> {
    d[k].get::<Vec<String>>().unwrap()
}

#[test]
fn a_local_rpm_is_layered_with_its_dependencies_and_outlives_its_file() {
    with_repo(Options::default(), APP, |bed, _| {
        let file = copy_of(bed, "tp-app-1.0-1");
        let path = file.display().to_string();
        let out = ok(bed, &["install", &path]);
        assert!(out.contains("Writing OSTree commit...done"), "{out}");
        let d = &deployments(bed)[0];
        assert_eq!(strv(d, "requested-local-packages"), ["tp-app-1.0-1.noarch"]);
        assert!(strv(d, "requested-packages").is_empty());
        let origin = origin_of(bed, d);
        let line = origin
            .lines()
            .find(|l| l.starts_with("requested-local="))
            .unwrap_or_else(|| panic!("{origin}"));
        let entry = line
            .trim_start_matches("requested-local=")
            .trim_end_matches(';');
        let (sha, nevra) = entry.split_once(':').unwrap();
        assert_eq!(nevra, "tp-app-1.0-1.noarch");
        assert_eq!(sha.len(), 64, "{line}");
        // Its dependencies came from the repository.
        let root = root_of(bed, d);
        let qa = rpm_qa(&root);
        for p in [
            "tp-app-1.0-1.noarch",
            "tp-lib-1.0-1.noarch",
            "tp-tool-1.0-1.noarch",
        ] {
            assert!(qa.contains(&p.to_string()), "{qa:?}");
        }
        assert!(root.join("usr/bin/tp-app").is_file());
        let status = ok(bed, &["status"]);
        assert!(
            status.contains("            LocalPackages: tp-app-1.0-1.noarch\n"),
            "{status}"
        );
        assert!(
            pkgcache_refs(bed).contains(&"rpmostree/pkg/tp-app/1.0-1.noarch".to_string()),
            "{:?}",
            pkgcache_refs(bed)
        );
        // The file goes; an upgrade keeps the package, from the pkgcache.
        std::fs::remove_file(&file).unwrap();
        bed.set_head(2);
        ok(bed, &["upgrade"]);
        let d = &deployments(bed)[0];
        assert_eq!(dict_str(d, "base-checksum"), Some(bed.world("CSUM_V2")));
        assert_eq!(strv(d, "requested-local-packages"), ["tp-app-1.0-1.noarch"]);
        assert!(rpm_qa(&root_of(bed, d)).contains(&"tp-app-1.0-1.noarch".to_string()));
        // Installed again: refused; uninstalled by name.
        let again = copy_of(bed, "tp-app-1.0-1").display().to_string();
        let err = fails(bed, &["install", &again]);
        assert!(
            err.contains("Package/capability 'tp-app-1.0-1.noarch' is already requested"),
            "{err}"
        );
        ok(bed, &["uninstall", "tp-app"]);
        let d = &deployments(bed)[0];
        assert!(strv(d, "requested-local-packages").is_empty());
        assert_eq!(dict_str(d, "checksum"), Some(bed.world("CSUM_V2")));
        no_layer_workdirs(bed);
        fsck(bed);
    });
}

#[test]
fn bad_local_rpms_are_refused_and_change_nothing() {
    with_repo(Options::default(), APP, |bed, _| {
        let before = (snapshot(bed), pkgcache_refs(bed));
        let err = fails(bed, &["install", "/nonexistent/tp-x-1.0-1.noarch.rpm"]);
        assert!(
            err.contains("openat(/nonexistent/tp-x-1.0-1.noarch.rpm): No such file or directory"),
            "{err}"
        );
        let junk = bed.tb.join("junk.rpm");
        std::fs::write(&junk, b"this is not an rpm\n").unwrap();
        let err = fails(bed, &["install", &junk.display().to_string()]);
        assert!(err.contains("Local package 1 (descriptor 0)"), "{err}");
        assert!(err.contains("not a readable RPM"), "{err}");
        // A truncated RPM is no RPM either.
        let whole = std::fs::read(rpm(bed, "tp-tool-1.0-1")).unwrap();
        let cut = bed.tb.join("cut.rpm");
        std::fs::write(&cut, &whole[..whole.len() / 3]).unwrap();
        let err = fails(bed, &["install", &cut.display().to_string()]);
        assert!(err.contains("not a readable RPM"), "{err}");
        // An RPM for another machine.
        let other = if std::env::consts::ARCH == "aarch64" {
            "x86_64"
        } else {
            "aarch64"
        };
        let foreign = bed.tb.join(format!("tp-arch-1.0-1.{other}.rpm"));
        rpm::PackageBuilder::new("tp-arch", "1.0", "MIT", other, "another machine's")
            .release("1")
            .build()
            .unwrap()
            .write_file(&foreign)
            .unwrap();
        let err = fails(bed, &["install", &foreign.display().to_string()]);
        assert!(
            err.contains(&format!(
                "tp-arch-1.0-1.{other} is for architecture {other}, not this machine's"
            )),
            "{err}"
        );
        // What the base has already, that very NEVRA.
        let base = copy_of(bed, "tp-base-a-1.0-1").display().to_string();
        let err = fails(bed, &["install", &base]);
        assert!(
            err.contains("Package 'tp-base-a-1.0-1.noarch' is already in the base"),
            "{err}"
        );
        // Imported, then its depsolve fails (it needs tp-base-a >= 2.0): its
        // import is undone too.
        let needs = copy_of(bed, "tp-needs-new-a-1.0-1").display().to_string();
        let err = fails(bed, &["install", &needs]);
        assert!(
            err.contains("nothing provides tp-base-a >= 2.0 needed by tp-needs-new-a-1.0-1.noarch"),
            "{err}"
        );
        assert_eq!((snapshot(bed), pkgcache_refs(bed)), before);
        no_layer_workdirs(bed);
        fsck(bed);
    });
}

#[test]
fn override_replace_swaps_a_base_package_and_reset_brings_it_back() {
    with_repo(Options::default(), APP, |bed, _| {
        let v1 = bed.world("CSUM_V1");
        let before = (snapshot(bed), pkgcache_refs(bed));
        // Not in the base, and that very NEVRA in the base: refused.
        let new = copy_of(bed, "tp-base-new-1.0-1").display().to_string();
        let err = fails(bed, &["override", "replace", &new]);
        assert!(
            err.contains(
                "No package 'tp-base-new' in the base to replace with tp-base-new-1.0-1.noarch"
            ),
            "{err}"
        );
        let same = copy_of(bed, "tp-base-core-1.0-1").display().to_string();
        let err = fails(bed, &["override", "replace", &same]);
        assert!(
            err.contains("Package 'tp-base-core-1.0-1.noarch' is already in the base"),
            "{err}"
        );
        assert_eq!((snapshot(bed), pkgcache_refs(bed)), before);
        // An upgrade (tp-base-a 1.0 -> 2.0) and a downgrade (tp-base-b 2.0 -> 1.5).
        let a2 = copy_of(bed, "tp-base-a-2.0-1").display().to_string();
        let b15 = copy_of(bed, "tp-base-b-1.5-1").display().to_string();
        let out = ok(bed, &["override", "replace", &a2, &b15]);
        assert!(
            out.contains("Use \"rpm-ostree override reset\" to undo overrides"),
            "{out}"
        );
        let d = &deployments(bed)[0];
        assert_eq!(dict_str(d, "base-checksum"), Some(v1.clone()));
        let mut requested = strv(d, "requested-base-local-replacements");
        requested.sort();
        assert_eq!(
            requested,
            ["tp-base-a-2.0-1.noarch", "tp-base-b-1.5-1.noarch"]
        );
        let replacements = &d["base-local-replacements"];
        assert_eq!(replacements.n_children(), 2);
        let root = root_of(bed, d);
        let qa = rpm_qa(&root);
        assert!(qa.contains(&"tp-base-a-2.0-1.noarch".to_string()), "{qa:?}");
        assert!(qa.contains(&"tp-base-b-1.5-1.noarch".to_string()), "{qa:?}");
        assert!(
            !qa.contains(&"tp-base-a-1.0-1.noarch".to_string()),
            "{qa:?}"
        );
        assert_eq!(
            std::fs::read_to_string(root.join("usr/share/tp-base-a/version")).unwrap(),
            "tp-base-a 2.0-1\n"
        );
        assert!(root.join("usr/share/tp-base-a/changes").is_file());
        let status = ok(bed, &["status"]);
        let json = ok(bed, &["status", "--json"]);
        assert!(
            status.contains(
                "           LocalOverrides: tp-base-a 1.0-1 -> 2.0-1, tp-base-b 2.0-1 -> 1.5-1\n"
            ),
            "{status}{json}"
        );
        let json: serde_json::Value = serde_json::from_str(&json).unwrap();
        let pairs = json["deployments"][0]["base-local-replacements"]
            .as_array()
            .unwrap()
            .clone();
        assert!(
            pairs
                .iter()
                .any(|p| p[0][0] == "tp-base-a-2.0-1.noarch" && p[1][0] == "tp-base-a-1.0-1.noarch"),
            "{pairs:?}"
        );
        let err = fails(bed, &["override", "remove", "tp-base-a"]);
        assert!(
            err.contains("Override already exists for package 'tp-base-a'"),
            "{err}"
        );
        // Reset one by name.
        ok(bed, &["override", "reset", "tp-base-b"]);
        let d = &deployments(bed)[0];
        assert_eq!(
            strv(d, "requested-base-local-replacements"),
            ["tp-base-a-2.0-1.noarch"]
        );
        // v2 ships tp-base-a 2.0-1: the replacement is inactive, and kept.
        bed.set_head(2);
        let out = ok(bed, &["upgrade"]);
        assert!(out.contains("Inactive base replacements:"), "{out}");
        let d = &deployments(bed)[0];
        assert_eq!(
            strv(d, "requested-base-local-replacements"),
            ["tp-base-a-2.0-1.noarch"]
        );
        assert_eq!(d["base-local-replacements"].n_children(), 0);
        let verbose = ok(bed, &["status", "-v"]);
        assert!(
            verbose.contains("InactiveLocalOverrides: tp-base-a-2.0-1.noarch"),
            "{verbose}"
        );
        ok(bed, &["override", "reset", "--all"]);
        let d = &deployments(bed)[0];
        assert!(strv(d, "requested-base-local-replacements").is_empty());
        assert_eq!(dict_str(d, "checksum"), Some(bed.world("CSUM_V2")));
        no_layer_workdirs(bed);
        fsck(bed);
    });
}

#[test]
fn local_rpms_work_on_a_booted_system() {
    let opts = Options {
        booted: true,
        ..Default::default()
    };
    with_repo(opts, APP, |bed, _| {
        let tool = copy_of(bed, "tp-tool-1.0-1").display().to_string();
        ok(bed, &["install", &tool]);
        let d = &deployments(bed)[0];
        assert_eq!(d["staged"].get::<bool>(), Some(true));
        assert_eq!(
            strv(d, "requested-local-packages"),
            ["tp-tool-1.0-1.noarch"]
        );
        assert!(root_of(bed, d).join("usr/bin/tp-tool").is_file());
        ok(bed, &["reset", "-l"]);
        let d = &deployments(bed)[0];
        assert!(strv(d, "requested-local-packages").is_empty());
        fsck(bed);
    });
}
