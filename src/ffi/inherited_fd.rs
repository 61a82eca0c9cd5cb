//! Taking ownership of a descriptor a parent process handed down at a fixed
//! number (`rpm-ostree shlib-backend` gets its socket as fd 3).

use std::os::fd::{FromRawFd, OwnedFd, RawFd};

/// The descriptor `fd`, owned, if it is open. Call it first thing in a
/// program that is handed `fd` by its parent, before anything else could
/// have opened a file: then an open `fd` is the parent's, and nothing else
/// in the process refers to it.
pub(crate) fn take(fd: RawFd) -> Option<OwnedFd> {
    // SAFETY: F_GETFD only reads the descriptor flags of `fd`; it touches no
    // memory and fails with EBADF when `fd` is not open.
    let open = unsafe { libc::fcntl(fd, libc::F_GETFD) } != -1;
    // SAFETY: `fd` is open, and by this function's contract it was inherited
    // and nothing else in the process owns it, so the OwnedFd is its only owner.
    open.then(|| unsafe { OwnedFd::from_raw_fd(fd) })
}
