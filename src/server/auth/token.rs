//! Random identifiers for sessions and challenges.

use rand::rngs::OsRng;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// 256 random bits, URL-safe; what the browser holds in its cookie.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Sessions are stored under the hash of their token, so a database read gives no usable cookie.
pub fn storage_key(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Only well-formed tokens reach the database.
pub fn is_well_formed(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// 128 random bits for a link in an SMS: unguessable, and short enough for one message.
pub fn new_link_token() -> String {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

pub fn is_well_formed_link(token: &str) -> bool {
    token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_and_hashed() {
        let a = new_token();
        assert!(is_well_formed(&a));
        assert_ne!(a, new_token());
        assert_ne!(storage_key(&a), a);
        assert_eq!(storage_key(&a), storage_key(&a));
        assert!(!is_well_formed("../etc"));
        let link = new_link_token();
        assert!(is_well_formed_link(&link) && !is_well_formed(&link));
        assert_ne!(link, new_link_token());
    }
}
