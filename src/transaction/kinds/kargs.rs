//! `KernelArgs`: a new deployment of the same commit with changed kernel
//! arguments: delete, replace, append, append-if-missing, delete-if-present.

use anyhow::{Result, anyhow};

use super::{Ctx, Outcome};
use crate::deployment::write::{self, NewDeployment, merge_and_origin};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct KernelArgs {
    pub osname: String,
    /// The arguments the client started from.
    pub existing: String,
    pub added: Vec<String>,
    pub replaced: Vec<String>,
    pub removed: Vec<String>,
    pub append_if_missing: Vec<String>,
    pub delete_if_present: Vec<String>,
    /// The complete new string (editor flow), instead of the edits.
    pub final_kargs: Option<String>,
    pub reboot: bool,
    pub lock_finalization: bool,
}

fn key(arg: &str) -> &str {
    arg.split_once('=').map(|(k, _)| k).unwrap_or(arg)
}

fn has_key(args: &[String], k: &str) -> bool {
    args.iter().any(|a| key(a) == k)
}

impl KernelArgs {
    /// The new argument list, applying the edits in the contract's order.
    pub(crate) fn compute(&self) -> Result<Vec<String>> {
        if let Some(f) = &self.final_kargs {
            return Ok(f.split_whitespace().map(String::from).collect());
        }
        let k = ostree::KernelArgs::from_string(&self.existing);
        let err = |e: glib::Error| anyhow!("{}", e.message());
        for r in &self.removed {
            k.delete(r).map_err(err)?;
        }
        for r in &self.replaced {
            k.new_replace(r).map_err(err)?;
        }
        for a in &self.added {
            k.append(a);
        }
        let current = |k: &ostree::KernelArgs| -> Vec<String> {
            k.to_strv().iter().map(|s| s.to_string()).collect()
        };
        for a in &self.append_if_missing {
            if !has_key(&current(&k), key(a)) {
                k.append(a);
            }
        }
        for d in &self.delete_if_present {
            if has_key(&current(&k), key(d)) {
                k.delete(d).map_err(err)?;
            }
        }
        Ok(current(&k))
    }
}

impl super::Kind for KernelArgs {
    fn reboots(&self) -> bool {
        self.reboot
    }

    fn execute(&self, ctx: &Ctx) -> Result<Outcome> {
        let new = self.compute()?;
        let existing: Vec<String> = self.existing.split_whitespace().map(String::from).collect();
        if new == existing {
            ctx.progress.message("No changes.");
            return Ok(Outcome::default());
        }
        let (merge, origin) = merge_and_origin(ctx, &self.osname)?;
        write::write(
            ctx,
            &NewDeployment {
                osname: &self.osname,
                commit: &merge.csum(),
                origin: &origin,
                merge: &merge,
                kargs: Some(new),
                lock_finalization: self.lock_finalization,
            },
        )?;
        Ok(Outcome {
            reboot: self.reboot,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(existing: &str) -> KernelArgs {
        KernelArgs {
            existing: existing.into(),
            ..Default::default()
        }
    }

    #[test]
    fn edits_in_order() {
        let mut a = k("root=LABEL=root rw quiet loglevel=3 console=tty0 console=ttyS0");
        a.removed = vec!["quiet".into()];
        a.replaced = vec!["console=ttyS0=ttyS1".into(), "loglevel=7".into()];
        a.added = vec!["foo=bar".into()];
        a.append_if_missing = vec!["foo=baz".into(), "new=1".into()];
        a.delete_if_present = vec!["absent".into(), "new=1".into()];
        assert_eq!(
            a.compute().unwrap().join(" "),
            "root=LABEL=root rw loglevel=7 console=tty0 console=ttyS1 foo=bar"
        );
    }

    #[test]
    fn errors_come_from_libostree() {
        let mut a = k("console=tty0 console=ttyS0");
        a.replaced = vec!["console=ttyS9".into()];
        assert!(a.compute().is_err());
        let mut a = k("rw");
        a.removed = vec!["nothere".into()];
        assert!(a.compute().is_err());
        let mut a = k("rw");
        a.final_kargs = Some("a b".into());
        assert_eq!(a.compute().unwrap(), ["a", "b"]);
    }
}
