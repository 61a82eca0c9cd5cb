//! Writing a command's output to stdout the way a C tool's output behaves: when
//! the reader has gone (`rpm-ostree status | head -1`), the program ends quietly
//! with the status a shell shows for SIGPIPE (141), instead of `print!`'s panic.

use std::io::Write;

/// The exit status of a process killed by SIGPIPE, as a shell reports it.
const SIGPIPE_STATUS: i32 = 128 + 13;

/// Writes `text` to stdout and flushes it. A reader that has gone ends the
/// process (status 141); any other write error (a full disk) is reported on
/// stderr and ends it with status 1.
pub fn write(text: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(SIGPIPE_STATUS);
        }
        eprintln!("error: Writing to stdout: {e}");
        std::process::exit(1);
    }
}
