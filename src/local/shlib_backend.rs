//! `rpm-ostree shlib-backend get-basearch|varsubst-basearch SOURCE|
//! packagelist-from-commit COMMIT` (hidden): what upstream's librpmostree-1
//! asks the `rpm-ostree` on PATH. The caller hands a connected Unix socket
//! down as fd 3 (and, for `packagelist-from-commit`, runs us in the
//! repository's directory); the answer is a GVariant (`s`, or `ma(sssss)`:
//! name, epoch, version, release, arch; nothing when the commit has no
//! package database) in a sealed memfd, sent over the socket with
//! SCM_RIGHTS along with the single byte 0xFF.

use anyhow::{Context, Result, anyhow, bail};
use glib::prelude::*;
use std::ffi::OsString;
use std::io::{IoSlice, Seek, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::process::ExitCode;

use rpmostree_pkglist::{arch, pkglist};

/// The descriptor of the reply socket.
const IPC_FD: i32 = 3;
/// The byte that travels with the reply descriptor.
const REPLY_BYTE: u8 = 0xFF;
/// The memfd's name (shown in /proc/PID/fd).
const MEMFD_NAME: &str = "rpm-ostree-shlib-backend";
/// The type of a package list reply.
pub const PKGLIST_TYPE: &str = "ma(sssss)";

/// Entry point of `rpm-ostreed shlib-backend ARGS...` (`rpm-ostree
/// shlib-backend` executes it); `args` start after `shlib-backend`. Must run
/// before the process opens any file (it takes fd 3 over).
pub fn main(args: Vec<OsString>) -> ExitCode {
    let socket = crate::ffi::inherited_fd::take(IPC_FD);
    match run(socket, &args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(socket: Option<OwnedFd>, args: &[OsString]) -> Result<()> {
    let args: Vec<&str> = args
        .iter()
        .map(|a| {
            a.to_str()
                .ok_or_else(|| anyhow!("Argument is invalid UTF-8: {a:?}"))
        })
        .collect::<Result<_>>()?;
    let Some(verb) = args.first() else {
        bail!("missing required subcommand");
    };
    let socket =
        socket.ok_or_else(|| anyhow!("The shlib-backend socket (fd {IPC_FD}) is not open"))?;
    let stat = rustix::fs::fstat(&socket).context("Inspecting the shlib-backend socket")?;
    if rustix::fs::FileType::from_raw_mode(stat.st_mode) != rustix::fs::FileType::Socket {
        bail!("The shlib-backend descriptor (fd {IPC_FD}) is not a socket");
    }
    let operand = || {
        args.get(1)
            .copied()
            .ok_or_else(|| anyhow!("{verb}: missing argument"))
    };
    let reply = match *verb {
        "get-basearch" => arch::basearch().to_variant(),
        "varsubst-basearch" => arch::varsubst_basearch(operand()?)?.to_variant(),
        "packagelist-from-commit" => packagelist_from_commit(operand()?)?,
        other => bail!("unknown shlib-backend {other}"),
    };
    send_reply(&socket, &reply)
}

/// The packages of `rev` in the repository in the working directory.
fn packagelist_from_commit(rev: &str) -> Result<glib::Variant> {
    let repo = ostree::Repo::new_for_path(".");
    repo.open(gio::Cancellable::NONE)
        .context("Opening the repository in the working directory")?;
    let csum = repo
        .resolve_rev(rev, false)?
        .ok_or_else(|| anyhow!("Rev {rev} not found"))?;
    let pkgs = pkglist::commit_packages_if_any(&repo, &csum)?.filter(|p| !p.is_empty());
    Ok(match pkgs {
        Some(p) => glib::Variant::from_some(&pkglist::to_pkglist(&p)),
        None => glib::Variant::from_none(glib::VariantTy::new("a(sssss)").expect("a valid type")),
    })
}

/// Writes `reply` into a sealed memfd and sends that over `socket`.
pub(crate) fn send_reply(socket: &OwnedFd, reply: &glib::Variant) -> Result<()> {
    let memfd = sealed_memfd(reply.data()).context("Writing the reply")?;
    let fds = [memfd.as_fd()];
    let mut space = [std::mem::MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut control = rustix::net::SendAncillaryBuffer::new(&mut space);
    if !control.push(rustix::net::SendAncillaryMessage::ScmRights(&fds)) {
        bail!("Sending the reply: no room for the descriptor");
    }
    let sent = rustix::net::sendmsg(
        socket,
        &[IoSlice::new(&[REPLY_BYTE])],
        &mut control,
        rustix::net::SendFlags::NOSIGNAL,
    )
    .context("Sending the reply")?;
    if sent != 1 {
        bail!("Sending the reply: {sent} bytes sent, not 1");
    }
    Ok(())
}

/// A memfd holding `data`, sealed against every change.
fn sealed_memfd(data: &[u8]) -> Result<OwnedFd> {
    use rustix::fs::{MemfdFlags, SealFlags};
    let fd = rustix::fs::memfd_create(MEMFD_NAME, MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING)?;
    let mut file = std::fs::File::from(fd);
    file.write_all(data)?;
    // Upstream's reader maps the file; one that reads it shares this offset.
    file.seek(std::io::SeekFrom::Start(0))?;
    rustix::fs::fcntl_add_seals(
        &file,
        SealFlags::SHRINK | SealFlags::GROW | SealFlags::WRITE | SealFlags::SEAL,
    )?;
    Ok(file.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_errors() {
        let err = |args: &[&str]| {
            let args: Vec<OsString> = args.iter().map(OsString::from).collect();
            run(None, &args).unwrap_err().to_string()
        };
        assert_eq!(err(&[]), "missing required subcommand");
        assert_eq!(
            err(&["get-basearch"]),
            "The shlib-backend socket (fd 3) is not open"
        );
    }

    #[test]
    fn reply_is_a_sealed_memfd_with_the_variant() {
        use std::io::Read;
        let (ours, theirs) = rustix::net::socketpair(
            rustix::net::AddressFamily::UNIX,
            rustix::net::SocketType::SEQPACKET,
            rustix::net::SocketFlags::CLOEXEC,
            None,
        )
        .unwrap();
        let reply = "x86_64".to_variant();
        send_reply(&theirs, &reply).unwrap();
        let mut byte = [0u8; 1];
        let mut space = [std::mem::MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
        let mut control = rustix::net::RecvAncillaryBuffer::new(&mut space);
        let got = rustix::net::recvmsg(
            &ours,
            &mut [std::io::IoSliceMut::new(&mut byte)],
            &mut control,
            rustix::net::RecvFlags::CMSG_CLOEXEC,
        )
        .unwrap();
        assert_eq!((got.bytes, byte[0]), (1, REPLY_BYTE));
        let mut fds = Vec::new();
        for m in control.drain() {
            if let rustix::net::RecvAncillaryMessage::ScmRights(r) = m {
                fds.extend(r);
            }
        }
        assert_eq!(fds.len(), 1);
        let memfd = fds.pop().unwrap();
        let seals = rustix::fs::fcntl_get_seals(&memfd).unwrap();
        assert!(seals.contains(rustix::fs::SealFlags::WRITE | rustix::fs::SealFlags::SEAL));
        let mut data = Vec::new();
        std::fs::File::from(memfd).read_to_end(&mut data).unwrap();
        assert_eq!(
            glib::Variant::from_data::<String, _>(data).str(),
            Some("x86_64")
        );
    }
}
