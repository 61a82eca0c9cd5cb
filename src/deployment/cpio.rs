//! A minimal writer of `newc` cpio archives, the format of initramfs images:
//! enough to pack tracked `/etc` files into an overlay initramfs.

use std::io::{self, Write};

/// One archive member.
pub(crate) enum Entry<'a> {
    Dir {
        path: &'a str,
        mode: u32,
        mtime: u32,
    },
    File {
        path: &'a str,
        mode: u32,
        mtime: u32,
        data: &'a [u8],
    },
    Symlink {
        path: &'a str,
        mtime: u32,
        target: &'a str,
    },
}

/// Writes `newc` members; call [`Writer::finish`] to add the trailer.
pub(crate) struct Writer<W: Write> {
    out: W,
    ino: u32,
    written: u64,
}

fn pad4(n: u64) -> usize {
    ((4 - (n % 4)) % 4) as usize
}

impl<W: Write> Writer<W> {
    pub(crate) fn new(out: W) -> Self {
        Self {
            out,
            ino: 1,
            written: 0,
        }
    }

    fn raw(
        &mut self,
        name: &str,
        mode: u32,
        mtime: u32,
        nlink: u32,
        data: &[u8],
    ) -> io::Result<()> {
        let namesize = name.len() + 1;
        let header = format!(
            "070701{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}",
            self.ino,
            mode,
            0, // uid
            0, // gid
            nlink,
            mtime,
            data.len(),
            0, // devmajor
            0, // devminor
            0, // rdevmajor
            0, // rdevminor
            namesize,
            0, // check
        );
        self.ino += 1;
        self.out.write_all(header.as_bytes())?;
        self.out.write_all(name.as_bytes())?;
        self.out.write_all(&[0])?;
        self.written += (header.len() + namesize) as u64;
        let p = pad4(self.written);
        self.out.write_all(&[0u8; 3][..p])?;
        self.written += p as u64;
        self.out.write_all(data)?;
        self.written += data.len() as u64;
        let p = pad4(self.written);
        self.out.write_all(&[0u8; 3][..p])?;
        self.written += p as u64;
        Ok(())
    }

    pub(crate) fn add(&mut self, e: Entry<'_>) -> io::Result<()> {
        match e {
            Entry::Dir { path, mode, mtime } => {
                self.raw(path, 0o040000 | (mode & 0o7777), mtime, 2, &[])
            }
            Entry::File {
                path,
                mode,
                mtime,
                data,
            } => self.raw(path, 0o100000 | (mode & 0o7777), mtime, 1, data),
            Entry::Symlink {
                path,
                mtime,
                target,
            } => self.raw(path, 0o120777, mtime, 1, target.as_bytes()),
        }
    }

    /// Writes the trailer and returns the underlying writer.
    pub(crate) fn finish(mut self) -> io::Result<W> {
        self.ino = 0;
        self.raw("TRAILER!!!", 0, 0, 1, &[])?;
        Ok(self.out)
    }
}

/// Reads back `(path, data)` of the regular files of a `newc` archive.
#[cfg(test)]
pub(crate) fn list_files(mut buf: &[u8]) -> Option<Vec<(String, Vec<u8>)>> {
    let mut files = Vec::new();
    let mut offset = 0usize;
    loop {
        if buf.len() < 110 || &buf[..6] != b"070701" {
            return None;
        }
        let field = |i: usize| {
            std::str::from_utf8(&buf[6 + i * 8..14 + i * 8])
                .ok()
                .and_then(|s| u32::from_str_radix(s, 16).ok())
        };
        let mode = field(1)?;
        let filesize = field(6)? as usize;
        let namesize = field(11)? as usize;
        let name_end = 110 + namesize;
        let name = std::str::from_utf8(buf.get(110..name_end - 1)?)
            .ok()?
            .to_string();
        let data_start = name_end + pad4((offset + name_end) as u64);
        let data = buf.get(data_start..data_start + filesize)?.to_vec();
        let next = data_start + filesize + pad4((offset + data_start + filesize) as u64);
        if name == "TRAILER!!!" {
            return Some(files);
        }
        if mode & 0o170000 == 0o100000 {
            files.push((name, data));
        }
        offset += next;
        buf = buf.get(next..)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip() {
        let mut w = Writer::new(Vec::new());
        w.add(Entry::Dir {
            path: "etc",
            mode: 0o755,
            mtime: 1,
        })
        .unwrap();
        w.add(Entry::File {
            path: "etc/foo.conf",
            mode: 0o644,
            mtime: 2,
            data: b"hello\n",
        })
        .unwrap();
        w.add(Entry::Symlink {
            path: "etc/link",
            mtime: 3,
            target: "foo.conf",
        })
        .unwrap();
        w.add(Entry::File {
            path: "etc/odd-length-name",
            mode: 0o600,
            mtime: 4,
            data: b"x",
        })
        .unwrap();
        let bytes = w.finish().unwrap();
        assert_eq!(bytes.len() % 4, 0);
        assert!(bytes.starts_with(b"070701"));
        let files = list_files(&bytes).unwrap();
        assert_eq!(
            files,
            vec![
                ("etc/foo.conf".to_string(), b"hello\n".to_vec()),
                ("etc/odd-length-name".to_string(), b"x".to_vec())
            ]
        );
    }
}
