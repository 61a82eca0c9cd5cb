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
