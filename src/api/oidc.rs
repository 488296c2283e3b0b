//! The consent screen's server functions: which app asks to know what, and the user's answer,
//! after which the browser goes back to the app (or to sign-in first); and the connected apps
//! the owner may cut off.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{ConnectedApp, OidcConsent};

#[cfg(feature = "ssr")]
fn session_token() -> String {
    crate::server::cookies::read(crate::server::cookies::SESSION).unwrap_or_default()
}

#[server(endpoint = "consent_request")]
pub async fn consent_request(request: String) -> Result<OidcConsent, AppError> {
    super::auth::ssr::auth()?
        .consent_view(&request, &session_token())
        .await
}

/// `allow` is "yes" or "no".
#[server(endpoint = "answer_consent")]
pub async fn answer_consent(request: String, allow: String) -> Result<(), AppError> {
    use crate::server::service::Authorized;
    let outcome = super::auth::ssr::auth()?
        .answer_consent(&request, &session_token(), allow == "yes")
        .await?;
    match outcome {
        Authorized::ToApp(url) => leptos_axum::redirect(&url),
        Authorized::SignIn(back) => {
            let query = serde_urlencoded::to_string([("next", back)]).unwrap_or_default();
            leptos_axum::redirect(&format!("/login?{query}"))
        }
        Authorized::Consent(_) | Authorized::Refused(_) => return Err(AppError::CodeExpired),
    }
    Ok(())
}

/// The apps this account lets sign it in.
#[server(endpoint = "connected_apps")]
pub async fn connected_apps() -> Result<Vec<ConnectedApp>, AppError> {
    let auth = super::auth::ssr::auth()?;
    let client = super::auth::ssr::client(&auth);
    auth.connected_apps(&session_token(), &client).await
}

/// Cuts one app off (`app` is its client id).
#[server(endpoint = "disconnect_app")]
pub async fn disconnect_app(app: String) -> Result<(), AppError> {
    let auth = super::auth::ssr::auth()?;
    let client = super::auth::ssr::client(&auth);
    auth.disconnect_app(&session_token(), &app, &client).await?;
    leptos_axum::redirect(crate::model::CONNECTED_APPS_PAGE);
    Ok(())
}
