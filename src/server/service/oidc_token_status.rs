//! What an app (or the API it calls) may ask about a token it holds: UserInfo (OpenID Connect
//! Core 5.3), revocation (RFC 7009) and introspection (RFC 7662). Every token leads back to its
//! grant; a token is good while that grant stands.

use super::oidc_client_auth::{
    internal, refuse, ClientCredentials, OAuthError, BAD_CLIENT, SERVER_ERROR,
};
use super::oidc_token::{add_user_claims, subject};
use super::AuthService;
use crate::server::auth::{jws, oauth, token};
use crate::server::client::ClientInfo;
use crate::server::db::audit_event::Kind;
use crate::server::db::oidc_grant::{self, GrantRow};
use crate::server::db::oidc_refresh::{self, RefreshRow};
use crate::server::db::user;

/// The form revocation and introspection share.
#[derive(Debug, Default, serde::Deserialize)]
pub struct TokenQuery {
    pub token: Option<String>,
    /// A hint only (RFC 7009 2.1): both kinds are looked up whatever it says.
    pub token_type_hint: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

/// A token we issued, recognised.
enum Known {
    /// Signed by one of our published keys, for us; perhaps expired.
    Access {
        claims: serde_json::Value,
        grant_key: String,
    },
    Refresh(RefreshRow),
}

impl AuthService {
    /// UserInfo: the claims the access token's scopes allow, while its grant stands.
    #[tracing::instrument(skip_all)]
    pub async fn userinfo(&self, access_token: &str) -> Result<serde_json::Value, OAuthError> {
        const BAD_TOKEN: OAuthError = refuse("invalid_token", "the access token is not valid");
        let now = self.clock.now_ms();
        let (claims, grant) = match self.recognise(access_token).await? {
            Some(Known::Access { claims, grant_key }) => {
                let grant = self.live_grant(&grant_key).await?;
                (claims, grant)
            }
            _ => return Err(BAD_TOKEN),
        };
        let live = claims["exp"].as_i64().is_some_and(|exp| exp > now / 1000);
        let grant = grant.filter(|_| live).ok_or(BAD_TOKEN)?;
        let user = user::find(&self.db, &grant.account)
            .await
            .map_err(|e| internal("user", e))?
            .ok_or(BAD_TOKEN)?;
        let scopes: Vec<String> = claims["scope"]
            .as_str()
            .unwrap_or_default()
            .split(' ')
            .map(String::from)
            .collect();
        let mut out = serde_json::json!({ "sub": subject(&user) });
        add_user_claims(&mut out, &user, &scopes);
        Ok(out)
    }

    /// RFC 7009: the app is done with a token. The whole grant goes (its access and refresh
    /// tokens), since they were issued together. Tokens not the app's own, or unknown, are
    /// answered the same, so the endpoint tells nothing.
    #[tracing::instrument(skip_all)]
    pub async fn revoke_token(
        &self,
        credentials: ClientCredentials,
        query: TokenQuery,
        from: &ClientInfo,
    ) -> Result<(), OAuthError> {
        let app = self.authenticate_client(credentials, from).await?;
        let presented = query
            .token
            .ok_or(refuse("invalid_request", "token is required"))?;
        let grant_key = match self.recognise(&presented).await? {
            Some(Known::Access { claims, grant_key }) if claims["client_id"] == app.id.as_str() => {
                Some(grant_key)
            }
            Some(Known::Refresh(row)) if row.client_id == app.id => Some(row.grant),
            _ => None,
        };
        if let Some(grant_key) = grant_key {
            oidc_grant::revoke(&self.db, &grant_key)
                .await
                .map_err(|e| internal("revoke", e))?;
            self.audit_grant(&grant_key, Kind::AppRevoked, "signed out by the app", from)
                .await;
        }
        crate::server::metrics::oidc("revoke", "ok");
        Ok(())
    }

    /// RFC 7662, for confidential apps (an app's API checks the access tokens it is shown): what
    /// a token grants while it is active, else only `active: false`. A refresh token is
    /// described to the app it belongs to and to no other.
    #[tracing::instrument(skip_all)]
    pub async fn introspect(
        &self,
        credentials: ClientCredentials,
        query: TokenQuery,
        from: &ClientInfo,
    ) -> Result<serde_json::Value, OAuthError> {
        let app = self.authenticate_client(credentials, from).await?;
        if !app.confidential {
            return Err(BAD_CLIENT);
        }
        let presented = query
            .token
            .ok_or(refuse("invalid_request", "token is required"))?;
        let now = self.clock.now_ms();
        let inactive = serde_json::json!({ "active": false });
        let answer = match self.recognise(&presented).await? {
            Some(Known::Access { claims, grant_key }) => {
                let live = claims["exp"].as_i64().is_some_and(|exp| exp > now / 1000);
                match self.live_grant(&grant_key).await?.filter(|_| live) {
                    Some(_) => serde_json::json!({
                        "active": true,
                        "token_type": "Bearer",
                        "scope": claims["scope"],
                        "client_id": claims["client_id"],
                        "sub": claims["sub"],
                        "iss": claims["iss"],
                        "aud": claims["aud"],
                        "exp": claims["exp"],
                        "iat": claims["iat"],
                        "jti": claims["jti"],
                    }),
                    None => inactive,
                }
            }
            Some(Known::Refresh(row))
                if row.client_id == app.id && !row.used && row.expires_at > now =>
            {
                match self.live_grant(&row.grant).await? {
                    Some(grant) => serde_json::json!({
                        "active": true,
                        "token_type": "refresh_token",
                        "scope": grant.scopes.join(" "),
                        "client_id": row.client_id,
                        "sub": crate::server::db::key_text(&grant.account),
                        "iss": oauth::issuer(&self.config.public_url),
                        "exp": row.expires_at / 1000,
                    }),
                    None => inactive,
                }
            }
            _ => inactive,
        };
        crate::server::metrics::oidc("introspect", "ok");
        Ok(answer)
    }

    /// A refresh token by its hash, or an access token by its signature and issuer.
    async fn recognise(&self, presented: &str) -> Result<Option<Known>, OAuthError> {
        if token::is_well_formed(presented) {
            let row = oidc_refresh::find(&self.db, &token::storage_key(presented))
                .await
                .map_err(|e| internal("refresh token", e))?;
            return Ok(row.map(Known::Refresh));
        }
        if presented.len() > 4096 {
            return Ok(None);
        }
        let keys = self
            .signing_keys()
            .published()
            .await
            .map_err(|_| SERVER_ERROR)?;
        let Some(claims) = jws::verify(presented, &keys) else {
            return Ok(None);
        };
        let issuer = oauth::issuer(&self.config.public_url);
        let ours = claims["iss"] == issuer.as_str() && claims["aud"] == issuer.as_str();
        let grant_key = claims["gid"].as_str().filter(|_| ours).map(String::from);
        Ok(grant_key.map(|grant_key| Known::Access { claims, grant_key }))
    }

    async fn live_grant(&self, grant_key: &str) -> Result<Option<GrantRow>, OAuthError> {
        oidc_grant::live(&self.db, grant_key, self.clock.now_ms())
            .await
            .map_err(|e| internal("grant", e))
    }
}
