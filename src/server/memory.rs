//! Giving memory back to the OS once the server is idle: the hashing blocks nobody has used for
//! a while, and whatever the allocator holds freed. Without it a server keeps its peak for good.

use std::time::Duration;

use crate::server::auth::password::PasswordHasher;

/// How often the server looks, and how long a hashing set must have been unused to go.
const TICK: Duration = Duration::from_secs(5);
const IDLE: Duration = Duration::from_secs(10);

/// glibc raises its threshold for serving an allocation by mmap to the largest block ever freed,
/// so after the first 19 MiB argon2 set is freed the next ones come from arenas, which keep them.
/// A fixed threshold keeps large blocks in mappings of their own, unmapped when freed.
pub fn keep_large_allocations_mapped() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; any value is valid to pass.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 4 << 20);
    }
}

/// Every few seconds: frees the hashing sets idle long enough, then asks the allocator to
/// return free pages (glibc keeps them in its arenas otherwise).
pub fn spawn_release(hasher: PasswordHasher) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(TICK);
        loop {
            tick.tick().await;
            let freed = hasher.release_idle_memory(IDLE);
            if freed > 0 {
                tracing::debug!("memory: {} MiB of hashing blocks freed", freed >> 20);
            }
            trim_allocator();
        }
    });
}

fn trim_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes no pointers; it only returns free pages to the kernel.
    unsafe {
        libc::malloc_trim(0);
    }
}
