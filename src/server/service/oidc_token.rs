//! The token endpoint (RFC 6749 4.1.3, OpenID Connect Core 3.1.3) and UserInfo (5.3): an app
//! proves who it is, trades its one-use code and PKCE verifier for an ID token and an access
//! token, and reads the user's claims with the access token.

use subtle::ConstantTimeEq;

use super::AuthService;
use crate::server::auth::jws;
use crate::server::auth::oauth::{self, TOKEN_SECS};
use crate::server::auth::token;
use crate::server::db::oidc_grant::{self, GrantRow, Redeemed};
use crate::server::db::user::{self, UserRow};

/// The form posted to the token endpoint.
#[derive(Debug, Default, serde::Deserialize)]
pub struct TokenForm {
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

/// An OAuth error (RFC 6749 5.2): `error` and a description that names no secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub error: &'static str,
    pub description: &'static str,
}

const fn refuse(error: &'static str, description: &'static str) -> OAuthError {
    OAuthError { error, description }
}

impl OAuthError {
    /// 401 with `WWW-Authenticate` for a client that failed to authenticate, 400 otherwise.
    pub fn status(&self) -> u16 {
        if self.error == "invalid_client" || self.error == "invalid_token" {
            401
        } else if self.error == "server_error" {
            500
        } else {
            400
        }
    }
}

const SERVER_ERROR: OAuthError = refuse("server_error", "try again");
const BAD_CLIENT: OAuthError = refuse("invalid_client", "client authentication failed");

impl AuthService {
    /// `basic` is the client id and secret from an `Authorization: Basic` header, if any.
    #[tracing::instrument(skip_all)]
    pub async fn token(
        &self,
        basic: Option<(String, String)>,
        form: TokenForm,
    ) -> Result<serde_json::Value, OAuthError> {
        let client_id = self.authenticate_client(basic, &form).await?;
        if form.grant_type.as_deref() != Some("authorization_code") {
            return Err(refuse("unsupported_grant_type", "only authorization_code"));
        }
        let code = form.code.as_deref().unwrap_or_default();
        if !token::is_well_formed(code) {
            return Err(refuse("invalid_grant", "unknown code"));
        }
        let now = self.clock.now_ms();
        let grant_key = token::storage_key(code);
        let grant = match oidc_grant::redeem(&self.db, &grant_key)
            .await
            .map_err(|e| internal("redeem code", e))?
        {
            Redeemed::First(grant) => *grant,
            Redeemed::Again => {
                tracing::warn!("oidc: a code of {client_id} was used again; its grant is revoked");
                return Err(refuse("invalid_grant", "code already used"));
            }
            Redeemed::Unknown => return Err(refuse("invalid_grant", "unknown code")),
        };
        let fits = grant.client_id == client_id
            && grant.code_expires_at > now
            && form.redirect_uri.as_deref() == Some(grant.redirect_uri.as_str())
            && oauth::verifier_matches(
                form.code_verifier.as_deref().unwrap_or_default(),
                &grant.code_challenge,
            );
        if !fits {
            return Err(refuse(
                "invalid_grant",
                "code expired, or not for this client, redirect_uri or code_verifier",
            ));
        }
        let user = user::find(&self.db, &grant.account)
            .await
            .map_err(|e| internal("user", e))?
            .ok_or(refuse("invalid_grant", "the account is gone"))?;
        let keys = self.signing_keys();
        let key = keys.current().await.map_err(|_| SERVER_ERROR)?;
        let issuer = oauth::issuer(&self.config.public_url);
        let (amr, acr) = oauth::amr_and_acr(&grant.methods);
        let iat = now / 1000;
        let mut id_claims = serde_json::json!({
            "iss": issuer,
            "sub": subject(&user),
            "aud": client_id,
            "azp": client_id,
            "exp": iat + TOKEN_SECS,
            "iat": iat,
            "auth_time": grant.auth_time / 1000,
            "amr": amr,
            "acr": acr,
        });
        if let Some(nonce) = &grant.nonce {
            id_claims["nonce"] = nonce.clone().into();
        }
        add_user_claims(&mut id_claims, &user, &grant.scopes);
        let access_claims = serde_json::json!({
            "iss": issuer,
            "sub": subject(&user),
            "aud": issuer,
            "client_id": client_id,
            "scope": grant.scopes.join(" "),
            "exp": iat + TOKEN_SECS,
            "iat": iat,
            "jti": token::new_link_token(),
            // The grant, so a revoked one (a replayed code) stops its tokens working.
            "gid": grant_key,
        });
        tracing::info!("oidc: tokens issued to {client_id}");
        Ok(serde_json::json!({
            "access_token": key.sign("at+jwt", &access_claims),
            "token_type": "Bearer",
            "expires_in": TOKEN_SECS,
            "id_token": key.sign("JWT", &id_claims),
            "scope": grant.scopes.join(" "),
        }))
    }

    /// UserInfo: the claims the access token's scopes allow, while its grant stands.
    #[tracing::instrument(skip_all)]
    pub async fn userinfo(&self, access_token: &str) -> Result<serde_json::Value, OAuthError> {
        const BAD_TOKEN: OAuthError = refuse("invalid_token", "the access token is not valid");
        let keys = self
            .signing_keys()
            .published()
            .await
            .map_err(|_| SERVER_ERROR)?;
        let claims = jws::verify(access_token, &keys).ok_or(BAD_TOKEN)?;
        let now = self.clock.now_ms();
        let issuer = oauth::issuer(&self.config.public_url);
        let live = claims["iss"] == issuer.as_str()
            && claims["aud"] == issuer.as_str()
            && claims["exp"].as_i64().is_some_and(|exp| exp > now / 1000);
        let gid = claims["gid"].as_str().filter(|_| live).ok_or(BAD_TOKEN)?;
        let grant: GrantRow = oidc_grant::live(&self.db, gid, now)
            .await
            .map_err(|e| internal("grant", e))?
            .ok_or(BAD_TOKEN)?;
        let user = user::find(&self.db, &grant.account)
            .await
            .map_err(|e| internal("user", e))?
            .ok_or(BAD_TOKEN)?;
        let mut out = serde_json::json!({ "sub": subject(&user) });
        add_user_claims(&mut out, &user, &grant.scopes);
        Ok(out)
    }

    /// The client id, once the client has proved it (RFC 6749 2.3.1): a confidential client by
    /// its secret, in the Basic header or the form; a public one by sending none.
    async fn authenticate_client(
        &self,
        basic: Option<(String, String)>,
        form: &TokenForm,
    ) -> Result<String, OAuthError> {
        let (id, secret) = match (basic, &form.client_secret) {
            (Some(_), Some(_)) => {
                return Err(refuse(
                    "invalid_request",
                    "one client authentication method",
                ))
            }
            (Some((id, secret)), None) => {
                if form
                    .client_id
                    .as_deref()
                    .is_some_and(|form_id| form_id != id)
                {
                    return Err(BAD_CLIENT);
                }
                (id, Some(secret))
            }
            (None, secret) => (form.client_id.clone().unwrap_or_default(), secret.clone()),
        };
        let client = self
            .oidc_client(&id)
            .await
            .map_err(|_| SERVER_ERROR)?
            .ok_or(BAD_CLIENT)?;
        let proved = match (&client.secret_hash, secret) {
            (Some(stored), Some(given)) => bool::from(
                stored
                    .as_bytes()
                    .ct_eq(token::storage_key(&given).as_bytes()),
            ),
            (None, None) => true,
            _ => false,
        };
        if !proved {
            tracing::info!("oidc: client authentication failed for {id}");
            return Err(BAD_CLIENT);
        }
        Ok(client.client_id())
    }
}

/// `sub`: the account's random key, stable and opaque (never the username, which may change
/// hands once an account is removed).
fn subject(user: &UserRow) -> String {
    crate::server::db::key_text(&user.id)
}

/// The claims each granted scope adds (OpenID Connect Core 5.4).
fn add_user_claims(claims: &mut serde_json::Value, user: &UserRow, scopes: &[String]) {
    let has = |scope: &str| scopes.iter().any(|s| s == scope);
    if has("profile") {
        claims["name"] = user.full_name.clone().into();
        claims["preferred_username"] = user.username.clone().into();
        claims["locale"] = user.language.clone().unwrap_or_else(|| "en".into()).into();
    }
    if has("phone") {
        // Stored as E.164 already.
        claims["phone_number"] = user.phone.clone().into();
        claims["phone_number_verified"] = user.phone_verified.into();
    }
    if has("email") {
        claims["email"] = user.email.clone().into();
        // Nothing has proved the address yet.
        claims["email_verified"] = false.into();
    }
}

fn internal(context: &str, e: impl std::fmt::Display) -> OAuthError {
    tracing::error!("oidc: {context}: {e}");
    SERVER_ERROR
}
