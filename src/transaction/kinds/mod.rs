//! Transaction kinds: one file per kind. A kind is the owned, `Send`
//! description of the work, built on the main thread from a parsed call and
//! executed in the worker on a [`Ctx`]; it never sees D-Bus types.

use anyhow::Result;

pub(crate) use crate::deployment::Ctx;

pub(crate) mod cleanup;
pub(crate) mod deploy;
pub(crate) mod finalize;
pub(crate) mod initramfs;
pub(crate) mod kargs;
pub(crate) mod layer;
pub(crate) mod local;
pub(crate) mod rollback;
pub(crate) mod rpmmd;
mod stages;

/// How a successful transaction ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Outcome {
    /// Reboot after `Finished` (the `reboot` option, and something changed).
    pub reboot: bool,
}

pub(crate) trait Kind: Send {
    /// A title known only at execution start (replaces the creation title).
    fn execution_title(&self) -> Option<String> {
        None
    }

    /// Send progress to the daemon's own log instead of the peers.
    fn output_to_self(&self) -> bool {
        false
    }

    /// Whether it reboots when done (then logind's inhibitors are checked
    /// before it starts).
    fn reboots(&self) -> bool {
        false
    }

    fn execute(&self, ctx: &Ctx) -> Result<Outcome>;
}
