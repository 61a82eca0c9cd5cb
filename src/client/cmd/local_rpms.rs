//! Local RPMs on the command line (`install ./x.rpm`, `override replace
//! ./x.rpm`): opened here, as the caller, and handed to the daemon as a
//! descriptor list that the `ah` modifiers index.

use anyhow::{Result, bail};
use gio::prelude::*;
use glib::variant::Handle;

/// True if `p` names a local package (a file or URL), not a repository one.
pub(crate) fn is_local(p: &str) -> bool {
    p.ends_with(".rpm") || p.contains("://")
}

/// `strerror` of an I/O error, without Rust's "(os error N)".
fn reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.rfind(" (os error ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// The descriptors of one call.
pub(crate) struct LocalRpms {
    pub fds: gio::UnixFDList,
}

impl LocalRpms {
    pub(crate) fn new() -> Self {
        Self {
            fds: gio::UnixFDList::new(),
        }
    }

    /// Opens `paths` (files, or `file://` URLs) and adds them; their
    /// handles, in order.
    pub(crate) fn add(&mut self, paths: &[String]) -> Result<Vec<Handle>> {
        let mut out = Vec::new();
        for p in paths {
            let path = match p.strip_prefix("file://") {
                Some(path) => path,
                None if p.contains("://") => bail!(
                    "Installing packages from URLs is not supported yet by this rpm-ostree: {p}"
                ),
                None => p.as_str(),
            };
            let file = std::fs::File::open(path)
                .map_err(|e| anyhow::anyhow!("openat({path}): {}", reason(&e)))?;
            // The list keeps its own duplicate; ours closes when `file` goes.
            let i = self.fds.append(file)?;
            out.push(Handle(i));
        }
        Ok(out)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.fds.length() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_arguments_are_files_and_urls() {
        assert!(is_local("./tp-tool-1.0-1.noarch.rpm"));
        assert!(is_local("file:///tmp/x"));
        assert!(!is_local("tp-tool"));
        assert!(!is_local("/usr/bin/tp-tool"));
    }

    #[test]
    fn a_missing_file_is_named() {
        let e = LocalRpms::new()
            .add(&["/nonexistent/x.rpm".to_string()])
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "openat(/nonexistent/x.rpm): No such file or directory"
        );
    }
}
