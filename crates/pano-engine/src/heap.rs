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

    const BLOCK: usize = 64 * 1024;

    /// The share of whole pages inside the given (freed) blocks that are still resident,
    /// by `mincore`: immune to what tests beside this one allocate. Allocates nothing, so
    /// that it cannot reuse the blocks itself.
    fn resident_share(blocks: &[usize]) -> f64 {
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
        let (mut pages, mut resident) = (0usize, 0usize);
        for &start in blocks {
            // Past the first bytes, which the allocator's free writes its list links into.
            let first = (start + 64).div_ceil(page) * page;
            let end = (start + BLOCK) / page * page;
            if end <= first {
                continue;
            }
            let mut state = [0u8; BLOCK / 4096];
            let count = (end - first) / page;
            assert!(count <= state.len());
            // SAFETY: the range is page-aligned, `state` holds one byte per page; mincore
            // only reads the page tables. Unmapped memory (ENOMEM) counts as given back.
            let rc = unsafe {
                libc::mincore(first as *mut libc::c_void, end - first, state.as_mut_ptr())
            };
            pages += count;
            if rc == 0 {
                resident += state[..count].iter().filter(|s| *s & 1 == 1).count();
            }
        }
        resident as f64 / pages.max(1) as f64
    }

    #[test]
    fn freed_heap_pages_go_back_to_the_system() {
        // 2 x 1024 blocks of 64 KB, below glibc's mmap threshold, so they live in the heap;
        // every other one is freed. Each freed block lies between two live ones, so it can
        // neither merge into the heap's top nor be trimmed by free itself: its pages stay
        // resident until they are handed back.
        let mut blocks: Vec<Vec<u8>> = (0..2048)
            .map(|i| vec![(i % 251) as u8 | 1; BLOCK])
            .collect();
        let mut freed = Vec::with_capacity(1024);
        for block in blocks.iter_mut().skip(1).step_by(2) {
            freed.push(block.as_ptr() as usize);
            drop(std::mem::take(block));
        }
        let before = resident_share(&freed);
        return_freed_memory();
        let after = resident_share(&freed);
        assert!(
            before > 0.9 && after < 0.25,
            "resident share of the freed blocks' pages: {before:.2} before the trim, {after:.2} after"
        );
        drop(blocks);
    }
}
