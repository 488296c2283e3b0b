//! How an app's server proves which app it is at the back-channel endpoints (RFC 6749 2.3.1),
//! and the OAuth errors those endpoints answer (RFC 6749 5.2).

use subtle::ConstantTimeEq;

use super::AuthService;
use crate::server::auth::token;
use crate::server::client::ClientInfo;
use crate::server::db::rate_counter;

/// An OAuth error: `error` and a description that names no secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub error: &'static str,
    pub description: &'static str,
}

pub(super) const fn refuse(error: &'static str, description: &'static str) -> OAuthError {
    OAuthError { error, description }
}

impl OAuthError {
    /// 401 (with `WWW-Authenticate`) for a client or token that failed to authenticate.
    pub fn status(&self) -> u16 {
        if self.error == "invalid_client" || self.error == "invalid_token" {
            401
        } else if self.error == "server_error" {
            500
        } else if self.error == "temporarily_unavailable" {
            429
        } else {
            400
        }
    }
}

pub(super) const SERVER_ERROR: OAuthError = refuse("server_error", "try again");
pub(super) const BAD_CLIENT: OAuthError = refuse("invalid_client", "client authentication failed");
const TOO_MANY: OAuthError = refuse(
    "temporarily_unavailable",
    "too many failed client authentications from this address; try again in 10 minutes",
);
/// Failed client authentications, per client IP.
const FAILURES: &str = "oidc_client_failures";
const FAILURE_WINDOW_SECS: u64 = 600;

/// What an app sent to say who it is: an `Authorization: Basic` pair, or form fields.
#[derive(Debug, Default)]
pub struct ClientCredentials {
    pub basic: Option<(String, String)>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

/// An app that proved itself.
pub(super) struct ProvenClient {
    pub id: String,
    pub name: String,
    /// Holds a secret (and proved it); public apps prove nothing but their id.
    pub confidential: bool,
}

impl AuthService {
    /// A confidential app by its secret, in the Basic header or the form; a public one by
    /// sending none. One method at a time. Every attempt counts against the IP's failure limit
    /// before it is checked (so a burst cannot outrun it) and is taken back once it succeeds:
    /// an app that authenticates never uses any of the limit.
    pub(super) async fn authenticate_client(
        &self,
        credentials: ClientCredentials,
        from: &ClientInfo,
    ) -> Result<ProvenClient, OAuthError> {
        let ip = from.ip_key();
        let now = self.clock.now_ms();
        let hit = rate_counter::hit(&self.db, FAILURES, &ip, FAILURE_WINDOW_SECS, now)
            .await
            .map_err(|e| internal("client failures", e))?;
        if hit.count > self.config.limits.ip_oidc_client_failures_per_10min {
            crate::server::metrics::oidc("client_auth", "limited");
            return Err(TOO_MANY);
        }
        let client = self.check_client(credentials).await?;
        rate_counter::unhit(&self.db, FAILURES, &ip, FAILURE_WINDOW_SECS, now)
            .await
            .map_err(|e| internal("client failures", e))?;
        Ok(client)
    }

    async fn check_client(
        &self,
        credentials: ClientCredentials,
    ) -> Result<ProvenClient, OAuthError> {
        let (id, secret) = match (credentials.basic, credentials.client_secret) {
            (Some(_), Some(_)) => {
                return Err(refuse(
                    "invalid_request",
                    "one client authentication method",
                ))
            }
            (Some((id, secret)), None) => {
                if credentials.client_id.is_some_and(|form_id| form_id != id) {
                    return Err(BAD_CLIENT);
                }
                (id, Some(secret))
            }
            (None, secret) => (credentials.client_id.unwrap_or_default(), secret),
        };
        let client = self
            .oidc_client(&id)
            .await
            .map_err(|_| SERVER_ERROR)?
            .ok_or(BAD_CLIENT)?;
        let proved = match (&client.secret_hash, &secret) {
            (Some(stored), Some(given)) => bool::from(
                stored
                    .as_bytes()
                    .ct_eq(token::storage_key(given).as_bytes()),
            ),
            (None, None) => true,
            _ => false,
        };
        if !proved {
            tracing::info!("oidc: client authentication failed for {id}");
            crate::server::metrics::oidc("client_auth", "refused");
            return Err(BAD_CLIENT);
        }
        Ok(ProvenClient {
            id: client.client_id(),
            name: client.name.clone(),
            confidential: client.secret_hash.is_some(),
        })
    }
}

pub(super) fn internal(context: &str, e: impl std::fmt::Display) -> OAuthError {
    tracing::error!("oidc: {context}: {e}");
    SERVER_ERROR
}
