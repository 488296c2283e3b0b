//! Authenticator-app codes (RFC 6238): HMAC-SHA1, 30-second steps, 6 digits, so every common
//! app works. Pure: the caller brings the time and the last step already used.

use hmac::{Hmac, Mac};
use rand::rngs::OsRng;
use rand::RngCore;
use sha1::Sha1;
use subtle::ConstantTimeEq;

pub const STEP_SECS: i64 = 30;
const DIGITS: u32 = 6;
/// RFC 4226 asks for at least 128 bits and recommends 160.
pub const SECRET_LEN: usize = 20;

pub fn new_secret() -> Vec<u8> {
    let mut secret = vec![0u8; SECRET_LEN];
    OsRng.fill_bytes(&mut secret);
    secret
}

pub fn step_at(now_ms: i64) -> i64 {
    now_ms.div_euclid(1000).div_euclid(STEP_SECS)
}

/// The code an app shows during `step`.
pub fn code_at(secret: &[u8], step: i64) -> String {
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(secret).expect("HMAC takes any key");
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = (digest[19] & 0x0f) as usize;
    let value = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    format!(
        "{:0width$}",
        value % 10u32.pow(DIGITS),
        width = DIGITS as usize
    )
}

/// The step `code` belongs to, if it is the current one or one either side (clocks drift, and
/// people type slowly) and later than `last_used`, so no code works twice.
pub fn matching_step(secret: &[u8], code: &str, now_ms: i64, last_used: i64) -> Option<i64> {
    let now = step_at(now_ms);
    // Every candidate is compared, so the time taken does not tell which one matched.
    (now - 1..=now + 1)
        .filter(|step| *step > last_used)
        .fold(None, |found, step| {
            let same = bool::from(code_at(secret, step).as_bytes().ct_eq(code.as_bytes()));
            if same && found.is_none() {
                Some(step)
            } else {
                found
            }
        })
}

/// RFC 4648 base32 without padding: how apps take a secret typed by hand.
pub fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for byte in bytes {
        buffer = (buffer << 8) | u32::from(*byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// The `otpauth://` address the QR code carries (Google Authenticator's key URI format).
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    let label = format!("{issuer}:{account}");
    format!(
        "otpauth://totp/{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        percent(&label),
        base32(secret),
        percent(issuer)
    )
}

fn percent(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn rfc_6238_sha1_vectors_in_six_digits() {
        // RFC 6238 appendix B gives eight digits; an app showing six shows their last six.
        for (time, eight) in [
            (59, "94287082"),
            (1111111109, "07081804"),
            (1111111111, "14050471"),
            (1234567890, "89005924"),
            (2000000000, "69279037"),
        ] {
            assert_eq!(code_at(RFC_SECRET, time / STEP_SECS), eight[2..], "{time}");
        }
    }

    #[test]
    fn one_step_either_side_and_never_a_used_one() {
        let now_ms = 1_111_111_111_000;
        let step = step_at(now_ms);
        for near in [step - 1, step, step + 1] {
            let code = code_at(RFC_SECRET, near);
            assert_eq!(matching_step(RFC_SECRET, &code, now_ms, 0), Some(near));
        }
        let old = code_at(RFC_SECRET, step - 2);
        assert_eq!(matching_step(RFC_SECRET, &old, now_ms, 0), None);
        let current = code_at(RFC_SECRET, step);
        assert_eq!(matching_step(RFC_SECRET, &current, now_ms, step), None);
        assert_eq!(matching_step(RFC_SECRET, "000000x", now_ms, 0), None);
    }

    #[test]
    fn base32_and_the_key_uri() {
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32(RFC_SECRET), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        let uri = otpauth_uri("Dynamic OTP", "raj_sharma", RFC_SECRET);
        assert_eq!(
            uri,
            "otpauth://totp/Dynamic%20OTP%3Araj_sharma?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &issuer=Dynamic%20OTP&algorithm=SHA1&digits=6&period=30"
        );
    }
}
