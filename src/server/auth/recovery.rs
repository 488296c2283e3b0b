//! Recovery codes: ten single-use codes of 60 random bits each, written `abcd-efgh-jkmn` from an
//! alphabet without look-alikes (base32's a–z and 2–7), so they can be read off paper.

use rand::rngs::OsRng;
use rand::Rng;

pub const COUNT: usize = 10;
const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
/// 12 characters of 5 bits: 60 bits, above NIST's 50 for a look-up secret without a rate limit
/// of its own (ours has one).
const LEN: usize = 12;

pub fn new_codes() -> Vec<String> {
    (0..COUNT)
        .map(|_| {
            let raw: String = (0..LEN)
                .map(|_| ALPHABET[OsRng.gen_range(0..ALPHABET.len())] as char)
                .collect();
            format!("{}-{}-{}", &raw[..4], &raw[4..8], &raw[8..])
        })
        .collect()
}

/// The code as typed, without spaces, dashes or capitals; None when it cannot be one.
pub fn normalise(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (code.len() == LEN && code.bytes().all(|b| ALPHABET.contains(&b))).then_some(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_distinct_codes_that_read_back_however_typed() {
        let codes = new_codes();
        assert_eq!(codes.len(), COUNT);
        let unique: std::collections::BTreeSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), COUNT);
        let code = &codes[0];
        let plain = code.replace('-', "");
        assert_eq!(normalise(code).as_deref(), Some(plain.as_str()));
        assert_eq!(
            normalise(&code.to_uppercase().replace('-', " ")),
            Some(plain)
        );
        assert_eq!(
            normalise("abcd-efgh-ijk1"),
            None,
            "1 is not in the alphabet"
        );
        assert_eq!(normalise("123456"), None);
    }
}
