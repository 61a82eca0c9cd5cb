//! The one error type at the D-Bus edge, carrying the wire error names of the
//! contract, and the one function that turns it into a method reply.

use std::fmt;

pub(crate) const DBUS_ERROR_ACCESS_DENIED: &str = "org.freedesktop.DBus.Error.AccessDenied";
pub(crate) const DBUS_ERROR_FAILED: &str = "org.freedesktop.DBus.Error.Failed";
pub(crate) const DBUS_ERROR_INVALID_ARGS: &str = "org.freedesktop.DBus.Error.InvalidArgs";
pub(crate) const DBUS_ERROR_NOT_SUPPORTED: &str = "org.freedesktop.DBus.Error.NotSupported";
pub(crate) const RPMOSTREED_ERROR_FAILED: &str = "org.projectatomic.rpmostreed.Error.Failed";
pub(crate) const RPMOSTREED_ERROR_INVALID_REFSPEC: &str =
    "org.projectatomic.rpmostreed.Error.InvalidRefspec";

/// An error as a client sees it: either a GIO error (which GDBus sends as
/// `org.gtk.GDBus.UnmappedGError.Quark._g_2dio_2derror_2dquark.Code<N>`), or a
/// named D-Bus error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BusError {
    Gio(gio::IOErrorEnum, String),
    Named(&'static str, String),
}

impl BusError {
    /// GIO FAILED (Code0): what most daemon errors are.
    pub(crate) fn failed(msg: impl Into<String>) -> Self {
        Self::Gio(gio::IOErrorEnum::Failed, msg.into())
    }
    /// GIO BUSY (Code26): a transaction is in progress.
    pub(crate) fn busy(msg: impl Into<String>) -> Self {
        Self::Gio(gio::IOErrorEnum::Busy, msg.into())
    }
    /// GIO NOT_FOUND (Code1).
    pub(crate) fn not_found(msg: impl Into<String>) -> Self {
        Self::Gio(gio::IOErrorEnum::NotFound, msg.into())
    }
    pub(crate) fn invalid_args(msg: impl Into<String>) -> Self {
        Self::Named(DBUS_ERROR_INVALID_ARGS, msg.into())
    }
    pub(crate) fn access_denied(msg: impl Into<String>) -> Self {
        Self::Named(DBUS_ERROR_ACCESS_DENIED, msg.into())
    }
    /// `org.freedesktop.DBus.Error.Failed` (authorization infrastructure errors).
    pub(crate) fn dbus_failed(msg: impl Into<String>) -> Self {
        Self::Named(DBUS_ERROR_FAILED, msg.into())
    }
    pub(crate) fn rpmostreed_failed(msg: impl Into<String>) -> Self {
        Self::Named(RPMOSTREED_ERROR_FAILED, msg.into())
    }
    pub(crate) fn invalid_refspec(msg: impl Into<String>) -> Self {
        Self::Named(RPMOSTREED_ERROR_INVALID_REFSPEC, msg.into())
    }
    /// A method whose work belongs to a later phase of the project.
    pub(crate) fn not_implemented(method: &str) -> Self {
        Self::Named(
            DBUS_ERROR_NOT_SUPPORTED,
            format!("{method} is not implemented yet in this rpm-ostree daemon"),
        )
    }

    pub(crate) fn message(&self) -> &str {
        match self {
            Self::Gio(_, m) | Self::Named(_, m) => m,
        }
    }
}

impl fmt::Display for BusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl From<anyhow::Error> for BusError {
    fn from(e: anyhow::Error) -> Self {
        Self::failed(format!("{e:#}"))
    }
}

impl From<glib::Error> for BusError {
    fn from(e: glib::Error) -> Self {
        Self::failed(e.message().to_string())
    }
}

/// Answers `invocation` with `err`. Every error reply of the daemon goes through here.
pub(crate) fn reply_error(invocation: gio::DBusMethodInvocation, err: BusError) {
    match err {
        BusError::Gio(code, msg) => invocation.return_gerror(glib::Error::new(code, &msg)),
        BusError::Named(name, msg) => invocation.return_dbus_error(name, &msg),
    }
}

/// Answers `invocation` with `result`: the value on success, the error otherwise.
pub(crate) fn reply(
    invocation: gio::DBusMethodInvocation,
    result: Result<glib::Variant, BusError>,
) {
    match result {
        Ok(v) => invocation.return_value(Some(&v)),
        Err(e) => reply_error(invocation, e),
    }
}
