//! Secrets the server must read back (authenticator-app keys, recovery codes until the owner
//! has saved them) are sealed with ChaCha20-Poly1305 under a key derived from the code key, and
//! bound to their account, so a row copied to another account does not open.

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};

use super::otp::CodeKey;

const LABEL: &str = "seal factor secrets v1";
const PREFIX: &str = "v1.";

pub struct Sealer {
    /// Current key first; the rest still open what they sealed.
    keys: Vec<[u8; 32]>,
}

/// What `open` found.
pub struct Opened {
    pub secret: Vec<u8>,
    /// Sealed under a key a rotation retired: seal it again under the current one.
    pub stale: bool,
}

impl Sealer {
    pub fn new(code_key: &CodeKey) -> Sealer {
        Sealer {
            keys: code_key.derived(LABEL),
        }
    }

    pub fn seal(&self, account: &str, secret: &[u8]) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .expect("the OS random source works");
        let mut sealed = secret.to_vec();
        key(&self.keys[0])
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(account.as_bytes()),
                &mut sealed,
            )
            .expect("sealing a short secret cannot fail");
        format!("{PREFIX}{}.{}", hex::encode(nonce), hex::encode(sealed))
    }

    /// The secret, if one of our keys sealed it for this account.
    pub fn open(&self, account: &str, sealed: &str) -> Option<Opened> {
        let (nonce, body) = sealed.strip_prefix(PREFIX)?.split_once('.')?;
        let nonce: [u8; NONCE_LEN] = hex::decode(nonce).ok()?.try_into().ok()?;
        let body = hex::decode(body).ok()?;
        self.keys.iter().enumerate().find_map(|(index, k)| {
            let mut buffer = body.clone();
            let secret = key(k)
                .open_in_place(
                    Nonce::assume_unique_for_key(nonce),
                    Aad::from(account.as_bytes()),
                    &mut buffer,
                )
                .ok()?
                .to_vec();
            Some(Opened {
                secret,
                stale: index > 0,
            })
        })
    }
}

fn key(bytes: &[u8; 32]) -> LessSafeKey {
    LessSafeKey::new(UnboundKey::new(&CHACHA20_POLY1305, bytes).expect("a 32-byte key"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_for_its_account_only_and_across_a_rotation() {
        let old = Sealer::new(&CodeKey::new(b"old-key-0123456789abcdef0123456789"));
        let sealed = old.seal("user:raj", b"totp secret");
        assert!(!sealed.contains(&hex::encode(b"totp secret")));
        let opened = old.open("user:raj", &sealed).unwrap();
        assert_eq!(
            (opened.secret.as_slice(), opened.stale),
            (&b"totp secret"[..], false)
        );
        assert!(
            old.open("user:priya", &sealed).is_none(),
            "bound to its account"
        );
        assert!(old.open("user:raj", "v1.00.00").is_none());

        let rotated = Sealer::new(&CodeKey::with_previous(
            b"new-key-0123456789abcdef0123456789",
            vec![b"old-key-0123456789abcdef0123456789".to_vec()],
        ));
        let opened = rotated.open("user:raj", &sealed).unwrap();
        assert!(opened.stale, "sealed under a retired key");
        let fresh = rotated.seal("user:raj", &opened.secret);
        assert!(!rotated.open("user:raj", &fresh).unwrap().stale);
        assert_ne!(
            rotated.seal("user:raj", b"x"),
            rotated.seal("user:raj", b"x")
        );
    }
}
