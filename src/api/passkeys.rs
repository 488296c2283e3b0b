//! Passkey ceremonies (called by /passkey.js, with JSON the browser's WebAuthn API makes) and
//! the passkey list's forms.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::PasskeyCeremony;

#[cfg(feature = "ssr")]
fn session_token() -> String {
    crate::server::cookies::read(crate::server::cookies::SESSION).unwrap_or_default()
}

/// Adding a passkey, step one: the options for navigator.credentials.create.
#[server(endpoint = "passkey_register_start")]
pub async fn passkey_register_start() -> Result<PasskeyCeremony, AppError> {
    super::auth::ssr::auth()?
        .passkey_register_start(&session_token())
        .await
}

/// Adding a passkey, step two: the new credential (JSON) and the name the owner gave it.
#[server(endpoint = "passkey_register_finish")]
pub async fn passkey_register_finish(
    key: String,
    credential: String,
    #[server(default)] name: String,
) -> Result<(), AppError> {
    let auth = super::auth::ssr::auth()?;
    let client = super::auth::ssr::client(&auth);
    auth.passkey_register_finish(&session_token(), &key, &credential, &name, &client)
        .await
}

/// Signing in with a passkey, step one: options that name no account.
#[server(endpoint = "passkey_sign_in_start")]
pub async fn passkey_sign_in_start() -> Result<PasskeyCeremony, AppError> {
    let auth = super::auth::ssr::auth()?;
    let client = super::auth::ssr::client(&auth);
    auth.passkey_sign_in_start(&client).await
}

/// Signing in with a passkey, step two: the signed assertion (JSON); a session on success, then
/// on to `next` (as /login had it) or home.
#[server(endpoint = "passkey_sign_in_finish")]
pub async fn passkey_sign_in_finish(
    key: String,
    credential: String,
    #[server(default)] next: String,
) -> Result<(), AppError> {
    use crate::server::cookies;
    let auth = super::auth::ssr::auth()?;
    let client = super::auth::ssr::client(&auth);
    let signed_in = auth
        .passkey_sign_in_finish(&key, &credential, &client)
        .await?;
    super::auth::ssr::start_session(&auth, &client, &signed_in).await?;
    cookies::clear(cookies::CHALLENGE, auth.config.cookie_secure);
    let next = crate::model::return_page(&next);
    leptos_axum::redirect(&super::auth::ssr::after_sign_in(&auth, next, &signed_in.session).await);
    Ok(())
}

/// A passkey as the sign-in step after the password: options naming that account's passkeys.
/// The answer goes to `verify_code` with `method=passkey`.
#[server(endpoint = "passkey_step_start")]
pub async fn passkey_step_start() -> Result<PasskeyCeremony, AppError> {
    let auth = super::auth::ssr::auth()?;
    let client = super::auth::ssr::client(&auth);
    auth.passkey_step_start(&super::auth::ssr::challenge(), &client)
        .await
}

#[server(endpoint = "rename_passkey")]
pub async fn rename_passkey(id: String, name: String) -> Result<(), AppError> {
    super::auth::ssr::auth()?
        .rename_passkey(&session_token(), &id, &name)
        .await?;
    leptos_axum::redirect("/account/security");
    Ok(())
}

#[server(endpoint = "remove_passkey")]
pub async fn remove_passkey(id: String) -> Result<(), AppError> {
    let auth = super::auth::ssr::auth()?;
    let client = super::auth::ssr::client(&auth);
    auth.remove_passkey(&session_token(), &id, &client).await?;
    leptos_axum::redirect("/account/security");
    Ok(())
}
