//! Giving memory the process has freed back to the operating system.
//!
//! glibc keeps what small and medium allocations free in its heap for later reuse and returns
//! only the heap's top. Creating a session parses the whole model (hundreds of MB of protobuf,
//! freed once the weights are laid out), which left about 400 MB of the full-size pack's
//! process in glibc's free lists for good, counted in its resident memory and added to every
//! analysis's peak (docs/benchmarks.md, "Speed work").

/// Returns whole free pages of the heap to the system. Cheap (a walk of the free lists),
/// so it runs after each model is loaded and after each analysis.
pub(crate) fn return_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases pages no allocation uses; it is thread-safe.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    use super::return_freed_memory;

    fn resident_mb() -> f64 {
        let status = std::fs::read_to_string("/proc/self/status").expect("procfs");
        let kb: f64 = status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .expect("a VmRSS line");
        kb / 1024.0
    }

    #[test]
    fn freed_heap_pages_go_back_to_the_system() {
        // 192 MB in 64 KB blocks: below glibc's mmap threshold, so they live in the heap,
        // and freeing them leaves the pages resident (one block allocated after them pins
        // the heap's top, as the engine's long-lived allocations do).
        let blocks: Vec<Vec<u8>> = (0..3072).map(|i| vec![i as u8 | 1; 64 * 1024]).collect();
        let pin = vec![1u8; 1024];
        // Measured while held, not between the free and the trim: tests running beside this
        // one trim too (each analysis does).
        let held = resident_mb();
        drop(blocks);
        return_freed_memory();
        let after = resident_mb();
        assert!(
            held - after > 128.0,
            "resident {held:.0} MB while held, {after:.0} MB after the free and the trim"
        );
        drop(pin);
    }
}
