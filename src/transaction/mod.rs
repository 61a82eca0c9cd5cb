//! The transaction manager (main thread): one active slot.

use glib::Variant;
use glib::prelude::*;

#[derive(Default)]
pub(crate) struct Manager {}

impl Manager {
    pub(crate) fn is_active(&self) -> bool {
        false
    }

    /// Values of `ActiveTransaction` and `ActiveTransactionPath`.
    pub(crate) fn active_property_values(&self) -> (Variant, String) {
        (("", "", "").to_variant(), String::new())
    }
}

impl Manager {
    /// Cancels whatever is running (daemon shutdown).
    pub(crate) fn cancel_all(&self) {}
}
