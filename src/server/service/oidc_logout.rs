//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): an app sends its user here to
//! end their session with us too, and names where to come back to. The address must be one the
//! app registered; the app is known from the ID token it hints with, or its `client_id`.

use super::{AuthService, OrInternal};
use crate::error::AppError;
use crate::server::auth::{jws, oauth, token};
use crate::server::db::key_text;

/// The end-session request, in the query (GET) or the confirmation form (POST).
#[derive(Debug, Default, Clone, serde::Deserialize, serde::Serialize)]
pub struct LogoutParams {
    pub id_token_hint: Option<String>,
    pub client_id: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Logout {
    /// Nothing to trust the request with: the hint is not ours, or the address is not one the
    /// app registered. Shown as our own page, never a redirect.
    Refused,
    /// Ask the person first: the request does not prove it comes from the app they use.
    Confirm { app_name: Option<String> },
    /// End the session (if any) and go here: the app's address with its state, or our sign-in.
    Done { to: String },
}

impl AuthService {
    /// What to do with an end-session request. `confirmed` is the person's yes on our page.
    pub async fn app_logout(
        &self,
        params: &LogoutParams,
        session_token: &str,
        confirmed: bool,
        from: &crate::server::client::ClientInfo,
    ) -> Result<Logout, AppError> {
        let hint = match params.id_token_hint.as_deref().filter(|h| !h.is_empty()) {
            None => None,
            Some(hint) => match self.id_token_claims(hint).await? {
                Some(claims) => Some(claims),
                None => return Ok(Logout::Refused),
            },
        };
        let hinted_app = hint
            .as_ref()
            .and_then(|c| c["aud"].as_str().map(String::from));
        let app_id = match (hinted_app, params.client_id.clone()) {
            (Some(hinted), Some(named)) if hinted != named => return Ok(Logout::Refused),
            (hinted, named) => hinted.or(named),
        };
        let app = match &app_id {
            Some(id) => match self.oidc_client(id).await? {
                Some(app) => Some(app),
                None => return Ok(Logout::Refused),
            },
            None => None,
        };
        let to = match params.post_logout_redirect_uri.as_deref() {
            None => "/login".to_string(),
            Some(uri) => {
                let registered = app
                    .as_ref()
                    .is_some_and(|app| app.post_logout_uris.iter().any(|u| u == uri));
                if !registered {
                    return Ok(Logout::Refused);
                }
                match params.state.as_deref() {
                    Some(state) => oauth::redirect_with(uri, &[("state", state)]),
                    None => uri.to_string(),
                }
            }
        };
        let user = if token::is_well_formed(session_token) {
            self.session_user(&token::storage_key(session_token))
                .await
                .or_internal("logout: session")?
        } else {
            None
        };
        // An ID token this app got for this very person proves the request is the app's.
        let proven = match (&user, &hint) {
            (Some(user), Some(claims)) => claims["sub"] == key_text(&user.id).as_str(),
            _ => false,
        };
        if user.is_some() && !proven && !confirmed {
            return Ok(Logout::Confirm {
                app_name: app.map(|a| a.name),
            });
        }
        self.sign_out(session_token, from).await?;
        Ok(Logout::Done { to })
    }

    /// An ID token we signed (expired ones too: the hint often is), or None.
    async fn id_token_claims(&self, hint: &str) -> Result<Option<serde_json::Value>, AppError> {
        if hint.len() > 8192 {
            return Ok(None);
        }
        let keys = self.signing_keys().published().await?;
        let issuer = oauth::issuer(&self.config.public_url);
        Ok(jws::verify(hint, &keys).filter(|claims| claims["iss"] == issuer.as_str()))
    }
}
