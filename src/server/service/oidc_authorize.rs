//! The authorization endpoint (OpenID Connect Core 3.1.2, OAuth 2.1): check an app's request,
//! have its user signed in (recently enough, if asked), ask consent for a third-party app, then
//! send a one-use code back to the registered redirect URI. The request waits in the database
//! while the user signs in, so any instance may take it up again.

use super::{AuthService, OrInternal};
use crate::error::AppError;
use crate::model::{OidcConsent, OIDC_CONTINUE};
use crate::server::auth::oauth::{self, CODE_MS, TOKEN_SECS};
use crate::server::auth::token;
use crate::server::db::oidc_client::{self, ClientRow};
use crate::server::db::oidc_grant::{self, GrantRow};
use crate::server::db::oidc_request::{self, RequestRow};
use crate::server::db::{oidc_consent, session, user};

/// How long a request waits for its user to sign in and answer.
const REQUEST_MS: i64 = 10 * 60 * 1000;

/// The query of `/oauth2/authorize`, as sent.
#[derive(Debug, Default, serde::Deserialize)]
pub struct AuthorizeParams {
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub response_type: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub prompt: Option<String>,
    pub max_age: Option<String>,
}

/// Why a request is refused on our own page: its app or redirect URI cannot be trusted with an
/// answer, so nothing is sent back (RFC 6749 4.1.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    UnknownApp,
    UnregisteredRedirect,
    /// The request is gone (answered, or waited too long).
    Expired,
}

/// Where the browser goes next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authorized {
    Refused(Refusal),
    /// Back to the app, with a code or an error.
    ToApp(String),
    /// Our sign-in first, returning to this page.
    SignIn(String),
    /// The consent screen for this request key.
    Consent(String),
}

impl AuthService {
    #[tracing::instrument(skip_all)]
    pub async fn authorize(
        &self,
        params: AuthorizeParams,
        session_token: &str,
    ) -> Result<Authorized, AppError> {
        let now = self.clock.now_ms();
        let client_id = params.client_id.as_deref().unwrap_or_default();
        let Some(client) = self.oidc_client(client_id).await? else {
            return Ok(Authorized::Refused(Refusal::UnknownApp));
        };
        let redirect_uri = params.redirect_uri.clone().unwrap_or_default();
        if !client.redirect_uris.contains(&redirect_uri) {
            return Ok(Authorized::Refused(Refusal::UnregisteredRedirect));
        }
        let state = params.state.clone();
        let back = |error: &str, description: &str| {
            Ok(Authorized::ToApp(self.error_to_app(
                &redirect_uri,
                state.as_deref(),
                error,
                description,
            )))
        };
        if params.response_type.as_deref() != Some("code") {
            return back("unsupported_response_type", "only response_type=code");
        }
        let Some(scopes) = oauth::granted_scopes(params.scope.as_deref().unwrap_or_default())
        else {
            return back("invalid_scope", "scope must include openid");
        };
        let challenge = params.code_challenge.clone().unwrap_or_default();
        if params.code_challenge_method.as_deref() != Some("S256")
            || !oauth::valid_challenge(&challenge)
        {
            return back(
                "invalid_request",
                "PKCE with code_challenge_method=S256 is required",
            );
        }
        let prompt: Vec<&str> = params
            .prompt
            .as_deref()
            .unwrap_or_default()
            .split(' ')
            .collect();
        let none = prompt.contains(&"none");
        if none && prompt.len() > 1 {
            return back("invalid_request", "prompt=none goes alone");
        }
        let max_age = match params.max_age.as_deref() {
            None => None,
            Some(text) => match text.parse::<i64>() {
                Ok(secs) if secs >= 0 => Some(secs),
                _ => return back("invalid_request", "max_age is a number of seconds"),
            },
        };
        let signed_in_after = if prompt.contains(&"login") {
            now
        } else {
            max_age.map_or(0, |secs| now - secs * 1000)
        };
        let row = RequestRow {
            client_id: client.client_id(),
            redirect_uri,
            scopes,
            state,
            nonce: params.nonce.filter(|n| !n.is_empty()),
            code_challenge: challenge,
            signed_in_after,
            consent: prompt.contains(&"consent"),
            created_at: now,
            expires_at: now + REQUEST_MS,
        };
        let key = token::new_token();
        oidc_request::create(&self.db, &key, row)
            .await
            .or_internal("oidc: request")?;
        self.resume_authorization(&key, session_token, none).await
    }

    /// Takes a waiting request up again (after sign-in, or from `authorize` itself): a code for
    /// a signed-in user who has consented; otherwise sign-in or the consent screen first (or,
    /// with prompt=none, an error back to the app).
    #[tracing::instrument(skip_all)]
    pub async fn resume_authorization(
        &self,
        key: &str,
        session_token: &str,
        prompt_none: bool,
    ) -> Result<Authorized, AppError> {
        let Some(request) = self.oidc_request(key).await? else {
            return Ok(Authorized::Refused(Refusal::Expired));
        };
        let Some(client) = self.oidc_client(&request.client_id).await? else {
            return Ok(Authorized::Refused(Refusal::UnknownApp));
        };
        let signed_in = self.signed_in_for(&request, session_token).await?;
        let Some((user, proof)) = signed_in else {
            if prompt_none {
                return self
                    .answer_with_error(key, "login_required", "no one is signed in")
                    .await;
            }
            return Ok(Authorized::SignIn(format!("{OIDC_CONTINUE}{key}")));
        };
        let allowed = oidc_consent::scopes(&self.db, &user.id, &client.client_id())
            .await
            .or_internal("oidc: consent")?
            .is_some_and(|allowed| request.scopes.iter().all(|s| allowed.contains(s)));
        if !client.first_party && (request.consent || !allowed) {
            if prompt_none {
                return self
                    .answer_with_error(key, "consent_required", "the user has not agreed")
                    .await;
            }
            return Ok(Authorized::Consent(key.to_string()));
        }
        self.issue_code(key, &user, proof).await
    }

    /// What the consent screen shows for a waiting request.
    pub async fn consent_view(
        &self,
        key: &str,
        session_token: &str,
    ) -> Result<OidcConsent, AppError> {
        let request = self.oidc_request(key).await?.ok_or(AppError::CodeExpired)?;
        self.signed_in(session_token).await?;
        let client = self
            .oidc_client(&request.client_id)
            .await?
            .ok_or(AppError::CodeExpired)?;
        Ok(OidcConsent {
            request: key.to_string(),
            app_name: client.name,
            scopes: request.scopes,
        })
    }

    /// The user's answer on the consent screen: yes is remembered for this app.
    #[tracing::instrument(skip_all)]
    pub async fn answer_consent(
        &self,
        key: &str,
        session_token: &str,
        allow: bool,
    ) -> Result<Authorized, AppError> {
        let Some(request) = self.oidc_request(key).await? else {
            return Ok(Authorized::Refused(Refusal::Expired));
        };
        let Some((user, proof)) = self.signed_in_for(&request, session_token).await? else {
            return Ok(Authorized::SignIn(format!("{OIDC_CONTINUE}{key}")));
        };
        if !allow {
            return self
                .answer_with_error(key, "access_denied", "the user said no")
                .await;
        }
        oidc_consent::allow(
            &self.db,
            &user.id,
            &request.client_id,
            request.scopes.clone(),
            self.clock.now_ms(),
        )
        .await
        .or_internal("oidc: consent")?;
        self.issue_code(key, &user, proof).await
    }

    /// The code, back to the app; the request is taken, so it makes one code at most.
    async fn issue_code(
        &self,
        key: &str,
        user: &user::UserRow,
        proof: session::Proof,
    ) -> Result<Authorized, AppError> {
        let now = self.clock.now_ms();
        let Some(request) = oidc_request::take(&self.db, key, now)
            .await
            .or_internal("oidc: take request")?
        else {
            return Ok(Authorized::Refused(Refusal::Expired));
        };
        let code = token::new_token();
        let grant = GrantRow {
            client_id: request.client_id.clone(),
            account: user.id.clone(),
            redirect_uri: request.redirect_uri.clone(),
            scopes: request.scopes,
            nonce: request.nonce,
            code_challenge: request.code_challenge,
            auth_time: proof.proven_at,
            methods: proof.methods,
            code_expires_at: now + CODE_MS,
            redeemed: false,
            revoked: false,
            expires_at: now + CODE_MS + TOKEN_SECS * 1000,
        };
        oidc_grant::create(&self.db, &token::storage_key(&code), grant)
            .await
            .or_internal("oidc: grant")?;
        tracing::info!("oidc: code issued to {}", request.client_id);
        let mut params = vec![("code", code.as_str())];
        if let Some(state) = request.state.as_deref() {
            params.push(("state", state));
        }
        let issuer = oauth::issuer(&self.config.public_url);
        params.push(("iss", &issuer));
        Ok(Authorized::ToApp(oauth::redirect_with(
            &request.redirect_uri,
            &params,
        )))
    }

    /// An error back to the app, ending the request.
    async fn answer_with_error(
        &self,
        key: &str,
        error: &str,
        description: &str,
    ) -> Result<Authorized, AppError> {
        let request = oidc_request::take(&self.db, key, self.clock.now_ms())
            .await
            .or_internal("oidc: take request")?;
        let Some(request) = request else {
            return Ok(Authorized::Refused(Refusal::Expired));
        };
        Ok(Authorized::ToApp(self.error_to_app(
            &request.redirect_uri,
            request.state.as_deref(),
            error,
            description,
        )))
    }

    fn error_to_app(
        &self,
        redirect_uri: &str,
        state: Option<&str>,
        error: &str,
        description: &str,
    ) -> String {
        tracing::info!("oidc: refused with {error}: {description}");
        let issuer = oauth::issuer(&self.config.public_url);
        let mut params = vec![("error", error), ("error_description", description)];
        if let Some(state) = state {
            params.push(("state", state));
        }
        params.push(("iss", &issuer));
        oauth::redirect_with(redirect_uri, &params)
    }

    /// The signed-in user and how they proved it, if that sign-in is recent enough for the
    /// request (prompt=login, max_age).
    async fn signed_in_for(
        &self,
        request: &RequestRow,
        session_token: &str,
    ) -> Result<Option<(user::UserRow, session::Proof)>, AppError> {
        if !token::is_well_formed(session_token) {
            return Ok(None);
        }
        let key = token::storage_key(session_token);
        let Some(user) = self.session_user(&key).await.or_internal("oidc: session")? else {
            return Ok(None);
        };
        let proof = session::proof(&self.db, &key)
            .await
            .or_internal("oidc: session proof")?;
        Ok(proof
            .filter(|p| p.proven_at > request.signed_in_after || request.signed_in_after == 0)
            .map(|p| (user, p)))
    }

    async fn oidc_request(&self, key: &str) -> Result<Option<RequestRow>, AppError> {
        if !token::is_well_formed(key) {
            return Ok(None);
        }
        oidc_request::get(&self.db, key, self.clock.now_ms())
            .await
            .or_internal("oidc: request")
    }

    pub(super) async fn oidc_client(&self, client_id: &str) -> Result<Option<ClientRow>, AppError> {
        if client_id.is_empty() || client_id.len() > 100 {
            return Ok(None);
        }
        oidc_client::find(&self.db, client_id)
            .await
            .or_internal("oidc: client")
    }
}
