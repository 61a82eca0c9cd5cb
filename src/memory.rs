//! Keeping the long-lived daemon small: one malloc arena (worker threads would
//! otherwise each keep their own), and, whenever the daemon goes back to idle,
//! freed heap returned to the system and clean file-backed pages (library code
//! run once at startup or during a transaction) dropped from the resident set.
//! Pages still needed are faulted back in from the page cache.

/// Called once at startup, before any thread exists.
pub(crate) fn limit_arenas() {
    // SAFETY: mallopt only adjusts allocator parameters.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

/// Private file-backed mappings of this process: (start, length).
fn file_mappings() -> Vec<(usize, usize)> {
    let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
        return Vec::new();
    };
    maps.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let range = fields.next()?;
            let perms = fields.next()?;
            let path = fields.nth(3)?;
            if !path.starts_with('/') || !perms.ends_with('p') || perms.contains('w') {
                return None;
            }
            let (start, end) = range.split_once('-')?;
            let start = usize::from_str_radix(start, 16).ok()?;
            let end = usize::from_str_radix(end, 16).ok()?;
            Some((start, end.checked_sub(start)?))
        })
        .collect()
}

/// Gives back what the daemon does not need while idle.
pub(crate) fn trim() {
    // SAFETY: malloc_trim only releases free heap memory.
    unsafe {
        libc::malloc_trim(0);
    }
    for (start, len) in file_mappings() {
        // SAFETY: advisory only; the ranges are read-only file mappings of this
        // process, whose contents the kernel can read back at any time.
        // MADV_RANDOM: fault in only the pages used, not their neighbours too.
        unsafe {
            libc::madvise(start as *mut libc::c_void, len, libc::MADV_PAGEOUT);
            libc::madvise(start as *mut libc::c_void, len, libc::MADV_RANDOM);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_our_own_code() {
        let maps = super::file_mappings();
        assert!(!maps.is_empty());
        super::trim();
    }
}
