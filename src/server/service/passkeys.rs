//! Passkeys: adding one to the signed-in account, signing in with one (no username, no
//! password, no SMS: the device verified its user), renaming and removing. Each ceremony's
//! state waits in the database between its two steps, so any instance can finish it.

use webauthn_rs::prelude::{
    AuthenticationResult, DiscoverableAuthentication, DiscoverableKey, Passkey,
    PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential, Uuid,
};

use super::{AuthService, OrInternal, SignedInTokens};
use crate::error::AppError;
use crate::model::{PasskeyCeremony, PasskeyInfo, SignInMethod};
use crate::server::auth::token;
use crate::server::client::ClientInfo;
use crate::server::clock::format_in;
use crate::server::db::passkey::{self, NewPasskey};
use crate::server::db::session::{self, NewSession};
use crate::server::db::webauthn_ceremony::{self, CeremonyRow};
use crate::server::db::{audit_event, login_guard, transactions, user};

/// How long a ceremony may take: the browser's prompt, and a person finding their key.
const CEREMONY_MS: i64 = 5 * 60 * 1000;
const REGISTER: &str = "register";
const SIGN_IN: &str = "sign_in";
/// A passkey answering the sign-in step after the password (service/passkey_step.rs).
pub(super) const STEP: &str = "step";

impl AuthService {
    /// Step one of adding a passkey: the options for navigator.credentials.create.
    #[tracing::instrument(skip_all)]
    pub async fn passkey_register_start(
        &self,
        session_token: &str,
    ) -> Result<PasskeyCeremony, AppError> {
        let user = self.signed_in_recently(session_token).await?;
        let fresh = Uuid::new_v4().to_string();
        let handle = user::webauthn_id(&self.db, &user.id, &fresh)
            .await
            .or_internal("passkey: user handle")?;
        let handle = Uuid::parse_str(&handle).map_err(|_| AppError::Internal)?;
        let existing = passkey::of_account(&self.db, &user.id)
            .await
            .or_internal("passkey: existing")?;
        let exclude = existing
            .iter()
            .filter_map(|row| serde_json::from_str::<Passkey>(&row.data).ok())
            .map(|key| key.cred_id().clone())
            .collect();
        let (options, state) = self
            .webauthn
            .start_passkey_registration(handle, &user.username, &user.full_name, Some(exclude))
            .map_err(|e| internal_webauthn("passkey: register start", e))?;
        // Signing in names no account, so the passkey must be discoverable: the authenticator
        // keeps it and offers it for this site. (webauthn-rs's passkeys leave that open.)
        let mut options = serde_json::to_value(&options).map_err(|_| AppError::Internal)?;
        let selection = &mut options["publicKey"]["authenticatorSelection"];
        selection["residentKey"] = "required".into();
        selection["requireResidentKey"] = true.into();
        self.ceremony(REGISTER, Some(user.id), &state, &options)
            .await
    }

    /// Step two: the browser's new credential. With the first strong factor come recovery
    /// codes; the phone is told.
    #[tracing::instrument(skip_all)]
    pub async fn passkey_register_finish(
        &self,
        session_token: &str,
        key: &str,
        credential: &str,
        name: &str,
        client: &ClientInfo,
    ) -> Result<(), AppError> {
        let user = self.signed_in_recently(session_token).await?;
        let row = self.take_ceremony(key, REGISTER).await?;
        if row.account.as_ref() != Some(&user.id) {
            return Err(AppError::CodeExpired);
        }
        let state: PasskeyRegistration =
            serde_json::from_str(&row.state).map_err(|_| AppError::Internal)?;
        let credential: RegisterPublicKeyCredential =
            serde_json::from_str(credential).map_err(|_| AppError::Unreadable)?;
        let key = self
            .webauthn
            .finish_passkey_registration(&credential, &state)
            .map_err(|e| refused("passkey: register finish", e))?;
        let data = serde_json::to_value(&key).map_err(|_| AppError::Internal)?;
        // The backup-eligible flag is inside the credential record webauthn-rs keeps.
        let synced = data["cred"]["backup_eligible"].as_bool().unwrap_or(false);
        let new = NewPasskey {
            cred_id: cred_id_text(key.cred_id()),
            data: data.to_string(),
            name: passkey_name(name),
            synced,
        };
        let added = passkey::add(&self.db, &user.id, new, self.clock.now_ms())
            .await
            .or_internal("passkey: add")?;
        if !added {
            return Err(AppError::CodeExpired);
        }
        self.ensure_recovery_codes(&user).await?;
        self.factor_changed(&user, audit_event::Kind::FactorAdded, "passkey", client)
            .await;
        Ok(())
    }

    /// Step one of signing in with a passkey: options for navigator.credentials.get that
    /// name no account, so the browser offers the passkeys it has for this site.
    #[tracing::instrument(skip_all)]
    pub async fn passkey_sign_in_start(
        &self,
        client: &ClientInfo,
    ) -> Result<PasskeyCeremony, AppError> {
        self.count_passkey_start_from_ip(client).await?;
        let (options, state) = self
            .webauthn
            .start_discoverable_authentication()
            .map_err(|e| internal_webauthn("passkey: sign-in start", e))?;
        self.ceremony(SIGN_IN, None, &state, &options).await
    }

    /// Step two: the signed assertion. A passkey with user verification is a whole sign-in.
    #[tracing::instrument(skip_all)]
    pub async fn passkey_sign_in_finish(
        &self,
        key: &str,
        credential: &str,
        client: &ClientInfo,
    ) -> Result<SignedInTokens, AppError> {
        self.count_attempt_from_ip("signin_ip", client).await?;
        let row = self.take_ceremony(key, SIGN_IN).await?;
        let state: DiscoverableAuthentication =
            serde_json::from_str(&row.state).map_err(|_| AppError::Internal)?;
        let credential: PublicKeyCredential =
            serde_json::from_str(credential).map_err(|_| AppError::Unreadable)?;
        let (handle, _) = self
            .webauthn
            .identify_discoverable_authentication(&credential)
            .map_err(|e| refused("passkey: identify", e))?;
        let user = user::by_webauthn_id(&self.db, &handle.to_string())
            .await
            .or_internal("passkey: owner")?
            .ok_or(AppError::SignInFailed)?;
        let keys = self.passkeys_with_rows(&user.id).await?;
        let discoverable: Vec<DiscoverableKey> = keys
            .iter()
            .map(|(_, key)| DiscoverableKey::from(key))
            .collect();
        let result = self
            .webauthn
            .finish_discoverable_authentication(&credential, state, &discoverable)
            .map_err(|e| refused("passkey: verify", e))?;
        let guard = login_guard::get(&self.db, &user.username)
            .await
            .or_internal("passkey: guard")?;
        if guard.locked {
            return Err(AppError::AccountLocked);
        }
        let now = self.clock.now_ms();
        self.record_passkey_use(keys, &result).await?;
        let session_token = token::new_token();
        let methods = vec![SignInMethod::Passkey.stored().to_string()];
        let new = NewSession {
            key: token::storage_key(&session_token),
            account: user.id.clone(),
            expires_at: now + Self::ms(self.config.session_ttl_secs),
            ip: client.ip_text(),
            user_agent: client.user_agent.chars().take(300).collect(),
            methods,
        };
        session::create(&self.db, new, now)
            .await
            .or_internal("passkey: session")?;
        let outcome = transactions::SignedIn {
            username: &user.username,
            used: None,
            events: vec![self.signed_in_event(&user, "passkey", client)],
        };
        transactions::signed_in(&self.db, outcome)
            .await
            .or_internal("passkey: bookkeeping")?;
        Ok(SignedInTokens {
            session: session_token,
            device: Some(self.device_token(&user.username)),
            recovery_left: None,
        })
    }

    /// The account's passkeys as the security page lists them.
    pub(super) async fn passkeys_of(
        &self,
        user: &user::UserRow,
        client: &ClientInfo,
    ) -> Result<Vec<PasskeyInfo>, AppError> {
        let zone = self.zone_for(user, client);
        let rows = passkey::of_account(&self.db, &user.id)
            .await
            .or_internal("passkeys")?;
        Ok(rows
            .into_iter()
            .map(|row| PasskeyInfo {
                id: crate::server::db::key_text(&row.id),
                name: row.name,
                added: format_in(row.created_at, zone),
                last_used: row.last_used_at.map(|at| format_in(at, zone)),
                synced: row.synced,
            })
            .collect())
    }

    #[tracing::instrument(skip_all)]
    pub async fn rename_passkey(
        &self,
        session_token: &str,
        id: &str,
        name: &str,
    ) -> Result<(), AppError> {
        let user = self.signed_in(session_token).await?;
        passkey::rename(&self.db, &user.id, id, &passkey_name(name))
            .await
            .or_internal("passkey: rename")?;
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    pub async fn remove_passkey(
        &self,
        session_token: &str,
        id: &str,
        client: &ClientInfo,
    ) -> Result<(), AppError> {
        let user = self.signed_in_recently(session_token).await?;
        let removed = passkey::remove(&self.db, &user.id, id)
            .await
            .or_internal("passkey: remove")?;
        if removed {
            self.factor_changed(&user, audit_event::Kind::FactorRemoved, "passkey", client)
                .await;
        }
        Ok(())
    }

    /// The account's passkeys, each with its stored row.
    pub(super) async fn passkeys_with_rows(
        &self,
        account: &surrealdb::types::RecordId,
    ) -> Result<Vec<(passkey::PasskeyRow, Passkey)>, AppError> {
        let rows = passkey::of_account(&self.db, account)
            .await
            .or_internal("passkey: keys")?;
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                let key = serde_json::from_str::<Passkey>(&row.data).ok()?;
                Some((row, key))
            })
            .collect())
    }

    /// Stores what a verified assertion changed (its counter, its backup state) and when.
    pub(super) async fn record_passkey_use(
        &self,
        keys: Vec<(passkey::PasskeyRow, Passkey)>,
        result: &AuthenticationResult,
    ) -> Result<(), AppError> {
        let now = self.clock.now_ms();
        for (row, mut key) in keys {
            if key.update_credential(result).is_some() {
                let data = serde_json::to_string(&key).map_err(|_| AppError::Internal)?;
                passkey::used(&self.db, &row.id, &data, now)
                    .await
                    .or_internal("passkey: used")?;
            }
        }
        Ok(())
    }

    pub(super) async fn ceremony(
        &self,
        kind: &str,
        account: Option<surrealdb::types::RecordId>,
        state: &impl serde::Serialize,
        options: &impl serde::Serialize,
    ) -> Result<PasskeyCeremony, AppError> {
        let key = token::new_token();
        let row = CeremonyRow {
            kind: kind.to_string(),
            account,
            state: serde_json::to_string(state).map_err(|_| AppError::Internal)?,
            expires_at: self.clock.now_ms() + CEREMONY_MS,
        };
        webauthn_ceremony::create(&self.db, &key, row)
            .await
            .or_internal("passkey: ceremony")?;
        let options = serde_json::to_string(options).map_err(|_| AppError::Internal)?;
        Ok(PasskeyCeremony { key, options })
    }

    pub(super) async fn take_ceremony(
        &self,
        key: &str,
        kind: &str,
    ) -> Result<CeremonyRow, AppError> {
        if !token::is_well_formed(key) {
            return Err(AppError::CodeExpired);
        }
        webauthn_ceremony::take(&self.db, key, self.clock.now_ms())
            .await
            .or_internal("passkey: take ceremony")?
            .filter(|row| row.kind == kind)
            .ok_or(AppError::CodeExpired)
    }
}

fn cred_id_text(id: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id)
}

/// What the owner called it, tidied; "Passkey" when they said nothing.
fn passkey_name(typed: &str) -> String {
    let name: String = typed
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(60)
        .collect();
    if name.is_empty() {
        "Passkey".into()
    } else {
        name
    }
}

/// A ceremony the browser's answer did not satisfy: the same refusal as a wrong code.
pub(super) fn refused(context: &str, e: webauthn_rs::prelude::WebauthnError) -> AppError {
    tracing::info!("{context}: {e}");
    AppError::SignInFailed
}

pub(super) fn internal_webauthn(context: &str, e: webauthn_rs::prelude::WebauthnError) -> AppError {
    tracing::error!("{context}: {e}");
    AppError::Internal
}
