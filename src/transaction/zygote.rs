//! The helpers' zygote: a process forked from the daemon at startup, before any
//! thread or GLib state exists, that forks each transaction helper (pull,
//! prune) on request. A forked helper starts in well under a millisecond where
//! executing `rpm-ostreed` again costs the loading and relocation of libostree
//! and its sixty libraries (about 13 ms, on the critical path of every pull).
//!
//! Protocol, over a SOCK_SEQPACKET pair: the daemon sends `VERB\0SPEC` with the
//! write end of the helper's stdout pipe attached; the zygote answers `ok` with
//! a pidfd of the helper attached (or an error text). The helper's parent is
//! the zygote, which reaps it; the daemon kills it through the pidfd. The
//! zygote dies with the daemon (parent-death signal, and end of file on its
//! socket), and the helpers die with the zygote.

use std::io::{Error, Result};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::process::ExitCode;
use std::sync::Mutex;

/// The daemon's end of the socket, once the zygote runs.
static ZYGOTE: Mutex<Option<OwnedFd>> = Mutex::new(None);

/// Runs a helper verb in this process; returns its exit code.
pub type HelperMain = fn(&[std::ffi::OsString]) -> ExitCode;

fn check(ret: libc::c_int) -> Result<libc::c_int> {
    if ret < 0 {
        Err(Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// A control buffer with room for one descriptor.
fn fd_control() -> Vec<u8> {
    // SAFETY: CMSG_SPACE only computes a size.
    vec![0u8; unsafe { libc::CMSG_SPACE(std::mem::size_of::<RawFd>() as u32) } as usize]
}

/// A message header over one buffer and a control buffer; both must outlive
/// its use.
fn header(iov: &mut libc::iovec, control: &mut [u8]) -> libc::msghdr {
    // SAFETY: msghdr is plain data; all-zero is a valid empty header.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr() as *mut libc::c_void;
    msg.msg_controllen = control.len();
    msg
}

/// Sends `data` with `fd` attached.
fn send_with_fd(sock: RawFd, data: &[u8], fd: RawFd) -> Result<()> {
    let mut iov = libc::iovec {
        iov_base: data.as_ptr() as *mut libc::c_void,
        iov_len: data.len(),
    };
    let mut control = fd_control();
    let msg = header(&mut iov, &mut control);
    // SAFETY: the control buffer has room for one header carrying one fd.
    unsafe {
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        (*cmsg).cmsg_level = libc::SOL_SOCKET;
        (*cmsg).cmsg_type = libc::SCM_RIGHTS;
        (*cmsg).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<RawFd>() as u32) as usize;
        std::ptr::write_unaligned(libc::CMSG_DATA(cmsg) as *mut RawFd, fd);
        check(libc::sendmsg(sock, &msg, libc::MSG_NOSIGNAL) as libc::c_int)?;
    }
    Ok(())
}

/// Receives a message and the fd attached to it, if any. `None` at end of file.
fn recv_with_fd(sock: RawFd) -> Result<Option<(Vec<u8>, Option<OwnedFd>)>> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr() as *mut libc::c_void,
        iov_len: buf.len(),
    };
    let mut control = fd_control();
    let mut msg = header(&mut iov, &mut control);
    // SAFETY: buffers as described in `msg`; the kernel fills them.
    let n = unsafe { libc::recvmsg(sock, &mut msg, libc::MSG_CMSG_CLOEXEC) };
    if n < 0 {
        return Err(Error::last_os_error());
    }
    if n == 0 {
        return Ok(None);
    }
    buf.truncate(n as usize);
    let mut fd = None;
    // SAFETY: walks the control messages the kernel wrote; an SCM_RIGHTS
    // payload holds a descriptor now owned by this process.
    unsafe {
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        if !cmsg.is_null()
            && (*cmsg).cmsg_level == libc::SOL_SOCKET
            && (*cmsg).cmsg_type == libc::SCM_RIGHTS
        {
            let raw = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg) as *const RawFd);
            fd = Some(OwnedFd::from_raw_fd(raw));
        }
    }
    Ok(Some((buf, fd)))
}

/// Forks the zygote. Call early in `main`, while the process has one thread
/// and no GLib state; `helpers` maps a verb to its entry point. Without a zygote (fork
/// failed, or the `RPMOSTREE_TEST_NO_ZYGOTE` hook) helpers are executed the
/// slow way.
pub fn start(helpers: &'static [(&'static str, HelperMain)]) {
    if crate::config::Hooks::from_env().no_zygote {
        return;
    }
    let mut fds = [0 as RawFd; 2];
    // SAFETY: socketpair fills two descriptors on success.
    let made = unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    };
    if made < 0 {
        return;
    }
    // SAFETY: both descriptors were just created and are owned here.
    let (daemon_end, zygote_end) =
        unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: the process is single-threaded here (the caller's contract), so
    // the child may run arbitrary code.
    match unsafe { libc::fork() } {
        -1 => {}
        0 => {
            drop(daemon_end);
            // SAFETY: prctl/getppid/_exit are plain system calls.
            unsafe {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                if libc::getppid() != parent {
                    libc::_exit(0);
                }
            }
            serve(zygote_end, helpers);
        }
        _ => {
            drop(zygote_end);
            *ZYGOTE.lock().unwrap_or_else(|e| e.into_inner()) = Some(daemon_end);
        }
    }
}

/// Names this process (what `ps` and `top` show; at most 15 bytes).
fn set_name(name: &str) {
    if let Ok(c) = std::ffi::CString::new(name) {
        // SAFETY: PR_SET_NAME reads a NUL-terminated string.
        unsafe { libc::prctl(libc::PR_SET_NAME, c.as_ptr()) };
    }
}

/// The zygote's loop: fork a helper per request, reap the ones that ended.
fn serve(sock: OwnedFd, helpers: &[(&str, HelperMain)]) -> ! {
    set_name("rpm-ostreed-zyg");
    // Idle nearly all the time: keep only what is ours.
    crate::memory::trim();
    let devnull = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
        .ok();
    if let Some(n) = &devnull {
        // SAFETY: dup2 onto the standard descriptors.
        unsafe {
            libc::dup2(n.as_raw_fd(), 0);
        }
    }
    let mut children: Vec<(libc::pid_t, OwnedFd)> = Vec::new();
    loop {
        let mut pfds: Vec<libc::pollfd> = std::iter::once(sock.as_raw_fd())
            .chain(children.iter().map(|(_, fd)| fd.as_raw_fd()))
            .map(|fd| libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            })
            .collect();
        // SAFETY: a valid pollfd array.
        unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, -1) };
        // Helpers that ended (their pidfd is readable): reap them.
        let ended: Vec<usize> = (1..pfds.len()).filter(|&i| pfds[i].revents != 0).collect();
        for i in ended.into_iter().rev() {
            let (pid, _fd) = children.remove(i - 1);
            // SAFETY: reaps our own child.
            unsafe { libc::waitpid(pid, std::ptr::null_mut(), 0) };
        }
        if pfds[0].revents == 0 {
            continue;
        }
        match recv_with_fd(sock.as_raw_fd()) {
            Ok(Some((req, Some(out)))) => {
                let reply = fork_helper(&req, out, &sock, devnull.as_ref(), helpers);
                match reply {
                    Ok((pid, pidfd)) => {
                        let kept = pidfd.try_clone();
                        let _ = send_with_fd(sock.as_raw_fd(), b"ok", pidfd.as_raw_fd());
                        match kept {
                            Ok(k) => children.push((pid, k)),
                            // SAFETY: reaps our own child, which then cannot
                            // be waited for through a pidfd.
                            Err(_) => unsafe {
                                libc::waitpid(pid, std::ptr::null_mut(), 0);
                            },
                        }
                    }
                    Err(e) => {
                        let msg = format!("error {e}");
                        // SAFETY: a plain send on our socket.
                        unsafe {
                            libc::send(
                                sock.as_raw_fd(),
                                msg.as_ptr() as *const libc::c_void,
                                msg.len(),
                                libc::MSG_NOSIGNAL,
                            )
                        };
                    }
                }
            }
            Ok(Some(_)) => {}
            // The daemon is gone: so are we (without running anything the
            // daemon's libraries registered to run at exit).
            // SAFETY: terminates this process.
            _ => unsafe { libc::_exit(0) },
        }
    }
}

fn fork_helper(
    req: &[u8],
    out: OwnedFd,
    sock: &OwnedFd,
    devnull: Option<&std::fs::File>,
    helpers: &[(&str, HelperMain)],
) -> Result<(libc::pid_t, OwnedFd)> {
    let text = String::from_utf8_lossy(req);
    let (verb, spec) = text
        .split_once('\0')
        .ok_or_else(|| Error::other("malformed request"))?;
    let main = helpers
        .iter()
        .find(|(v, _)| *v == verb)
        .map(|(_, m)| *m)
        .ok_or_else(|| Error::other(format!("unknown helper {verb}")))?;
    let zygote = std::process::id() as libc::pid_t;
    // SAFETY: the zygote is single-threaded.
    let pid = check(unsafe { libc::fork() })?;
    if pid == 0 {
        // SAFETY: plain system calls setting up the helper's process state.
        unsafe {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            if libc::getppid() != zygote {
                libc::_exit(1);
            }
            libc::dup2(out.as_raw_fd(), 1);
            if let Some(n) = devnull {
                libc::dup2(n.as_raw_fd(), 2);
            }
            libc::close(sock.as_raw_fd());
        }
        drop(out);
        set_name(verb);
        let args: Vec<std::ffi::OsString> = ["rpm-ostreed", verb, spec].map(Into::into).to_vec();
        let code = main(&args);
        // Flush what the helper printed, then leave without running the
        // zygote's destructors.
        let _ = std::io::Write::flush(&mut std::io::stdout());
        // SAFETY: terminates this process.
        unsafe { libc::_exit(if code == ExitCode::SUCCESS { 0 } else { 1 }) };
    }
    drop(out);
    // SAFETY: pidfd_open of our own, not yet reaped, child.
    let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) } as libc::c_int;
    if pidfd < 0 {
        let e = Error::last_os_error();
        // SAFETY: kill and reap our own child.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
            libc::waitpid(pid, std::ptr::null_mut(), 0);
        }
        return Err(e);
    }
    // SAFETY: a descriptor just returned by the kernel.
    Ok((pid, unsafe { OwnedFd::from_raw_fd(pidfd) }))
}

/// Asks the zygote for helper `verb` writing to `out`; returns its pidfd, or
/// `None` when there is no zygote (it then stays unused).
pub(crate) fn spawn(verb: &str, spec: &str, out: &OwnedFd) -> Option<OwnedFd> {
    let mut guard = ZYGOTE.lock().unwrap_or_else(|e| e.into_inner());
    let sock = guard.as_ref()?.as_raw_fd();
    let request = format!("{verb}\0{spec}");
    let reply =
        send_with_fd(sock, request.as_bytes(), out.as_raw_fd()).and_then(|_| recv_with_fd(sock));
    match reply {
        Ok(Some((text, Some(pidfd)))) if text == b"ok" => Some(pidfd),
        Ok(Some(_)) => None,
        // The zygote died: execute helpers from now on.
        _ => {
            *guard = None;
            None
        }
    }
}

/// Sends SIGKILL through a pidfd.
pub(crate) fn kill(pidfd: &OwnedFd) {
    // SAFETY: pidfd_send_signal with a valid pidfd and no siginfo.
    unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            libc::SIGKILL,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        );
    }
}

/// Waits (bounded) until the process behind `pidfd` has ended.
pub(crate) fn wait_ended(pidfd: &OwnedFd, timeout_ms: i32) {
    let mut p = libc::pollfd {
        fd: pidfd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    unsafe { libc::poll(&mut p, 1, timeout_ms) };
}
