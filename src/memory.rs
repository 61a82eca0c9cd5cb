//! Keeping the long-lived daemon small: one malloc arena (worker threads would
//! otherwise each keep their own), and, whenever the daemon goes back to idle,
//! freed heap returned to the system and clean file-backed pages (library code
//! run once at startup or during a transaction) dropped from the resident set.
//! Pages still needed are faulted back in from the page cache (minor faults).

/// Called once at startup, before any thread exists.
pub(crate) fn limit_arenas() {
    // SAFETY: mallopt only adjusts allocator parameters.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

/// Read-only private file mappings of this process none of whose pages were
/// ever copied on write (smaps `Anonymous: 0`): (start, length). Dropping
/// their pages loses nothing, the file has the same contents.
fn clean_file_mappings() -> Vec<(usize, usize)> {
    let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut current: Option<(usize, usize)> = None;
    for line in smaps.lines() {
        if let Some(anon) = line.strip_prefix("Anonymous:") {
            if let Some(m) = current.take()
                && anon.trim() == "0 kB"
            {
                out.push(m);
            }
            continue;
        }
        let mut fields = line.split_whitespace();
        let (Some(range), Some(perms)) = (fields.next(), fields.next()) else {
            continue;
        };
        let Some((start, end)) = range.split_once('-') else {
            continue;
        };
        let (Ok(start), Ok(end)) = (
            usize::from_str_radix(start, 16),
            usize::from_str_radix(end, 16),
        ) else {
            continue;
        };
        // A mapping's header line: address range, permissions, offset, device,
        // inode, path.
        let path = fields.nth(3);
        current = (path.is_some_and(|p| p.starts_with('/'))
            && perms.len() == 4
            && perms.ends_with('p')
            && !perms.contains('w'))
        .then_some((start, end.saturating_sub(start)));
    }
    out
}

/// Gives back what the daemon does not need while idle.
pub(crate) fn trim() {
    // SAFETY: malloc_trim only releases free heap memory.
    unsafe {
        libc::malloc_trim(0);
    }
    for (start, len) in clean_file_mappings() {
        // SAFETY: read-only, never-written private file mappings of this
        // process: MADV_DONTNEED only unmaps their pages, which fault back in
        // from the page cache with the same contents, as after reclaim.
        unsafe {
            libc::madvise(start as *mut libc::c_void, len, libc::MADV_DONTNEED);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_our_own_code() {
        let maps = super::clean_file_mappings();
        assert!(!maps.is_empty());
        super::trim();
    }
}
