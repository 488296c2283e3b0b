//! Giving memory back once the server is idle: the hashing blocks nobody has used for a while.
//! The pool keeps them for the next hash otherwise, and a server would keep its peak for good.

use std::time::Duration;

use crate::server::auth::password::PasswordHasher;

/// How often the server looks, and how long a hashing set must have been unused to go.
const TICK: Duration = Duration::from_secs(5);
const IDLE: Duration = Duration::from_secs(10);

/// Every few seconds: frees the hashing sets idle long enough. The allocator (jemalloc, see
/// main.rs) gives the freed pages back to the OS from its own background threads.
pub fn spawn_release(hasher: PasswordHasher) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(TICK);
        loop {
            tick.tick().await;
            let freed = hasher.release_idle_memory(IDLE);
            if freed > 0 {
                tracing::debug!("memory: {} MiB of hashing blocks freed", freed >> 20);
            }
        }
    });
}
