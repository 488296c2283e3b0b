//! The token endpoint (RFC 6749 4.1.3 and 6, OpenID Connect Core 3.1.3 and 12): an app trades
//! its one-use code and PKCE verifier, or a refresh token, for an ID token, a short access token
//! and a new refresh token.

use super::audit::Who;
use super::oidc_client_auth::{internal, refuse, ClientCredentials, OAuthError, ProvenClient};
use super::AuthService;
use crate::server::auth::oauth::{self, REFRESH_IDLE_SECS, REFRESH_MAX_SECS, TOKEN_SECS};
use crate::server::auth::token;
use crate::server::client::ClientInfo;
use crate::server::db::audit_event::Kind;
use crate::server::db::oidc_grant::{self, GrantRow, Redeemed};
use crate::server::db::oidc_refresh::{self, RefreshRow, Rotated};
use crate::server::db::user::{self, UserRow};

/// The form posted to the token endpoint.
#[derive(Debug, Default, serde::Deserialize)]
pub struct TokenForm {
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

/// What one set of tokens is made from.
struct Issue<'a> {
    grant_key: &'a str,
    grant: &'a GrantRow,
    scopes: &'a [String],
    /// Only in the ID token of the code exchange (Core 12.2: not on refresh).
    nonce: Option<&'a str>,
    user: &'a UserRow,
}

impl AuthService {
    /// `basic` is the client id and secret from an `Authorization: Basic` header, if any.
    #[tracing::instrument(skip_all)]
    pub async fn token(
        &self,
        basic: Option<(String, String)>,
        form: TokenForm,
        from: &ClientInfo,
    ) -> Result<serde_json::Value, OAuthError> {
        let credentials = ClientCredentials {
            basic,
            client_id: form.client_id.clone(),
            client_secret: form.client_secret.clone(),
        };
        let app = self.authenticate_client(credentials, from).await?;
        let (grant_type, result) = match form.grant_type.as_deref() {
            Some("authorization_code") => ("code", self.redeem_code(&app, &form, from).await),
            Some("refresh_token") => ("refresh", self.redeem_refresh(&app, &form, from).await),
            _ => (
                "other",
                Err(refuse(
                    "unsupported_grant_type",
                    "authorization_code or refresh_token",
                )),
            ),
        };
        let outcome = result.as_ref().map_or_else(|e| e.error, |_| "issued");
        crate::server::metrics::oidc(grant_type, outcome);
        result
    }

    async fn redeem_code(
        &self,
        app: &ProvenClient,
        form: &TokenForm,
        from: &ClientInfo,
    ) -> Result<serde_json::Value, OAuthError> {
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
                tracing::warn!(
                    "oidc: a code of {} was used again; its grant is revoked",
                    app.id
                );
                self.audit_grant(&grant_key, Kind::AppRefused, "code used again", from)
                    .await;
                return Err(refuse("invalid_grant", "code already used"));
            }
            Redeemed::Unknown => return Err(refuse("invalid_grant", "unknown code")),
        };
        let fits = grant.client_id == app.id
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
        let user = self.grant_user(&grant).await?;
        let issue = Issue {
            grant_key: &grant_key,
            grant: &grant,
            scopes: &grant.scopes,
            nonce: grant.nonce.as_deref(),
            user: &user,
        };
        let tokens = self.issue(app, issue).await?;
        self.audit(Kind::AppSignedIn, Who::user(&user), &app.name, from)
            .await;
        Ok(tokens)
    }

    /// Rotation: the token presented is spent and a new one comes back; a spent token shown
    /// again means two parties hold it, so its family is revoked (RFC 9700 4.14.2).
    async fn redeem_refresh(
        &self,
        app: &ProvenClient,
        form: &TokenForm,
        from: &ClientInfo,
    ) -> Result<serde_json::Value, OAuthError> {
        const UNKNOWN: OAuthError = refuse("invalid_grant", "unknown refresh token");
        let presented = form.refresh_token.as_deref().unwrap_or_default();
        if !token::is_well_formed(presented) {
            return Err(UNKNOWN);
        }
        let now = self.clock.now_ms();
        let row: RefreshRow =
            match oidc_refresh::rotate(&self.db, &token::storage_key(presented), &app.id)
                .await
                .map_err(|e| internal("rotate refresh token", e))?
            {
                Rotated::First(row) => *row,
                Rotated::Again(row) => {
                    tracing::warn!(
                        "oidc: a refresh token of {} was used again; its family is revoked",
                        app.id
                    );
                    self.audit_grant(
                        &row.grant,
                        Kind::AppRefused,
                        "refresh token used again",
                        from,
                    )
                    .await;
                    return Err(refuse("invalid_grant", "refresh token already used"));
                }
                Rotated::Unknown => return Err(UNKNOWN),
            };
        let grant = oidc_grant::live(&self.db, &row.grant, now)
            .await
            .map_err(|e| internal("grant", e))?
            .filter(|_| row.expires_at > now)
            .ok_or(refuse("invalid_grant", "the sign-in behind it has ended"))?;
        // RFC 6749 6: a refresh may narrow the scope, never widen it.
        let scopes = match form.scope.as_deref() {
            None => grant.scopes.clone(),
            Some(asked) => {
                let asked: Vec<String> = asked
                    .split(' ')
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect();
                if asked.iter().any(|s| !grant.scopes.contains(s)) {
                    return Err(refuse("invalid_scope", "more than was granted"));
                }
                asked
            }
        };
        let user = self.grant_user(&grant).await?;
        let issue = Issue {
            grant_key: &row.grant,
            grant: &grant,
            scopes: &scopes,
            nonce: None,
            user: &user,
        };
        self.issue(app, issue).await
    }

    async fn grant_user(&self, grant: &GrantRow) -> Result<UserRow, OAuthError> {
        user::find(&self.db, &grant.account)
            .await
            .map_err(|e| internal("user", e))?
            .ok_or(refuse("invalid_grant", "the account is gone"))
    }

    async fn issue(
        &self,
        app: &ProvenClient,
        issue: Issue<'_>,
    ) -> Result<serde_json::Value, OAuthError> {
        let keys = self.signing_keys();
        let key = keys
            .current()
            .await
            .map_err(|e| internal("signing key", e))?;
        let issuer = oauth::issuer(&self.config.public_url);
        let (amr, acr) = oauth::amr_and_acr(&issue.grant.methods);
        let now = self.clock.now_ms();
        let iat = now / 1000;
        let sub = subject(issue.user);
        let mut id_claims = serde_json::json!({
            "iss": issuer,
            "sub": sub,
            "aud": app.id,
            "azp": app.id,
            "exp": iat + TOKEN_SECS,
            "iat": iat,
            "auth_time": issue.grant.auth_time / 1000,
            "amr": amr,
            "acr": acr,
        });
        if let Some(nonce) = issue.nonce {
            id_claims["nonce"] = nonce.into();
        }
        add_user_claims(&mut id_claims, issue.user, issue.scopes);
        let scope = issue.scopes.join(" ");
        let access_claims = serde_json::json!({
            "iss": issuer,
            "sub": sub,
            "aud": issuer,
            "client_id": app.id,
            "scope": scope,
            "exp": iat + TOKEN_SECS,
            "iat": iat,
            "jti": token::new_link_token(),
            // The grant, so revoking it (by the app, the user, or a replay) ends its tokens.
            "gid": issue.grant_key,
        });
        let mut out = serde_json::json!({
            "access_token": key.sign("at+jwt", &access_claims),
            "token_type": "Bearer",
            "expires_in": TOKEN_SECS,
            "id_token": key.sign("JWT", &id_claims),
            "scope": scope,
        });
        // Idle for 30 days it ends; used, it lives on, but never past 90 days from the sign-in.
        let refresh_end =
            (now + REFRESH_IDLE_SECS * 1000).min(issue.grant.auth_time + REFRESH_MAX_SECS * 1000);
        if refresh_end > now + TOKEN_SECS * 1000 {
            let refresh = token::new_token();
            let row = RefreshRow {
                grant: issue.grant_key.to_string(),
                client_id: app.id.clone(),
                used: false,
                expires_at: refresh_end,
            };
            oidc_refresh::create(&self.db, &token::storage_key(&refresh), row)
                .await
                .map_err(|e| internal("refresh token", e))?;
            oidc_grant::extend(&self.db, issue.grant_key, refresh_end)
                .await
                .map_err(|e| internal("grant", e))?;
            out["refresh_token"] = refresh.into();
        }
        tracing::info!("oidc: tokens issued to {}", app.id);
        Ok(out)
    }

    /// An audit event about the account behind a grant, while the grant is on record.
    pub(super) async fn audit_grant(
        &self,
        grant_key: &str,
        kind: Kind,
        detail: &str,
        from: &ClientInfo,
    ) {
        let Ok(Some(grant)) = oidc_grant::find(&self.db, grant_key).await else {
            return;
        };
        if let Ok(Some(user)) = user::find(&self.db, &grant.account).await {
            let detail = format!("{}: {detail}", grant.client_id);
            self.audit(kind, Who::user(&user), &detail, from).await;
        }
    }
}

/// `sub`: the account's random key, stable and opaque (never the username, which may change
/// hands once an account is removed).
pub(super) fn subject(user: &UserRow) -> String {
    crate::server::db::key_text(&user.id)
}

/// The claims each granted scope adds (OpenID Connect Core 5.4).
pub(super) fn add_user_claims(claims: &mut serde_json::Value, user: &UserRow, scopes: &[String]) {
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
