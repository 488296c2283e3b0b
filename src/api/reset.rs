//! "Forgot password": ask for a code to the account's phone, then set a new password with it.

use leptos::prelude::*;

use crate::error::AppError;

/// Sends a reset code to the phone of `username`'s account, if there is one; the answer is
/// the same either way.
#[server(endpoint = "forgot_password")]
pub async fn forgot_password(username: String) -> Result<(), AppError> {
    let auth = super::auth::ssr::auth()?;
    let client = super::auth::ssr::client(&auth);
    let key = auth.start_reset(&username, &client).await?;
    super::auth::ssr::hand_challenge(&auth, &key, "/reset");
    Ok(())
}

/// Sets a new password with the reset code; every session of the account ends.
#[server(endpoint = "reset_password")]
pub async fn reset_password(code: String, password: String) -> Result<(), AppError> {
    use crate::server::cookies;
    let auth = super::auth::ssr::auth()?;
    let client = super::auth::ssr::client(&auth);
    let challenge = super::auth::ssr::challenge();
    auth.finish_reset(&challenge, &code, password, &client)
        .await?;
    cookies::clear(cookies::CHALLENGE, auth.config.cookie_secure);
    leptos_axum::redirect("/login?reset=done");
    Ok(())
}
