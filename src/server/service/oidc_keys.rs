//! OpenID Connect signing keys: made on first use, kept in the database with the private half
//! sealed under the code key (so every instance signs alike), rotated by the operator
//! (`dynamic_otp admin rotate-signing-key`). The JWKS lists every key a live token may carry.

use super::{AuthService, OrInternal};
use crate::error::AppError;
use crate::server::auth::jws::{self, PublicJwk, SigningKey};
use crate::server::auth::seal::Sealer;
use crate::server::db::oidc_key::{self, KeyRow, NewKey};
use crate::server::db::Db;

/// A retired key stays in the JWKS this long: longer than any token it signed lives.
pub const RETIRED_KEY_PUBLISHED_MS: i64 = 24 * 60 * 60 * 1000;

/// The keys, read and written with one database and one sealer; the admin command builds one
/// as the server does.
pub struct SigningKeys<'a> {
    pub db: &'a Db,
    pub sealer: Sealer,
    pub now: i64,
}

impl SigningKeys<'_> {
    /// The key to sign with; made now when there is none, or none this server's code keys open.
    pub async fn current(&self) -> Result<SigningKey, AppError> {
        let row = oidc_key::signing(self.db)
            .await
            .or_internal("oidc: signing key")?;
        if let Some(row) = row {
            if let Some(key) = self.open(&row).await {
                return Ok(key);
            }
            tracing::error!(
                "oidc: signing key {} cannot be opened with this server's code keys; making a new one",
                row.kid
            );
        }
        self.make().await
    }

    /// A new key that signs from now on; the others are retired and published a day more.
    pub async fn rotate(&self) -> Result<String, AppError> {
        let key = self.make().await?;
        oidc_key::retire_all_but(self.db, &key.kid, self.now)
            .await
            .or_internal("oidc: retire keys")?;
        if let Err(e) =
            oidc_key::delete_retired_before(self.db, self.now - RETIRED_KEY_PUBLISHED_MS).await
        {
            tracing::warn!("oidc: old keys: {e}");
        }
        Ok(key.kid)
    }

    /// Every key a token still in use may be signed with (the JWKS).
    pub async fn published(&self) -> Result<Vec<PublicJwk>, AppError> {
        let rows = oidc_key::published(self.db, self.now - RETIRED_KEY_PUBLISHED_MS)
            .await
            .or_internal("oidc: published keys")?;
        Ok(rows
            .iter()
            .filter_map(|row| serde_json::from_str(&row.public_jwk).ok())
            .collect())
    }

    async fn open(&self, row: &KeyRow) -> Option<SigningKey> {
        let opened = self.sealer.open(&subject(&row.kid), &row.sealed)?;
        let key = SigningKey::from_pkcs8(&opened.secret)?;
        if opened.stale {
            let fresh = self.sealer.seal(&subject(&row.kid), &opened.secret);
            if let Err(e) = oidc_key::reseal(self.db, &row.id, &row.sealed, &fresh).await {
                tracing::warn!("oidc: reseal key: {e}");
            }
        }
        Some(key)
    }

    async fn make(&self) -> Result<SigningKey, AppError> {
        let pkcs8 = jws::generate();
        let key = SigningKey::from_pkcs8(&pkcs8).ok_or(AppError::Internal)?;
        let row = NewKey {
            kid: key.kid.clone(),
            sealed: self.sealer.seal(&subject(&key.kid), &pkcs8),
            public_jwk: serde_json::to_string(&key.public_jwk()).map_err(|_| AppError::Internal)?,
            created_at: self.now,
        };
        oidc_key::add(self.db, row)
            .await
            .or_internal("oidc: new key")?;
        tracing::info!("oidc: new signing key {}", key.kid);
        Ok(key)
    }
}

/// What a sealed key is bound to: its own kid, so a sealed key cannot pass for another.
fn subject(kid: &str) -> String {
    format!("oidc-key:{kid}")
}

impl AuthService {
    pub fn signing_keys(&self) -> SigningKeys<'_> {
        SigningKeys {
            db: &self.db,
            sealer: self.sealer(),
            now: self.clock.now_ms(),
        }
    }

    /// The JWKS document. The first key is made here if need be, so it is never empty.
    pub async fn jwks(&self) -> Result<serde_json::Value, AppError> {
        let keys = self.signing_keys();
        keys.current().await?;
        Ok(serde_json::json!({ "keys": keys.published().await? }))
    }
}
