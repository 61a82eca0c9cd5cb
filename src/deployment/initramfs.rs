//! Initramfs images: the tree's own `dracut`, run in a bubblewrap sandbox on
//! an assembled tree (regeneration is part of the layered commit), and the
//! tracked `/etc` files as a libostree overlay initrd.

use anyhow::{Context, Result, anyhow, bail};
use gio::prelude::*;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::{Ctx, cpio};

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(parent: &Path, prefix: &str) -> Result<Self> {
        for i in 0..100u32 {
            let p = parent.join(format!("{prefix}-{}-{i}", std::process::id()));
            match std::fs::create_dir(&p) {
                Ok(()) => return Ok(Self(p)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e).with_context(|| format!("Creating {}", p.display())),
            }
        }
        bail!(
            "Could not create a temporary directory in {}",
            parent.display()
        )
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The kernel version of a tree (the one directory of `usr/lib/modules` with a kernel).
pub(crate) fn kernel_version(root: &Path) -> Result<String> {
    let modules = root.join("usr/lib/modules");
    for entry in
        std::fs::read_dir(&modules).with_context(|| format!("Reading {}", modules.display()))?
    {
        let entry = entry?;
        if entry.path().join("vmlinuz").exists() {
            return Ok(entry.file_name().to_string_lossy().into_owned());
        }
    }
    bail!("No kernel found in {}", modules.display())
}

/// Hands an image to libostree, which keeps it for the deployment's boot entry;
/// returns its checksum.
fn stage(ctx: &Ctx, image: &Path) -> Result<String> {
    let f = std::fs::File::open(image).with_context(|| format!("Opening {}", image.display()))?;
    let csum = ctx
        .sysroot
        .stage_overlay_initrd(f.as_raw_fd(), Some(&ctx.cancellable))
        .context("Staging overlay initramfs")?;
    Ok(csum.to_string())
}

/// The capabilities dracut keeps in its sandbox.
const DRACUT_CAPS: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_MKNOD",
    "CAP_SETFCAP",
];

/// Runs the dracut of the tree at `root` (bound read-only as `/`, without
/// the network, with only the capabilities of [`DRACUT_CAPS`]) with `args`
/// for kernel `kver`, writing the image into the directory `out`; returns
/// the image. Cancelling kills it.
pub(crate) fn dracut(
    root: &Path,
    args: &[String],
    kver: &str,
    out: &Path,
    cancellable: &gio::Cancellable,
) -> Result<PathBuf> {
    let mut cmd = std::process::Command::new("bwrap");
    cmd.args(["--ro-bind"])
        .arg(root)
        .arg("/")
        .args([
            "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", "/var",
        ])
        .arg("--bind")
        .arg(out)
        .arg("/tmp/out")
        .args([
            "--unshare-pid",
            "--unshare-ipc",
            "--unshare-uts",
            "--unshare-net",
            "--die-with-parent",
        ])
        // What dracut does with files (copies keeping owners, modes and
        // capabilities, device nodes); nothing else.
        .args(["--cap-drop", "ALL"])
        .args(DRACUT_CAPS.iter().flat_map(|c| ["--cap-add", c]))
        .args(["--chdir", "/"])
        .arg("dracut")
        .args(args)
        .args(["-f", "/tmp/out/initramfs.img"])
        .arg(kver)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let mut child = crate::helper::die_with_daemon(&mut cmd)
        .spawn()
        .context("Running dracut in bubblewrap")?;
    // Its error output, read while it runs (a full pipe would stall it).
    let stderr = child.stderr.take();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut e) = stderr {
            let _ = std::io::Read::read_to_string(&mut e, &mut text);
        }
        text
    });
    let status = crate::helper::wait_or_kill(&mut child, cancellable)?;
    let stderr = reader.join().unwrap_or_default();
    cancellable.set_error_if_cancelled()?;
    if !status.success() {
        bail!("dracut failed ({status}): {}", stderr.trim());
    }
    Ok(out.join("initramfs.img"))
}

/// Packs the tracked files (absolute `/etc/...` paths, read under `etc_root`) and
/// stages the archive.
pub(crate) fn etc_overlay(ctx: &Ctx, etc_root: &Path, files: &[String]) -> Result<String> {
    let mut w = cpio::Writer::new(Vec::new());
    let mut dirs = std::collections::BTreeSet::new();
    for f in files {
        let rel = f
            .strip_prefix('/')
            .filter(|r| r.starts_with("etc/"))
            .ok_or_else(|| anyhow!("Path outside /etc forbidden: {f}"))?;
        let mut parent = Path::new(rel).parent();
        let mut chain = Vec::new();
        while let Some(p) = parent.filter(|p| !p.as_os_str().is_empty()) {
            chain.push(p.to_string_lossy().into_owned());
            parent = p.parent();
        }
        for d in chain.into_iter().rev() {
            if dirs.insert(d.clone()) {
                w.add(cpio::Entry::Dir {
                    path: &d,
                    mode: 0o755,
                    mtime: 0,
                })?;
            }
        }
        // No directory on the way may lead out of /etc.
        let mut dir = etc_root.to_path_buf();
        for c in Path::new(rel)
            .parent()
            .into_iter()
            .flat_map(|p| p.components())
        {
            dir.push(c);
            let m = std::fs::symlink_metadata(&dir)
                .with_context(|| format!("Reading tracked file {f}"))?;
            if !m.is_dir() {
                bail!(
                    "Tracked path {f}: {} is not a directory (symlinks are not followed)",
                    dir.strip_prefix(etc_root).unwrap_or(&dir).display()
                );
            }
        }
        let src = etc_root.join(rel);
        let meta =
            std::fs::symlink_metadata(&src).with_context(|| format!("Reading tracked file {f}"))?;
        let mtime = meta.mtime().max(0) as u32;
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&src)?;
            w.add(cpio::Entry::Symlink {
                path: rel,
                mtime,
                target: &target.to_string_lossy(),
            })?;
        } else if meta.is_file() {
            let data = read_nofollow(&src).with_context(|| format!("Reading tracked file {f}"))?;
            w.add(cpio::Entry::File {
                path: rel,
                mode: meta.mode(),
                mtime,
                data: &data,
            })?;
        } else {
            bail!("Tracked path {f} is not a regular file or symlink");
        }
    }
    let bytes = w.finish()?;
    let tmp_parent = ctx.sysroot_path.join("ostree/repo/tmp");
    let work = TempDir::new(&tmp_parent, "rpmostree-initramfs-etc")?;
    let image = work.0.join("etc.cpio");
    std::fs::File::create(&image)
        .and_then(|mut f| f.write_all(&bytes))
        .with_context(|| format!("Writing {}", image.display()))?;
    stage(ctx, &image)
}

/// The content of the regular file `path`, never through a symlink.
fn read_nofollow(path: &Path) -> Result<Vec<u8>> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?;
    if !f.metadata()?.is_file() {
        bail!("not a regular file");
    }
    let mut data = Vec::new();
    f.read_to_end(&mut data)?;
    Ok(data)
}

/// Forgets what `stage` left in `/run/ostree/staged-initrds` once libostree has
/// copied it to `/boot` (offline sysroots: the daemon's `/run` is not theirs).
pub(crate) fn forget_staged(checksums: &[String]) {
    for c in checksums {
        let _ = std::fs::remove_file(Path::new("/run/ostree/staged-initrds").join(c));
    }
}
