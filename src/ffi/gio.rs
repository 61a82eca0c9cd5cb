//! GIO calls that hand over raw file descriptors.

use gio::prelude::*;
use std::os::fd::{FromRawFd, OwnedFd};

/// Duplicates of the descriptors a D-Bus message carries, in index order.
pub(crate) fn descriptors(message: &gio::DBusMessage) -> Vec<OwnedFd> {
    let Some(list) = message.unix_fd_list() else {
        return Vec::new();
    };
    (0..list.length())
        .filter_map(|i| list.get(i).ok())
        // SAFETY: g_unix_fd_list_get returns a new duplicate that the caller owns.
        .map(|fd| unsafe { OwnedFd::from_raw_fd(fd) })
        .collect()
}
