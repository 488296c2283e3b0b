//! A passkey answering the sign-in step after the password, beside the SMS code, the app and
//! recovery codes. The ceremony names the challenge's account and only its passkeys; the
//! signed answer then travels through the same counted, once-only code step as a typed code.

use webauthn_rs::prelude::{AuthenticationResult, PasskeyAuthentication, PublicKeyCredential};

use super::passkeys::{internal_webauthn, refused, STEP};
use super::AuthService;
use crate::error::AppError;
use crate::model::{CodePurpose, PasskeyCeremony};
use crate::server::client::ClientInfo;
use crate::server::db::user::UserRow;

/// What the browser sends back as the step's answer: the ceremony and its signed assertion.
#[derive(serde::Deserialize)]
struct StepAnswer {
    key: String,
    credential: String,
}

impl AuthService {
    /// Options for navigator.credentials.get that allow only the passkeys of the account whose
    /// password was just given. No live sign-in challenge, or no passkey: the step is over.
    #[tracing::instrument(skip_all)]
    pub async fn passkey_step_start(
        &self,
        challenge_key: &str,
        client: &ClientInfo,
    ) -> Result<PasskeyCeremony, AppError> {
        self.count_passkey_start_from_ip(client).await?;
        let now = self.clock.now_ms();
        let (_, user) = self
            .challenge_and_account(challenge_key, |r| {
                r.purpose() == Some(CodePurpose::SignIn)
                    && !r.consumed
                    && r.created_at > self.stale_before(now)
            })
            .await?
            .ok_or(AppError::CodeExpired)?;
        let user = user.ok_or(AppError::CodeExpired)?;
        let keys: Vec<_> = self
            .passkeys_with_rows(&user.id)
            .await?
            .into_iter()
            .map(|(_, key)| key)
            .collect();
        if keys.is_empty() {
            return Err(AppError::CodeExpired);
        }
        let (options, state) = self
            .webauthn
            .start_passkey_authentication(&keys)
            .map_err(|e| internal_webauthn("passkey step: start", e))?;
        self.ceremony(STEP, Some(user.id), &state, &options).await
    }

    /// Checks the browser's answer (JSON: the ceremony key and the assertion) against the
    /// account's passkeys. None for any answer that does not verify: a wrong guess, counted as one.
    pub(super) async fn passkey_step_result(
        &self,
        typed: &str,
        user: Option<&UserRow>,
    ) -> Result<Option<AuthenticationResult>, AppError> {
        let answer: StepAnswer = serde_json::from_str(typed).map_err(|_| AppError::Unreadable)?;
        let Some(user) = user else { return Ok(None) };
        let Ok(row) = self.take_ceremony(&answer.key, STEP).await else {
            return Ok(None);
        };
        if row.account.as_ref() != Some(&user.id) {
            return Ok(None);
        }
        let state: PasskeyAuthentication =
            serde_json::from_str(&row.state).map_err(|_| AppError::Internal)?;
        let Ok(credential) = serde_json::from_str::<PublicKeyCredential>(&answer.credential) else {
            return Ok(None);
        };
        Ok(self
            .webauthn
            .finish_passkey_authentication(&credential, &state)
            .map_err(|e| refused("passkey step: verify", e))
            .ok())
    }

    /// A verified answer spent: its passkey's counter and last use are stored. (The ceremony
    /// was taken when the answer was checked, so no answer counts twice.)
    pub(super) async fn passkey_step_spend(
        &self,
        result: &AuthenticationResult,
        user: &UserRow,
    ) -> Result<(), AppError> {
        let keys = self.passkeys_with_rows(&user.id).await?;
        self.record_passkey_use(keys, result).await
    }
}
