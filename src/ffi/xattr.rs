//! Extended attributes of a file, as ostree lists them: (name with its
//! NUL, value).

use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Calls `f(buf, len)` (a `*listxattr`/`*getxattr`) until `buf` is big
/// enough; truncates it to what was returned.
fn fill(buf: &mut Vec<u8>, f: &dyn Fn(*mut libc::c_char, usize) -> isize) -> io::Result<()> {
    loop {
        let n = f(buf.as_mut_ptr().cast(), buf.len());
        if let Ok(n) = usize::try_from(n) {
            buf.truncate(n);
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::ERANGE) {
            return Err(e);
        }
        let want = usize::try_from(f(std::ptr::null_mut(), 0)).unwrap_or(0);
        buf.resize(want.max(buf.len() * 2), 0);
    }
}

/// The xattrs of `path` (a symlink's own).
pub(crate) fn list(path: &Path) -> io::Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let c = CString::new(path.as_os_str().as_bytes())?;
    let mut names = vec![0u8; 1024];
    // SAFETY: `c` is a C string; the buffer is `n` bytes long.
    fill(&mut names, &|p, n| unsafe {
        libc::llistxattr(c.as_ptr(), p, n)
    })?;
    let mut out = Vec::new();
    for name in names.split_inclusive(|b| *b == 0).filter(|n| n.len() > 1) {
        let mut value = vec![0u8; 256];
        let cname = name.as_ptr().cast::<libc::c_char>();
        // SAFETY: `name` ends with its NUL; the buffer is `n` bytes long.
        fill(&mut value, &|p, n| unsafe {
            libc::lgetxattr(c.as_ptr(), cname, p.cast(), n)
        })?;
        out.push((name.to_vec(), value));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xattrs_of_a_file_are_listed() {
        let dir = std::env::temp_dir().join(format!("ffi-xattr-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("f");
        std::fs::write(&f, b"x").unwrap();
        let c = CString::new(f.as_os_str().as_bytes()).unwrap();
        // SAFETY: C strings and a 1-byte value.
        let set = unsafe {
            libc::lsetxattr(
                c.as_ptr(),
                c"user.test".as_ptr(),
                b"v".as_ptr().cast(),
                1,
                0,
            )
        };
        let got = list(&f);
        std::fs::remove_dir_all(&dir).unwrap();
        let got = got.unwrap();
        if set == 0 {
            assert!(
                got.contains(&(b"user.test\0".to_vec(), b"v".to_vec())),
                "{got:?}"
            );
        }
    }
}
