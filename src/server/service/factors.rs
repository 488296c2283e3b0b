//! The signed-in owner's factors beyond SMS: an authenticator app (set up, confirmed by its
//! first code, removed with the password) and recovery codes (made with the first strong
//! factor, renewed whole). Every change is audited and texted to the account's phone.

use super::second_factor::recovery_subject;
use super::{AuthService, OrInternal, Who};
use crate::error::{AppError, Problem};
use crate::model::{AppState, SecurityView, SignInMethod};
use crate::server::auth::{qr, recovery, totp};
use crate::server::client::ClientInfo;
use crate::server::clock::format_in;
use crate::server::db::{audit_event, recovery_set, totp as totp_table, user};
use crate::server::sms::templates::FALLBACK;
use crate::server::sms::MessageKind;

/// The name apps show above the codes.
const ISSUER: &str = "Dynamic OTP";

impl AuthService {
    /// What the security page shows.
    #[tracing::instrument(skip_all)]
    pub async fn security(
        &self,
        session_token: &str,
        client: &ClientInfo,
    ) -> Result<SecurityView, AppError> {
        let user = self.signed_in(session_token).await?;
        let zone = self.zone_for(&user, client);
        let row = totp_table::of_account(&self.db, &user.id)
            .await
            .or_internal("security: app")?;
        let app = match row {
            None => AppState::Off,
            Some(row) if row.enabled => AppState::On {
                since: format_in(row.enabled_at.unwrap_or(row.created_at), zone),
                last_used: row.last_used_at.map(|at| format_in(at, zone)),
            },
            Some(row) => match self.sealer().open(&user.username, &row.sealed) {
                Some(opened) => {
                    let uri = totp::otpauth_uri(ISSUER, &user.username, &opened.secret);
                    AppState::Pending {
                        key: grouped(&totp::base32(&opened.secret)),
                        qr_svg: qr::svg(&uri).unwrap_or_default(),
                    }
                }
                // Sealed under a key no longer known: start again.
                None => AppState::Off,
            },
        };
        let set = recovery_set::of_account(&self.db, &user.id)
            .await
            .or_internal("security: recovery codes")?;
        let recovery_codes = set
            .as_ref()
            .and_then(|s| s.reveal.as_deref())
            .and_then(|sealed| self.sealer().open(&user.username, sealed))
            .map(|opened| {
                String::from_utf8_lossy(&opened.secret)
                    .lines()
                    .map(str::to_string)
                    .collect()
            });
        Ok(SecurityView {
            passkeys: self.passkeys_of(&user, client).await?,
            app,
            recovery_left: set.map(|s| s.unused.len()),
            recovery_codes,
        })
    }

    /// A new authenticator-app key, waiting for its first code.
    #[tracing::instrument(skip_all)]
    pub async fn start_app(&self, session_token: &str) -> Result<(), AppError> {
        let user = self.signed_in_recently(session_token).await?;
        let sealed = self.sealer().seal(&user.username, &totp::new_secret());
        // False when an app is already on: the page shows that, and there is nothing to start.
        totp_table::start(&self.db, &user.id, &sealed, self.clock.now_ms())
            .await
            .or_internal("app: start")?;
        Ok(())
    }

    /// The first code from the app confirms it. With the first strong factor come recovery
    /// codes, shown on the page until the owner says they are saved.
    #[tracing::instrument(skip_all)]
    pub async fn confirm_app(
        &self,
        session_token: &str,
        code: &str,
        client: &ClientInfo,
    ) -> Result<(), AppError> {
        let user = self.signed_in_recently(session_token).await?;
        let code = self.code_to_check(code, client).await?;
        let key = self
            .app_key(&user, false)
            .await?
            .ok_or(AppError::CodeExpired)?;
        let now = self.clock.now_ms();
        let wrong = || AppError::invalid(|f| f.code = Some(Problem::AppCodeWrong));
        let step = totp::matching_step(&key.secret, &code, now, 0).ok_or_else(wrong)?;
        let confirmed = totp_table::use_step(&self.db, &user.id, step, true, now)
            .await
            .or_internal("app: confirm")?;
        if !confirmed {
            return Err(AppError::CodeExpired);
        }
        self.right_code_checked(client).await;
        self.ensure_recovery_codes(&user).await?;
        // A factor just set up is the one to offer first.
        user::set_last_method(&self.db, &user.id, SignInMethod::App.stored())
            .await
            .or_internal("app: first")?;
        self.factor_changed(&user, audit_event::Kind::FactorAdded, "app", client)
            .await;
        Ok(())
    }

    /// Removes the app (and the recovery codes that came with it), given the password.
    #[tracing::instrument(skip_all)]
    pub async fn remove_app(
        &self,
        session_token: &str,
        password: String,
        client: &ClientInfo,
    ) -> Result<(), AppError> {
        let user = self.signed_in_recently(session_token).await?;
        self.confirm_password(&user, password, "remove app", client)
            .await?;
        let removed = totp_table::remove(&self.db, &user.id)
            .await
            .or_internal("app: remove")?;
        // Recovery codes stand in for a strong factor: they go with the last one.
        if !self.has_strong_factor(&user).await? {
            recovery_set::remove(&self.db, &user.id)
                .await
                .or_internal("app: remove recovery codes")?;
        }
        if removed {
            self.factor_changed(&user, audit_event::Kind::FactorRemoved, "app", client)
                .await;
        }
        Ok(())
    }

    /// Ten new recovery codes; the old ones stop working.
    #[tracing::instrument(skip_all)]
    pub async fn renew_recovery_codes(
        &self,
        session_token: &str,
        client: &ClientInfo,
    ) -> Result<(), AppError> {
        let user = self.signed_in_recently(session_token).await?;
        // Recovery codes stand in for a strong factor; without one they have nothing to recover.
        if !self.has_strong_factor(&user).await? {
            return Err(AppError::CodeExpired);
        }
        self.make_recovery_codes(&user).await?;
        self.factor_changed(
            &user,
            audit_event::Kind::RecoveryCodesRenewed,
            "recovery codes",
            client,
        )
        .await;
        Ok(())
    }

    /// The owner saved the codes: the page stops showing them.
    #[tracing::instrument(skip_all)]
    pub async fn recovery_codes_saved(&self, session_token: &str) -> Result<(), AppError> {
        let user = self.signed_in(session_token).await?;
        recovery_set::forget_reveal(&self.db, &user.id)
            .await
            .or_internal("recovery codes: saved")
    }

    /// An authenticator app that is on, or a passkey.
    async fn has_strong_factor(&self, user: &user::UserRow) -> Result<bool, AppError> {
        let app = totp_table::of_account(&self.db, &user.id)
            .await
            .or_internal("strong factor: app")?
            .is_some_and(|row| row.enabled);
        let passkeys = crate::server::db::passkey::of_account(&self.db, &user.id)
            .await
            .or_internal("strong factor: passkeys")?;
        Ok(app || !passkeys.is_empty())
    }

    /// Recovery codes come with the first strong factor; later ones keep the set there is.
    pub(super) async fn ensure_recovery_codes(&self, user: &user::UserRow) -> Result<(), AppError> {
        let has_codes = recovery_set::of_account(&self.db, &user.id)
            .await
            .or_internal("recovery codes")?
            .is_some();
        if has_codes {
            return Ok(());
        }
        self.make_recovery_codes(user).await
    }

    async fn make_recovery_codes(&self, user: &user::UserRow) -> Result<(), AppError> {
        let codes = recovery::new_codes();
        let subject = recovery_subject(&user.username);
        let macs = codes
            .iter()
            .filter_map(|code| recovery::normalise(code))
            .map(|code| self.code_key.mac(&subject, &code))
            .collect();
        let reveal = self
            .sealer()
            .seal(&user.username, codes.join("\n").as_bytes());
        recovery_set::replace(&self.db, &user.id, macs, reveal, self.clock.now_ms())
            .await
            .or_internal("recovery codes: make")
    }

    /// Audits a factor change and texts the account's phone, so a change nobody asked for is
    /// seen.
    pub(super) async fn factor_changed(
        &self,
        user: &user::UserRow,
        kind: audit_event::Kind,
        detail: &str,
        client: &ClientInfo,
    ) {
        self.audit(kind, Who::user(user), detail, client).await;
        let language = user.language.as_deref().unwrap_or(FALLBACK);
        let now = self.clock.now_ms();
        let notice = self
            .sms
            .send_notice(&user.phone, MessageKind::FactorChanged, language, now);
        if let Err(e) = notice.await {
            tracing::error!("factor notice: {e}");
        }
    }
}

/// "ABCD EFGH …": a key people can type into an app by hand.
fn grouped(key: &str) -> String {
    key.as_bytes()
        .chunks(4)
        .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}
