//! Argon2id password hashing, run on the blocking pool behind a bound on concurrent hashes so
//! sign-ins cannot starve the async runtime. Past a short queue, callers are turned away at once
//! (the server answers 503 + Retry-After) instead of letting latency grow without limit.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use argon2::Params;
use tokio::sync::Semaphore;

use super::argon2_memory::{self, BlockPool};

use crate::server::config::{ConfigError, Sources};
use crate::server::metrics;

#[derive(Debug, Clone)]
pub struct Argon2Config {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
    pub max_concurrent: usize,
    pub max_queue: usize,
}

impl Argon2Config {
    pub fn load<E: Fn(&str) -> Option<String>>(
        sources: &Sources<E>,
    ) -> Result<Argon2Config, ConfigError> {
        let max_concurrent: usize = match sources.parse("argon2_max_concurrent")? {
            0 => std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            n => n,
        };
        let max_queue: usize = match sources.parse("argon2_max_queue")? {
            0 => 8 * max_concurrent,
            n => n,
        };
        Ok(Argon2Config {
            memory_kib: sources.parse("argon2_memory_kib")?,
            iterations: sources.parse("argon2_iterations")?,
            parallelism: sources.parse("argon2_parallelism")?,
            max_concurrent,
            max_queue,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("invalid argon2 parameters: {0}")]
    Params(String),
    #[error("hashing failed: {0}")]
    Hash(String),
    #[error("hashing task failed: {0}")]
    Task(String),
    #[error("too many password checks queued")]
    Busy,
}

#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    permits: Arc<Semaphore>,
    /// Callers holding or waiting for a permit, and how many may.
    in_line: Arc<AtomicUsize>,
    max_in_line: usize,
    /// Verified against when the user is unknown, so that path costs the same as a real one.
    dummy_hash: Arc<str>,
    /// Memory for the hashes running at once (bounded by `permits`), reused from one to the next.
    blocks: Arc<BlockPool>,
}

impl PasswordHasher {
    pub fn new(config: &Argon2Config) -> Result<Self, PasswordError> {
        let params = Params::new(
            config.memory_kib,
            config.iterations,
            config.parallelism,
            None,
        )
        .map_err(|e| PasswordError::Params(e.to_string()))?;
        let dummy_hash = argon2_memory::unmatchable(&params).map_err(PasswordError::Hash)?;
        let concurrent = config.max_concurrent.max(1);
        Ok(PasswordHasher {
            params,
            permits: Arc::new(Semaphore::new(concurrent)),
            in_line: Arc::new(AtomicUsize::new(0)),
            max_in_line: concurrent + config.max_queue,
            dummy_hash: dummy_hash.into(),
            blocks: Arc::default(),
        })
    }

    pub async fn hash(&self, password: String) -> Result<String, PasswordError> {
        let (params, blocks) = (self.params.clone(), self.blocks.clone());
        self.run(move || argon2_memory::hash(&blocks, &params, &password))
            .await?
            .map_err(PasswordError::Hash)
    }

    /// True only if `stored` is given and matches. With `None`, checks the dummy hash and
    /// returns false, taking the same time.
    pub async fn verify(
        &self,
        stored: Option<String>,
        password: String,
    ) -> Result<bool, PasswordError> {
        let known = stored.is_some();
        let hash = stored.unwrap_or_else(|| self.dummy_hash.to_string());
        let blocks = self.blocks.clone();
        let matched = self
            .run(move || argon2_memory::verify(&blocks, &hash, &password))
            .await?;
        Ok(known && matched)
    }

    /// Gives back the hashing memory of sets unused for `idle`; the bytes it freed.
    pub fn release_idle_memory(&self, idle: std::time::Duration) -> usize {
        self.blocks.release_idle(idle)
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PasswordError> {
        let place = InLine::join(&self.in_line, self.max_in_line).ok_or(PasswordError::Busy)?;
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| PasswordError::Task(e.to_string()))?;
        let _place = place;
        metrics::argon2_run();
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| PasswordError::Task(e.to_string()))
    }
}

/// A place in line; leaving (even by cancellation) frees it.
struct InLine(Arc<AtomicUsize>);

impl InLine {
    fn join(counter: &Arc<AtomicUsize>, max: usize) -> Option<InLine> {
        counter
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()
            .map(|before| {
                metrics::argon2_queue_depth(before + 1);
                InLine(counter.clone())
            })
    }
}

impl Drop for InLine {
    fn drop(&mut self) {
        let before = self.0.fetch_sub(1, Ordering::AcqRel);
        metrics::argon2_queue_depth(before - 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owasp() -> Argon2Config {
        Argon2Config {
            memory_kib: 19456,
            iterations: 2,
            parallelism: 1,
            max_concurrent: 2,
            max_queue: 4,
        }
    }

    #[tokio::test]
    async fn hash_and_verify() {
        let hasher = PasswordHasher::new(&owasp()).unwrap();
        let hash = hasher.hash("correct horse".into()).await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(hasher
            .verify(Some(hash.clone()), "correct horse".into())
            .await
            .unwrap());
        assert!(!hasher
            .verify(Some(hash.clone()), "correct horsE".into())
            .await
            .unwrap());
        let again = hasher.hash("correct horse".into()).await.unwrap();
        assert_ne!(hash, again, "each hash has its own salt");
    }

    #[tokio::test]
    async fn unknown_user_never_verifies() {
        let hasher = PasswordHasher::new(&owasp()).unwrap();
        assert!(!hasher
            .verify(None, "dummy password for unknown users".into())
            .await
            .unwrap());
        assert!(!hasher
            .verify(Some("not a hash".into()), "x".into())
            .await
            .unwrap());
    }

    #[tokio::test]
    async fn a_full_queue_turns_callers_away_at_once() {
        let config = Argon2Config {
            max_concurrent: 1,
            max_queue: 1,
            ..owasp()
        };
        let hasher = PasswordHasher::new(&config).unwrap();
        let burst: Vec<_> = (0..6)
            .map(|_| {
                let hasher = hasher.clone();
                tokio::spawn(async move { hasher.verify(None, "password".into()).await })
            })
            .collect();
        let mut busy = 0;
        for task in burst {
            if matches!(task.await.unwrap(), Err(PasswordError::Busy)) {
                busy += 1;
            }
        }
        assert!(
            busy >= 3,
            "one hashing, one queued, the rest shed; shed {busy}"
        );
        // Once the line is empty, work is accepted again.
        assert!(hasher.verify(None, "password".into()).await.is_ok());
    }
}
