//! The initramfs of a layered commit (`initramfs --enable`): the assembled
//! tree's own dracut, with the tree's `/etc`, its image replacing
//! `usr/lib/modules/<kver>/initramfs.img` in the tree before the commit.

use anyhow::{Context, Result};
use std::path::Path;

use crate::deployment::initramfs::{dracut, kernel_version};

/// Regenerates the initramfs of the tree at `root` (a checkout being
/// assembled) with `args`, using `work` (on the same filesystem) as scratch.
pub(crate) fn regenerate(
    root: &Path,
    args: &[String],
    work: &Path,
    cancellable: &gio::Cancellable,
) -> Result<()> {
    let kver = kernel_version(root)?;
    let out = work.join("initramfs");
    std::fs::create_dir_all(&out)?;
    // dracut reads its configuration in /etc: the tree's, from usr/etc.
    let (usr_etc, etc) = (root.join("usr/etc"), root.join("etc"));
    let moved = usr_etc.is_dir() && !etc.exists();
    if moved {
        std::fs::rename(&usr_etc, &etc).context("Moving usr/etc to etc")?;
    }
    let ran = dracut(root, args, &kver, &out, cancellable);
    if moved {
        std::fs::rename(&etc, &usr_etc).context("Moving etc back to usr/etc")?;
    }
    let image = ran?;
    let dest = root.join(format!("usr/lib/modules/{kver}/initramfs.img"));
    // The tree's image is a hardlink into the repository: unlinked, never
    // written through.
    match std::fs::remove_file(&dest) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(e).with_context(|| format!("Removing {}", dest.display()));
        }
        _ => {}
    }
    std::fs::rename(&image, &dest).with_context(|| format!("Placing {}", dest.display()))?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o644))?;
    Ok(())
}
