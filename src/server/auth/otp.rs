//! One-time codes: generation, keyed storage form, and the rules for accepting one.

use hmac::{Hmac, Mac};
use rand::rngs::OsRng;
use rand::Rng;
use sha2::Sha256;
use subtle::ConstantTimeEq;

pub const CODE_DIGITS: usize = 6;

/// Six digits from the OS CSPRNG; `gen_range` samples uniformly, so no modulo bias.
pub fn generate_code() -> String {
    let n: u32 = OsRng.gen_range(0..1_000_000);
    format!("{n:06}")
}

/// Strips what people paste around a code ("123 456", "123-456"); None if it is not 6 digits.
pub fn normalise_code(input: &str) -> Option<String> {
    let digits: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    (digits.len() == CODE_DIGITS && digits.chars().all(|c| c.is_ascii_digit())).then_some(digits)
}

/// Codes are stored only as an HMAC under the server secret, bound to their challenge, so a
/// database leak reveals no code and a code from one challenge is worthless in another.
#[derive(Clone)]
pub struct CodeKey {
    current: Vec<u8>,
    /// Keys retired by a rotation: codes made with them stay checkable until they expire.
    previous: Vec<Vec<u8>>,
}

impl CodeKey {
    pub fn new(key: &[u8]) -> Self {
        CodeKey::with_previous(key, Vec::new())
    }

    pub fn with_previous(current: &[u8], previous: Vec<Vec<u8>>) -> Self {
        CodeKey {
            current: current.to_vec(),
            previous,
        }
    }

    /// New codes are made with the current key only.
    pub fn mac(&self, challenge_id: &str, code: &str) -> String {
        mac_with(&self.current, challenge_id, code)
    }

    /// The MAC under every key, current first: which one a stored value was made with is not
    /// known after a rotation.
    pub fn macs(&self, subject: &str, code: &str) -> Vec<String> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .map(|key| mac_with(key, subject, code))
            .collect()
    }

    pub fn matches(&self, challenge_id: &str, code: &str, stored_mac: &str) -> bool {
        // Every key is tried, so the time taken does not tell which one matched.
        std::iter::once(&self.current)
            .chain(&self.previous)
            .fold(false, |matched, key| {
                let expected = mac_with(key, challenge_id, code);
                matched | bool::from(expected.as_bytes().ct_eq(stored_mac.as_bytes()))
            })
    }
}

impl CodeKey {
    /// A key for another purpose (`label`) from each key, current first: one secret to set
    /// and rotate, and no key used for two jobs.
    pub fn derived(&self, label: &str) -> Vec<[u8; 32]> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .map(|key| {
                let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
                    .expect("HMAC accepts keys of any length");
                mac.update(b"derive:");
                mac.update(label.as_bytes());
                mac.finalize().into_bytes().into()
            })
            .collect()
    }
}

fn mac_with(key: &[u8], challenge_id: &str, code: &str) -> String {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(challenge_id.as_bytes());
    mac.update(b":");
    mac.update(code.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits_and_spread() {
        let mut first_digit = [0u32; 10];
        let mut seen = std::collections::HashSet::new();
        for _ in 0..5000 {
            let code = generate_code();
            assert_eq!(code.len(), 6);
            assert!(code.chars().all(|c| c.is_ascii_digit()));
            first_digit[(code.as_bytes()[0] - b'0') as usize] += 1;
            seen.insert(code);
        }
        // 5000 draws from a million: duplicates are rare, every leading digit appears often.
        assert!(seen.len() > 4950, "only {} distinct codes", seen.len());
        assert!(
            first_digit.iter().all(|&n| (350..=650).contains(&n)),
            "{first_digit:?}"
        );
    }

    #[test]
    fn pasted_codes_are_normalised() {
        assert_eq!(normalise_code(" 123 456 ").as_deref(), Some("123456"));
        assert_eq!(normalise_code("123-456").as_deref(), Some("123456"));
        assert_eq!(normalise_code("12345"), None);
        assert_eq!(normalise_code("12345a"), None);
        assert_eq!(normalise_code("१२३४५६"), None);
    }

    #[test]
    fn mac_is_bound_to_challenge_and_key() {
        let key = CodeKey::new(b"k1");
        assert_ne!(key.mac("a", "123456"), key.mac("b", "123456"));
        assert_ne!(
            key.mac("a", "123456"),
            CodeKey::new(b"k2").mac("a", "123456")
        );
        assert!(key.matches("a", "123456", &key.mac("a", "123456")));
        assert!(!key.matches("b", "123456", &key.mac("a", "123456")));
    }

    #[test]
    fn after_a_rotation_old_codes_still_match_and_new_ones_use_the_new_key() {
        let old = CodeKey::new(b"old key");
        let rotated = CodeKey::with_previous(b"new key", vec![b"old key".to_vec()]);
        let made_before = old.mac("a", "123456");
        assert!(rotated.matches("a", "123456", &made_before));
        assert!(!rotated.matches("a", "654321", &made_before));
        let made_after = rotated.mac("a", "123456");
        assert_eq!(made_after, CodeKey::new(b"new key").mac("a", "123456"));
        assert!(!old.matches("a", "123456", &made_after));
    }
}
