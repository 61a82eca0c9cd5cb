//! `rpm-ostree reload` (re-read the daemon configuration) and `testutils moo`.

use anyhow::{Result, anyhow};
use glib::prelude::*;

use super::Context;
use crate::client::Exit;
use crate::client::cli::{SimpleArgs, TestutilsCmd};
use crate::client::connection::{self, call, clean_error};
use crate::names;

pub(crate) fn run(a: SimpleArgs, _ctx: &Context) -> Result<Exit> {
    let client = connection::connect(&a.daemon, None)?;
    call(
        &client.bus,
        names::SYSROOT_PATH,
        names::IFACE_SYSROOT,
        "ReloadConfig",
        None,
        true,
    )
    .map_err(|e| anyhow!("{}", clean_error(&e)))?;
    Ok(Exit::Ok)
}

pub(crate) fn testutils(t: TestutilsCmd, _ctx: &Context) -> Result<Exit> {
    match t {
        TestutilsCmd::Moo(a) => {
            let client = connection::connect(&a.daemon, None)?;
            let r = call(
                &client.bus,
                &client.os_path,
                names::IFACE_OS_EXPERIMENTAL,
                "Moo",
                Some(&(true,).to_variant()),
                false,
            )
            .map_err(|e| anyhow!("{}", clean_error(&e)))?;
            print!("{}", r.child_value(0).str().unwrap_or_default());
            Ok(Exit::Ok)
        }
    }
}
