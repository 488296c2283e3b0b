//! Signed tokens for OpenID Connect: compact JWS with ES256 (ECDSA P-256, SHA-256), the
//! algorithm every certified client library verifies. Keys are PKCS#8 documents; the public half
//! is published as a JWK whose `kid` is derived from it, so every instance names a key alike.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{
    EcdsaKeyPair, KeyPair, UnparsedPublicKey, ECDSA_P256_SHA256_FIXED,
    ECDSA_P256_SHA256_FIXED_SIGNING,
};
use serde::Serialize;
use sha2::{Digest, Sha256};

pub const ALG: &str = "ES256";

/// A private signing key, opened from its PKCS#8 document.
pub struct SigningKey {
    pub kid: String,
    pair: EcdsaKeyPair,
}

/// The public half as a JSON Web Key (RFC 7517), for the JWKS document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct PublicJwk {
    pub kty: String,
    pub crv: String,
    pub x: String,
    pub y: String,
    #[serde(rename = "use")]
    pub use_: String,
    pub alg: String,
    pub kid: String,
}

/// A new key's PKCS#8 document (to be sealed and stored).
pub fn generate() -> Vec<u8> {
    EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
        .expect("the OS random source works")
        .as_ref()
        .to_vec()
}

impl SigningKey {
    pub fn from_pkcs8(pkcs8: &[u8]) -> Option<SigningKey> {
        let pair = EcdsaKeyPair::from_pkcs8(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            pkcs8,
            &SystemRandom::new(),
        )
        .ok()?;
        let kid = kid_of(pair.public_key().as_ref());
        Some(SigningKey { kid, pair })
    }

    pub fn public_jwk(&self) -> PublicJwk {
        // An uncompressed P-256 point: 0x04, then x and y of 32 bytes each.
        let point = self.pair.public_key().as_ref();
        PublicJwk {
            kty: "EC".into(),
            crv: "P-256".into(),
            x: B64.encode(&point[1..33]),
            y: B64.encode(&point[33..65]),
            use_: "sig".into(),
            alg: ALG.into(),
            kid: self.kid.clone(),
        }
    }

    /// `claims` as a compact JWS: header.payload.signature, each base64url.
    pub fn sign(&self, typ: &str, claims: &impl Serialize) -> String {
        let header = serde_json::json!({ "alg": ALG, "typ": typ, "kid": self.kid });
        let input = format!(
            "{}.{}",
            B64.encode(header.to_string()),
            B64.encode(serde_json::to_vec(claims).expect("claims serialise"))
        );
        let signature = self
            .pair
            .sign(&SystemRandom::new(), input.as_bytes())
            .expect("signing with a valid key works");
        format!("{input}.{}", B64.encode(signature.as_ref()))
    }
}

/// The claims of a token that one of `keys` signed (by its `kid`), or None.
pub fn verify(token: &str, keys: &[PublicJwk]) -> Option<serde_json::Value> {
    let (input, signature) = token.rsplit_once('.')?;
    let (header, payload) = input.split_once('.')?;
    let header: serde_json::Value = serde_json::from_slice(&B64.decode(header).ok()?).ok()?;
    if header["alg"] != ALG {
        return None;
    }
    let key = keys.iter().find(|k| header["kid"] == k.kid.as_str())?;
    let mut point = vec![4u8];
    point.extend(B64.decode(&key.x).ok()?);
    point.extend(B64.decode(&key.y).ok()?);
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
        .verify(input.as_bytes(), &B64.decode(signature).ok()?)
        .ok()?;
    serde_json::from_slice(&B64.decode(payload).ok()?).ok()
}

/// The first 96 bits of the public key's SHA-256, base64url: short, and the same everywhere.
fn kid_of(public_key: &[u8]) -> String {
    B64.encode(&Sha256::digest(public_key)[..12])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_token_verifies_with_its_public_key_and_with_no_other() {
        let key = SigningKey::from_pkcs8(&generate()).unwrap();
        let other = SigningKey::from_pkcs8(&generate()).unwrap();
        assert_ne!(key.kid, other.kid);
        let token = key.sign("JWT", &serde_json::json!({ "sub": "abc", "n": 1 }));
        let claims = verify(&token, &[other.public_jwk(), key.public_jwk()]).unwrap();
        assert_eq!(claims["sub"], "abc");
        assert!(verify(&token, &[other.public_jwk()]).is_none());
        // A changed payload breaks the signature.
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = B64.encode(r#"{"sub":"xyz","n":1}"#);
        parts[1] = &forged;
        assert!(verify(&parts.join("."), &[key.public_jwk()]).is_none());
    }

    #[test]
    fn the_kid_and_jwk_come_from_the_key_alone() {
        let pkcs8 = generate();
        let a = SigningKey::from_pkcs8(&pkcs8).unwrap();
        let b = SigningKey::from_pkcs8(&pkcs8).unwrap();
        assert_eq!(a.public_jwk(), b.public_jwk());
        let jwk = a.public_jwk();
        assert_eq!((jwk.kty.as_str(), jwk.crv.as_str()), ("EC", "P-256"));
        assert_eq!(B64.decode(&jwk.x).unwrap().len(), 32);
        assert_eq!(B64.decode(&jwk.y).unwrap().len(), 32);
        assert!(SigningKey::from_pkcs8(b"not a key").is_none());
    }
}
