//! Argon2 hashing in reused memory. Each hash needs `m` KiB of blocks (19 MiB by default);
//! allocated per call, the allocator keeps the freed blocks of every thread that ever hashed, so
//! a server's memory grew with its blocking pool. Here a pool holds one set of blocks per
//! hash that may run at once, and no more; a set left unused for a while goes back to the OS,
//! so a server that has stopped signing people in does not keep 19 MiB per core.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::password_hash::{Output, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

/// Sets of blocks not in use right now, each with when it was given back; as many as hashes
/// have run at once, at most.
#[derive(Default)]
pub struct BlockPool(Mutex<Vec<(Vec<Block>, Instant)>>);

impl BlockPool {
    /// Runs `work` with `count` blocks, taken from the pool (or made) and given back after.
    fn with<R>(&self, count: usize, work: impl FnOnce(&mut [Block]) -> R) -> R {
        let taken = self.0.lock().map(|mut free| free.pop()).unwrap_or(None);
        let mut blocks = taken.map(|(blocks, _)| blocks).unwrap_or_default();
        if blocks.len() < count {
            blocks.resize(count, Block::default());
        }
        let result = work(&mut blocks[..count]);
        if let Ok(mut free) = self.0.lock() {
            // Last in, first out: under light load the same set stays warm and the others age.
            free.push((blocks, Instant::now()));
        }
        result
    }

    /// Frees the sets nobody has used for `idle`; returns how many bytes that gave up.
    pub fn release_idle(&self, idle: Duration) -> usize {
        let Ok(mut free) = self.0.lock() else {
            return 0;
        };
        let before: usize = free.iter().map(|(b, _)| b.len()).sum();
        free.retain(|(_, since)| since.elapsed() < idle);
        let after: usize = free.iter().map(|(b, _)| b.len()).sum();
        (before - after) * std::mem::size_of::<Block>()
    }
}

/// A PHC string for `password` with a fresh salt.
pub fn hash(pool: &BlockPool, params: &Params, password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt
        .as_salt()
        .decode_b64(&mut salt_bytes)
        .map_err(|e| e.to_string())?;
    let len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let output = pool.with(params.block_count(), |blocks| {
        Output::init_with(len, |out| {
            argon2
                .hash_password_into_with_memory(password.as_bytes(), salt_bytes, out, blocks)
                .map_err(|_| argon2::password_hash::Error::Crypto)
        })
    });
    phc(params, &salt, output.map_err(|e| e.to_string())?)
}

/// A PHC string with `params` that no password matches: random bytes where the hash goes.
/// Checking a password against it costs one full hash, like a real one, without spending a
/// hash (and 19 MiB) at start-up to make it.
pub fn unmatchable(params: &Params) -> Result<String, String> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    let len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let mut random = vec![0u8; len];
    argon2::password_hash::rand_core::RngCore::fill_bytes(
        &mut argon2::password_hash::rand_core::OsRng,
        &mut random,
    );
    phc(
        params,
        &salt,
        Output::new(&random).map_err(|e| e.to_string())?,
    )
}

fn phc(params: &Params, salt: &SaltString, output: Output) -> Result<String, String> {
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: params
            .try_into()
            .map_err(|e: argon2::password_hash::Error| e.to_string())?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches the PHC string `stored`, with the parameters it names (old hashes
/// keep verifying after a change). The comparison takes constant time (`Output`'s equality).
pub fn verify(pool: &BlockPool, stored: &str, password: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    let (Some(expected), Some(salt)) = (parsed.hash, parsed.salt) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from).transpose() {
        Ok(version) => version.unwrap_or_default(),
        Err(_) => return false,
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt_bytes) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let argon2 = Argon2::new(algorithm, version, params.clone());
    let computed = pool.with(params.block_count(), |blocks| {
        Output::init_with(expected.len(), |out| {
            argon2
                .hash_password_into_with_memory(password.as_bytes(), salt_bytes, out, blocks)
                .map_err(|_| argon2::password_hash::Error::Crypto)
        })
    });
    computed.is_ok_and(|computed| computed == expected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::PasswordVerifier as _;

    #[test]
    fn agrees_with_the_crate_both_ways_and_keeps_one_set_of_blocks() {
        let pool = BlockPool::default();
        let params = Params::new(1024, 2, 1, None).unwrap();
        let ours = hash(&pool, &params, "correct horse").unwrap();
        assert!(ours.starts_with("$argon2id$v=19$m=1024,t=2,p=1$"), "{ours}");
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default()
            .verify_password(b"correct horse", &parsed)
            .is_ok());
        assert!(verify(&pool, &ours, "correct horse"));
        assert!(!verify(&pool, &ours, "correct horsE"));
        // A hash made elsewhere, with other parameters (an older setting).
        let theirs = argon2::PasswordHasher::hash_password(
            &Argon2::new(
                Algorithm::Argon2id,
                Version::V0x13,
                Params::new(2048, 3, 1, None).unwrap(),
            ),
            b"old password",
            &SaltString::generate(&mut argon2::password_hash::rand_core::OsRng),
        )
        .unwrap()
        .to_string();
        assert!(verify(&pool, &theirs, "old password"));
        assert!(!verify(&pool, &theirs, "correct horse"));
        assert!(!verify(&pool, "not a hash", "x"));
        assert_eq!(
            pool.0.lock().unwrap().len(),
            1,
            "one caller at a time, one set"
        );
    }

    #[test]
    fn an_unmatchable_hash_looks_like_a_real_one_and_costs_a_full_hash_to_refuse() {
        let params = Params::new(1024, 2, 1, None).unwrap();
        let real = hash(&BlockPool::default(), &params, "x").unwrap();
        let dummy = unmatchable(&params).unwrap();
        assert_ne!(dummy, unmatchable(&params).unwrap(), "random each time");
        assert!(
            dummy.starts_with("$argon2id$v=19$m=1024,t=2,p=1$"),
            "{dummy}"
        );
        assert_eq!(dummy.len(), real.len(), "same salt and output lengths");
        let pool = BlockPool::default();
        assert!(!verify(&pool, &dummy, "x"));
        assert!(!verify(&pool, &dummy, ""));
        // Refused after hashing, not at parsing: the hash took a set of blocks from the pool.
        assert_eq!(pool.0.lock().unwrap().len(), 1);
    }

    #[test]
    fn a_set_unused_for_the_idle_time_is_freed_and_a_recent_one_kept() {
        let pool = BlockPool::default();
        let params = Params::new(1024, 1, 1, None).unwrap();
        hash(&pool, &params, "first").unwrap();
        assert_eq!(pool.release_idle(Duration::from_secs(60)), 0, "just used");
        assert_eq!(pool.0.lock().unwrap().len(), 1);
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(
            pool.release_idle(Duration::from_millis(10)),
            1024 * std::mem::size_of::<Block>()
        );
        assert!(pool.0.lock().unwrap().is_empty());
        // The next hash makes a set again.
        let again = hash(&pool, &params, "second").unwrap();
        assert!(verify(&pool, &again, "second"));
        assert_eq!(pool.0.lock().unwrap().len(), 1);
    }
}
