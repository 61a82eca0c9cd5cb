//! Boot configuration: kernel arguments, initramfs regeneration (the tree's own
//! dracut in bubblewrap, its image in a layered commit) and /etc files in an
//! overlay initramfs, checked in the boot entries libostree writes. Booted and
//! offline.

mod common;

use common::*;
use glib::prelude::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn txn(bed: &Bed, method: &str, args: &str) -> (i32, Vec<Value>) {
    bed.txn_client(None, &["--bus-call", OS_PATH, IFACE_OS, method, args])
}

fn message_of(events: &[Value]) -> String {
    events
        .iter()
        .find(|e| e["event"] == "finished")
        .and_then(|e| e["message"].as_str())
        .unwrap_or_default()
        .to_string()
}

/// Key/values of the default boot entry (the highest `version`).
fn default_entry(bed: &Bed) -> Vec<(String, String)> {
    let dir = bed.sysroot().join("boot/loader/entries");
    let mut best: Option<(u64, Vec<(String, String)>)> = None;
    for e in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(e.unwrap().path()).unwrap();
        let kv: Vec<(String, String)> = text
            .lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(k, v)| (k.to_string(), v.trim().to_string()))
            .collect();
        let version: u64 = kv
            .iter()
            .find(|(k, _)| k == "version")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        if best.as_ref().is_none_or(|(b, _)| version > *b) {
            best = Some((version, kv));
        }
    }
    best.unwrap().1
}

fn entry_values(entry: &[(String, String)], key: &str) -> Vec<String> {
    entry
        .iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
        .collect()
}

/// The `options` line without libostree's own `ostree=` argument.
fn user_kargs(options: &str) -> String {
    options
        .split_whitespace()
        .filter(|a| !a.starts_with("ostree="))
        .collect::<Vec<_>>()
        .join(" ")
}

fn boot_config(bed: &Bed) -> Dict {
    let r = call(
        &bed.conn,
        OS_PATH,
        IFACE_OS,
        "GetDeploymentBootConfig",
        Some(&("", true).to_variant()),
    )
    .unwrap();
    r.child_value(0).get().unwrap()
}

fn n_deployments(bed: &Bed) -> usize {
    bed.sysroot_props()["Deployments"]
        .get::<Vec<Dict>>()
        .unwrap()
        .len()
}

fn kernel_args(booted: bool) {
    with_bed(
        Options {
            booted,
            ..Default::default()
        },
        |bed| {
            let existing = dict_str(&boot_config(bed), "options").unwrap();
            assert_eq!(user_kargs(&existing), "root=LABEL=root rw");
            let args = format!(
                "('{existing}', ['console=ttyS0', 'quiet', 'loglevel=3'], ['rw=ro'], @as [], {{'append-if-missing': <['quiet', 'nomodeset']>, 'delete-if-present': <['absent', 'loglevel']>}})"
            );
            let (code, ev) = txn(bed, "KernelArgs", &args);
            assert_eq!(code, 0, "{ev:?}");
            let expected = "root=LABEL=root rw=ro console=ttyS0 quiet nomodeset";
            let conf = boot_config(bed);
            assert_eq!(user_kargs(&dict_str(&conf, "options").unwrap()), expected);
            assert_eq!(conf["staged"].get::<bool>(), Some(booted));
            if !booted {
                // Offline deployments are written: the boot entry has them.
                let entry = default_entry(bed);
                assert_eq!(user_kargs(&entry_values(&entry, "options")[0]), expected);
            }
            assert_eq!(n_deployments(bed), 2);
            // Replace a value, delete one.
            let existing = dict_str(&boot_config(bed), "options").unwrap();
            let args = format!(
                "('{existing}', @as [], ['console=ttyS0=ttyS1'], ['quiet'], @a{{sv}} {{}})"
            );
            let (code, ev) = txn(bed, "KernelArgs", &args);
            assert_eq!(code, 0, "{ev:?}");
            assert_eq!(
                user_kargs(&dict_str(&boot_config(bed), "options").unwrap()),
                "root=LABEL=root rw=ro console=ttyS1 nomodeset"
            );
            // Nothing to do: "No changes.", no new deployment.
            let before = n_deployments(bed);
            let existing = dict_str(&boot_config(bed), "options").unwrap();
            let args = format!(
                "('{existing}', @as [], @as [], @as [], {{'append-if-missing': <['nomodeset']>}})"
            );
            let (code, ev) = txn(bed, "KernelArgs", &args);
            assert_eq!(code, 0);
            assert!(
                ev.iter()
                    .any(|e| e["name"] == "Message" && e["args"][0] == "No changes."),
                "{ev:?}"
            );
            assert_eq!(n_deployments(bed), before);
            // Errors come from libostree and change nothing.
            let status = bed.ostree(&["admin", "status"]);
            let args = format!("('{existing}', @as [], @as [], ['nosuchkey'], @a{{sv}} {{}})");
            let (code, ev) = txn(bed, "KernelArgs", &args);
            assert_eq!(code, 1);
            assert!(message_of(&ev).contains("nosuchkey"), "{ev:?}");
            assert_eq!(bed.ostree(&["admin", "status"]), status);
            // Index semantics of GetDeploymentBootConfig.
            let e = call(
                &bed.conn,
                OS_PATH,
                IFACE_OS,
                "GetDeploymentBootConfig",
                Some(&("x", false).to_variant()),
            )
            .unwrap_err();
            assert_eq!(error_name(&e), "org.projectatomic.rpmostreed.Error.Failed");
            assert_eq!(
                error_message(&e),
                "Invalid deployment index x, must be a number and >= 0"
            );
            let e = call(
                &bed.conn,
                OS_PATH,
                IFACE_OS,
                "GetDeploymentBootConfig",
                Some(&("9", false).to_variant()),
            )
            .unwrap_err();
            assert_eq!(
                error_message(&e),
                format!("Out of range deployment index 9, expected < {before}")
            );
            let first = call(
                &bed.conn,
                OS_PATH,
                IFACE_OS,
                "GetDeploymentBootConfig",
                Some(&("0", false).to_variant()),
            )
            .unwrap();
            let first: Dict = first.child_value(0).get().unwrap();
            assert_eq!(dict_str(&first, "options"), Some(existing));
        },
    );
}

#[test]
fn kernel_args_offline() {
    kernel_args(false);
}

#[test]
fn kernel_args_booted() {
    kernel_args(true);
}

/// The file behind an `initrd` line of a boot entry.
fn boot_file(bed: &Bed, initrd: &str) -> PathBuf {
    bed.sysroot()
        .join("boot")
        .join(initrd.trim_start_matches('/'))
}

/// Booted systems stage: the boot entry appears when the staged deployment is
/// finalized (at shutdown); do that, and start the daemon again.
fn finalize_staged(bed: &Bed) {
    if bed.booted() {
        bed.stop_daemon();
        bed.ostree(&["admin", "finalize-staged"]);
        bed.start_daemon();
    }
}

fn initramfs_regeneration(booted: bool) {
    with_bed(
        Options {
            booted,
            ..Default::default()
        },
        |bed| {
            let (code, ev) = txn(
                bed,
                "SetInitramfsState",
                "(true, ['--add', 'foo', '-I', '/etc/bar'], @a{sv} {})",
            );
            assert_eq!(code, 0, "{ev:?}");
            finalize_staged(bed);
            // The regenerated image is the layered commit's own: the one
            // initrd of the boot entry.
            let entry = default_entry(bed);
            let initrds = entry_values(&entry, "initrd");
            assert_eq!(initrds.len(), 1, "{entry:?}");
            let image = std::fs::read_to_string(boot_file(bed, &initrds[0])).unwrap();
            let d: Dict = bed.os_props()["DefaultDeployment"].get().unwrap();
            assert_eq!(dict_str(&d, "base-checksum"), Some(bed.world("CSUM_V1")));
            let csum = dict_str(&d, "checksum").unwrap();
            let serial = d["serial"].get::<i32>().unwrap();
            let in_tree = bed.sysroot().join(format!(
                "ostree/deploy/testos/deploy/{csum}.{serial}/usr/lib/modules/6.1.0-testos/initramfs.img"
            ));
            assert_eq!(std::fs::read_to_string(in_tree).unwrap(), image);
            // dracut ran without the network and with only the file
            // capabilities it needs (no CAP_SYS_ADMIN, bit 21).
            assert!(image.contains("\nsandbox net: lo\n"), "{image}");
            let caps = image
                .lines()
                .find_map(|l| l.strip_prefix("sandbox caps: "))
                .map(|c| u64::from_str_radix(c, 16).unwrap())
                .expect("caps line");
            assert_eq!(caps & (1 << 21), 0, "{caps:x}");
            assert_ne!(caps, 0x1ff_ffff_ffff, "{caps:x}");
            let d: Dict = bed.os_props()["DefaultDeployment"].get().unwrap();
            assert_eq!(d["regenerate-initramfs"].get::<bool>(), Some(true));
            assert_eq!(
                d["initramfs-args"].get::<Vec<String>>().unwrap(),
                ["--add", "foo", "-I", "/etc/bar"]
            );
            // Already enabled, no new arguments: the contract's error, nothing changes.
            let n = n_deployments(bed);
            let (code, ev) = txn(bed, "SetInitramfsState", "(true, @as [], @a{sv} {})");
            assert_eq!(code, 1);
            assert_eq!(
                message_of(&ev),
                "initramfs regeneration state is already enabled"
            );
            assert_eq!(n_deployments(bed), n);
            // Disabled: back to the base commit and the tree's own image.
            let (code, ev) = txn(bed, "SetInitramfsState", "(false, @as [], @a{sv} {})");
            assert_eq!(code, 0, "{ev:?}");
            finalize_staged(bed);
            let entry = default_entry(bed);
            let initrds = entry_values(&entry, "initrd");
            assert_eq!(initrds.len(), 1, "{entry:?}");
            let image = std::fs::read_to_string(boot_file(bed, &initrds[0])).unwrap();
            assert_eq!(image, "FAKE-INITRAMFS 6.1.0-testos\n");
            let d: Dict = bed.os_props()["DefaultDeployment"].get().unwrap();
            assert_eq!(dict_str(&d, "checksum"), Some(bed.world("CSUM_V1")));
        },
    );
}

#[test]
fn initramfs_regeneration_offline() {
    initramfs_regeneration(false);
}

#[test]
fn initramfs_regeneration_booted() {
    initramfs_regeneration(true);
}

fn cpio_files(path: &Path) -> Vec<(String, Vec<u8>)> {
    // newc: a fixed 110-byte header, the name, data, 4-byte alignment.
    let buf = std::fs::read(path).unwrap();
    let mut out = Vec::new();
    let mut off = 0usize;
    let pad = |n: usize| (4 - n % 4) % 4;
    while off + 110 <= buf.len() && &buf[off..off + 6] == b"070701" {
        let field = |i: usize| {
            u32::from_str_radix(
                std::str::from_utf8(&buf[off + 6 + i * 8..off + 14 + i * 8]).unwrap(),
                16,
            )
            .unwrap() as usize
        };
        let (mode, size, namesize) = (field(1), field(6), field(11));
        let name_start = off + 110;
        let name =
            String::from_utf8_lossy(&buf[name_start..name_start + namesize - 1]).into_owned();
        let data_start = name_start + namesize + pad(110 + namesize);
        let data = buf[data_start..data_start + size].to_vec();
        off = data_start + size + pad(size);
        if name == "TRAILER!!!" {
            break;
        }
        if mode & 0o170000 == 0o100000 {
            out.push((name, data));
        }
    }
    out
}

#[test]
fn tracked_etc_files_travel_in_an_overlay_initramfs() {
    with_bed(Options::default(), |bed| {
        // Offline, files are read from the deployment's /etc.
        let deploy = bed.sysroot().join("ostree/deploy/testos/deploy");
        let etc = deploy.join(format!("{}.0/etc", bed.world("CSUM_V1")));
        std::fs::create_dir_all(etc.join("tracked.d")).unwrap();
        std::fs::write(etc.join("tracked.d/secret.conf"), "key=value\n").unwrap();
        let (code, ev) = txn(
            bed,
            "InitramfsEtc",
            "(['/etc/tracked.d/secret.conf'], @as [], false, false, @a{sv} {})",
        );
        assert_eq!(code, 0, "{ev:?}");
        let entry = default_entry(bed);
        let initrds = entry_values(&entry, "initrd");
        assert_eq!(initrds.len(), 2, "{entry:?}");
        let files = cpio_files(&boot_file(bed, &initrds[1]));
        assert_eq!(
            files,
            vec![(
                "etc/tracked.d/secret.conf".to_string(),
                b"key=value\n".to_vec()
            )]
        );
        let d: Dict = bed.os_props()["DefaultDeployment"].get().unwrap();
        assert_eq!(
            d["initramfs-etc"].get::<Vec<String>>().unwrap(),
            ["/etc/tracked.d/secret.conf"]
        );
        // Tracking it again: "No changes.", no deployment.
        let n = n_deployments(bed);
        let (code, ev) = txn(
            bed,
            "InitramfsEtc",
            "(['/etc/tracked.d/secret.conf'], @as [], false, false, @a{sv} {})",
        );
        assert_eq!(code, 0);
        assert!(
            ev.iter()
                .any(|e| e["name"] == "Message" && e["args"][0] == "No changes."),
            "{ev:?}"
        );
        assert_eq!(n_deployments(bed), n);
        // Outside /etc: refused at call time.
        let (code, ev) = txn(
            bed,
            "InitramfsEtc",
            "(['/usr/etc/passwd'], @as [], false, false, @a{sv} {})",
        );
        assert_eq!(code, 2);
        assert!(
            ev.iter()
                .any(|e| e["message"] == "Path outside /etc forbidden: /usr/etc/passwd"),
            "{ev:?}"
        );
        // Untrack all: the overlay goes away.
        let (code, ev) = txn(
            bed,
            "InitramfsEtc",
            "(@as [], @as [], true, false, @a{sv} {})",
        );
        assert_eq!(code, 0, "{ev:?}");
        assert_eq!(entry_values(&default_entry(bed), "initrd").len(), 1);
    });
}

#[test]
fn booted_initramfs_etc_reads_the_live_etc() {
    with_bed(
        Options {
            booted: true,
            ..Default::default()
        },
        |bed| {
            let (code, ev) = txn(
                bed,
                "InitramfsEtc",
                "(['/etc/debian_version'], @as [], false, false, @a{sv} {})",
            );
            assert_eq!(code, 0, "{ev:?}");
            let d: Dict = bed.os_props()["DefaultDeployment"].get().unwrap();
            assert_eq!(d["staged"].get::<bool>(), Some(true));
            assert_eq!(
                d["initramfs-etc"].get::<Vec<String>>().unwrap(),
                ["/etc/debian_version"]
            );
            // The staged boot configuration lists the overlay; at finalization it is written.
            bed.stop_daemon();
            bed.ostree(&["admin", "finalize-staged"]);
            let entry = default_entry(bed);
            let initrds = entry_values(&entry, "initrd");
            assert_eq!(initrds.len(), 2, "{entry:?}");
            let files = cpio_files(&boot_file(bed, &initrds[1]));
            let expected = std::fs::read("/etc/debian_version").unwrap();
            assert_eq!(files, vec![("etc/debian_version".to_string(), expected)]);
        },
    );
}

#[test]
fn a_regenerated_initramfs_goes_with_layered_packages_and_upgrades() {
    use common::layer::*;
    with_repo(Options::default(), APP, |bed, _| {
        ok(bed, &["install", "tp-tool"]);
        let out = ok(bed, &["initramfs", "--enable", "--arg=--add", "--arg=foo"]);
        assert!(out.contains("Generating initramfs...done"), "{out}");
        let in_tree = |d: &Dict| {
            let path = root_of(bed, d).join("usr/lib/modules/6.1.0-testos/initramfs.img");
            std::fs::read_to_string(path).unwrap()
        };
        let d = &deployments(bed)[0];
        assert_eq!(d["packages"].get::<Vec<String>>().unwrap(), ["tp-tool"]);
        assert!(root_of(bed, d).join("usr/bin/tp-tool").is_file());
        assert!(
            in_tree(d).starts_with("FAKE-INITRAMFS args: --add foo -f /tmp/out/initramfs.img"),
            "{}",
            in_tree(d)
        );
        let status = ok(bed, &["status"]);
        assert!(
            status.contains("                Initramfs: --add foo\n"),
            "{status}"
        );
        // An upgrade regenerates it in the new layered commit.
        bed.set_head(2);
        ok(bed, &["upgrade"]);
        let d = &deployments(bed)[0];
        assert_eq!(dict_str(d, "base-checksum"), Some(bed.world("CSUM_V2")));
        assert!(
            in_tree(d).starts_with("FAKE-INITRAMFS args: --add foo"),
            "{}",
            in_tree(d)
        );
        // dracut failing: its error, and nothing changed.
        let before = snapshot(bed);
        let err = fails(bed, &["initramfs", "--enable", "--arg=--testbed-fail"]);
        assert!(
            err.contains("dracut failed (exit status: 1): dracut: failing on purpose"),
            "{err}"
        );
        assert_eq!(snapshot(bed), before);
        no_layer_workdirs(bed);
        // Disabled: the layer stays, with the tree's own image.
        ok(bed, &["initramfs", "--disable"]);
        let d = &deployments(bed)[0];
        assert_eq!(d["packages"].get::<Vec<String>>().unwrap(), ["tp-tool"]);
        assert_eq!(in_tree(d), "FAKE-INITRAMFS 6.1.0-testos\n");
        fsck(bed);
    });
}
