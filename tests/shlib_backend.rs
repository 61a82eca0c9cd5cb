//! `rpm-ostree shlib-backend`, called the way upstream's librpmostree-1 calls
//! it (`_rpmostree_shlib_ipc_send`): a GSubprocessLauncher that hands one end
//! of a socket pair down as fd 3, silences stdout and collects stderr, runs
//! `rpm-ostree` from PATH (in the repository's directory, named
//! `/proc/self/fd/N`, for `packagelist-from-commit`), then receives one byte
//! (0xFF) with one descriptor, reads the memfd and parses the GVariant.

mod common;

use common::*;
use std::io::IoSliceMut;
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::process::Command;

use rustix::net::{
    AddressFamily, RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, SocketFlags, SocketType,
};

/// What a shlib-backend call gives: the reply, or the failure with stderr.
fn shlib_ipc_send(
    socket_type: SocketType,
    reply_type: &str,
    args: &[&str],
    wd: Option<&Path>,
) -> Result<glib::Variant, String> {
    // Upstream searches the caller's PATH; the test cannot change its own,
    // so the search is in the child's (SEARCH_PATH_FROM_ENVP).
    let launcher = gio::SubprocessLauncher::new(
        gio::SubprocessFlags::STDOUT_SILENCE
            | gio::SubprocessFlags::STDERR_PIPE
            | gio::SubprocessFlags::SEARCH_PATH_FROM_ENVP,
    );
    let (mine, theirs) =
        rustix::net::socketpair(AddressFamily::UNIX, socket_type, SocketFlags::CLOEXEC, None)
            .unwrap();
    launcher.take_fd(theirs, 3);
    // The repository as upstream names it: its directory descriptor.
    let dir = wd.map(|p| std::fs::File::open(p).unwrap());
    if let Some(d) = &dir {
        launcher.set_cwd(format!("/proc/self/fd/{}", d.as_raw_fd()));
    }
    // `rpm-ostree` on PATH is the binary under test (beside its rpm-ostreed).
    let bin_dir = Path::new(BIN).parent().unwrap();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap());
    launcher.setenv("PATH", &path, true);
    let mut argv: Vec<&std::ffi::OsStr> = vec!["rpm-ostree".as_ref(), "shlib-backend".as_ref()];
    argv.extend(args.iter().map(|a| std::ffi::OsStr::new(*a)));
    let proc = launcher.spawn(&argv).map_err(|e| e.to_string())?;
    // The launcher holds our copy of the child's end: without it, a child
    // that sent nothing leaves an end-of-file to read, not a hang.
    drop(launcher);
    let (_, stderr) = proc.communicate_utf8(None, gio::Cancellable::NONE).unwrap();
    drop(dir);
    if !proc.is_successful() {
        return Err(stderr.map(|s| s.to_string()).unwrap_or_default());
    }
    let memfd = receive_fd(&mine);
    let len = rustix::fs::fstat(&memfd).unwrap().st_size as usize;
    let mut data = vec![0u8; len];
    std::fs::File::from(memfd)
        .read_exact_at(&mut data, 0)
        .unwrap();
    let ty = glib::VariantTy::new(reply_type).unwrap();
    Ok(glib::Variant::from_bytes_with_type(&glib::Bytes::from_owned(data), ty).normal_form())
}

/// The one descriptor that came with the one byte 0xFF.
fn receive_fd(socket: &OwnedFd) -> OwnedFd {
    let mut byte = [0u8; 1];
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(2))];
    let mut control = RecvAncillaryBuffer::new(&mut space);
    let got = rustix::net::recvmsg(
        socket,
        &mut [IoSliceMut::new(&mut byte)],
        &mut control,
        RecvFlags::CMSG_CLOEXEC,
    )
    .unwrap();
    assert_eq!((got.bytes, byte[0]), (1, 0xFF));
    let mut fds: Vec<OwnedFd> = Vec::new();
    for m in control.drain() {
        if let RecvAncillaryMessage::ScmRights(r) = m {
            fds.extend(r);
        }
    }
    assert_eq!(fds.len(), 1, "one descriptor");
    let seals = rustix::fs::fcntl_get_seals(&fds[0]).unwrap();
    use rustix::fs::SealFlags;
    let all = SealFlags::SHRINK | SealFlags::GROW | SealFlags::WRITE | SealFlags::SEAL;
    assert!(seals.contains(all), "sealed: {seals:?}");
    fds.pop().unwrap()
}

/// A commit of an empty tree in `repo`, with extra `ostree commit` arguments.
fn empty_commit(bed: &Bed, repo: &str, branch: &str, extra: &[&str]) -> String {
    let dir = bed.tb.join(format!("tree-{branch}"));
    std::fs::create_dir_all(dir.join("usr/bin")).unwrap();
    let mut cmd = Command::new("ostree");
    cmd.args([
        &format!("--repo={repo}"),
        "commit",
        &format!("--branch={branch}"),
        &format!("--tree=dir={}", dir.display()),
    ])
    .args(extra);
    let out = run_ok(&mut cmd);
    std::fs::remove_dir_all(&dir).unwrap();
    out.trim().to_string()
}

/// (name, epoch, version, release, arch), as the reply carries it.
type Nevra = (String, String, String, String, String);

fn packages(v: &glib::Variant) -> Option<Vec<Nevra>> {
    v.as_maybe().map(|list| list.get().expect("a(sssss)"))
}

#[test]
fn basearch_verbs_answer_as_upstreams_library_expects() {
    let arch = rpmostree_pkglist::arch::basearch();
    if std::env::consts::ARCH == "x86_64" {
        assert_eq!(arch, "x86_64");
    }
    for socket_type in [SocketType::STREAM, SocketType::SEQPACKET] {
        let v = shlib_ipc_send(socket_type, "s", &["get-basearch"], None).unwrap();
        assert_eq!(v.str(), Some(arch));
        let v = shlib_ipc_send(
            socket_type,
            "s",
            &["varsubst-basearch", "https://example.com/${basearch}/os/"],
            None,
        )
        .unwrap();
        assert_eq!(
            v.str(),
            Some(format!("https://example.com/{arch}/os/").as_str())
        );
    }
    let err = shlib_ipc_send(
        SocketType::STREAM,
        "s",
        &["varsubst-basearch", "u/${releasever}"],
        None,
    )
    .unwrap_err();
    assert_eq!(
        err.trim(),
        "error: Unknown variable reference ${releasever}"
    );
    let err = shlib_ipc_send(SocketType::STREAM, "s", &["frob"], None).unwrap_err();
    assert_eq!(err.trim(), "error: unknown shlib-backend frob");
    // Without the socket (someone typing the command): a clear error.
    let typed = |redirect: &str| {
        let script = format!("exec 3{redirect}; exec \"$0\" shlib-backend get-basearch");
        let (code, _, err) = run(Command::new("sh").args(["-c", &script, BIN]));
        (code, err.trim().to_string())
    };
    let err = |e: &str| (1, format!("error: The shlib-backend {e}"));
    assert_eq!(typed(">&-"), err("socket (fd 3) is not open"));
    assert_eq!(
        typed("</dev/null"),
        err("descriptor (fd 3) is not a socket")
    );
}

#[test]
fn packagelist_from_commit_reads_the_repository_in_the_working_directory() {
    let opts = Options {
        no_daemon: true,
        ..Options::default()
    };
    with_bed(opts, |bed| {
        let remote = bed.world("REMOTE");
        let (v1, v3) = (bed.world("CSUM_V1"), bed.world("CSUM_V3"));
        let repo = Path::new(&remote);
        let list = |rev: &str, ty| {
            let args = ["packagelist-from-commit", rev];
            packages(&shlib_ipc_send(ty, "ma(sssss)", &args, Some(repo)).unwrap())
        };
        // The rpm database of the tree: what `rpm-ostree db list` lists.
        for rev in [v1.as_str(), v3.as_str(), "testos/stable/x86_64"] {
            let pkgs = list(rev, SocketType::STREAM).expect("a package list");
            let nevras: Vec<String> = pkgs
                .iter()
                .map(|(n, e, v, r, a)| match e.as_str() {
                    "0" => format!(" {n}-{v}-{r}.{a}"),
                    _ => format!(" {n}-{e}:{v}-{r}.{a}"),
                })
                .collect();
            let out = run_ok(Command::new(BIN).args(["db", "list", "-r", &remote, rev]));
            let listed: Vec<&str> = out.lines().skip(1).collect();
            assert_eq!(nevras, listed, "{rev}");
            assert_eq!(list(rev, SocketType::SEQPACKET), Some(pkgs));
        }
        // The package list of the commit metadata, when there is one.
        let meta = "rpmostree.rpmdb.pkglist=[('bar', '2', '3.0', '1', 'noarch'), \
                    ('foo', '0', '1.0', '1.fc39', 'x86_64')]";
        let with_meta = empty_commit(bed, &remote, "meta", &["--add-metadata", meta]);
        let expected = [
            ("bar", "2", "3.0", "1", "noarch"),
            ("foo", "0", "1.0", "1.fc39", "x86_64"),
        ]
        .map(|(a, b, c, d, e)| (a.into(), b.into(), c.into(), d.into(), e.into()))
        .to_vec();
        assert_eq!(list(&with_meta, SocketType::STREAM), Some(expected));
        // No package database at all: nothing (upstream's "allow noent").
        let bare = empty_commit(bed, &remote, "nodb", &[]);
        assert_eq!(list(&bare, SocketType::STREAM), None);
        // A revision that is not there: a failure naming it.
        let err = shlib_ipc_send(
            SocketType::STREAM,
            "ma(sssss)",
            &["packagelist-from-commit", "no/such/ref"],
            Some(repo),
        )
        .unwrap_err();
        assert!(err.contains("no/such/ref"), "{err}");
    });
}
