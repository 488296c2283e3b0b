//! The signed-in account's own pages: its sessions, its password and its profile (a new phone
//! number is `phone_change.rs`).

use super::{hashing, AuthService, OrInternal, Who};
use crate::error::{AppError, FieldErrors, Problem};
use crate::model::{SessionInfo, SignInMethod};
use crate::server::auth::{token, validate};
use crate::server::client::{describe_device, ClientInfo};
use crate::server::clock::format_in;
use crate::server::db::{audit_event, login_guard, session, user};

/// How long after its second factor a session may make sensitive changes: Kratos' default for
/// a privileged session.
pub const STEP_UP_SECS: u64 = 15 * 60;

impl AuthService {
    /// The account behind a session token, or NotSignedIn.
    pub(super) async fn signed_in(&self, session_token: &str) -> Result<user::UserRow, AppError> {
        if !token::is_well_formed(session_token) {
            return Err(AppError::NotSignedIn);
        }
        self.session_user(&token::storage_key(session_token))
            .await
            .or_internal("session lookup")?
            .ok_or(AppError::NotSignedIn)
    }

    /// The account behind a session whose second factor was proven within the last
    /// `STEP_UP_SECS`: what changing the password, phone, email or a factor needs, so a
    /// session left open, or stolen, cannot take the account over. Otherwise StepUpNeeded: the
    /// page asks the owner to sign in again.
    pub(super) async fn signed_in_recently(
        &self,
        session_token: &str,
    ) -> Result<user::UserRow, AppError> {
        let user = self.signed_in(session_token).await?;
        let proven_at = session::proven_at(&self.db, &token::storage_key(session_token))
            .await
            .or_internal("session: proven at")?
            .unwrap_or(0);
        if self.clock.now_ms() - proven_at > Self::ms(STEP_UP_SECS) {
            return Err(AppError::StepUpNeeded);
        }
        Ok(user)
    }

    /// Every live session of the signed-in account, the current one marked.
    #[tracing::instrument(skip_all)]
    pub async fn sessions(
        &self,
        session_token: &str,
        client: &ClientInfo,
    ) -> Result<Vec<SessionInfo>, AppError> {
        let user = self.signed_in(session_token).await?;
        let zone = self.zone_for(&user, client);
        let current = token::storage_key(session_token);
        let now = self.clock.now_ms();
        let idle_since = now - Self::ms(self.config.session_idle_timeout_secs);
        let rows = session::live_for(&self.db, &user.id, now, idle_since)
            .await
            .or_internal("sessions")?;
        Ok(rows
            .into_iter()
            .map(|row| SessionInfo {
                current: row.key == current,
                device: describe_device(row.user_agent.as_deref().unwrap_or_default()),
                ip: row.ip.unwrap_or_else(|| "unknown".into()),
                signed_in: format_in(row.created_at, zone),
                last_seen: format_in(row.last_seen, zone),
                methods: row
                    .methods
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|m| SignInMethod::from_stored(m))
                    .collect(),
                id: row.key,
            })
            .collect())
    }

    /// Ends one session of the signed-in account (never another account's).
    #[tracing::instrument(skip_all)]
    pub async fn end_session(
        &self,
        session_token: &str,
        id: &str,
        client: &ClientInfo,
    ) -> Result<(), AppError> {
        let user = self.signed_in(session_token).await?;
        let ended = session::end_one(&self.db, &user.id, id)
            .await
            .or_internal("end session")?;
        if ended {
            self.audit(
                audit_event::Kind::SessionEnded,
                Who::user(&user),
                "",
                client,
            )
            .await;
        }
        Ok(())
    }

    /// Ends every session of the signed-in account but this one; how many ended.
    #[tracing::instrument(skip_all)]
    pub async fn end_other_sessions(
        &self,
        session_token: &str,
        client: &ClientInfo,
    ) -> Result<usize, AppError> {
        let user = self.signed_in(session_token).await?;
        let keep = token::storage_key(session_token);
        let ended = session::end_others(&self.db, &user.id, &keep)
            .await
            .or_internal("end other sessions")?;
        if ended > 0 {
            let detail = ended.to_string();
            self.audit(
                audit_event::Kind::SessionEnded,
                Who::user(&user),
                &detail,
                client,
            )
            .await;
        }
        Ok(ended)
    }

    /// A new password, given the current one; every other session of the account ends.
    #[tracing::instrument(skip_all)]
    pub async fn change_password(
        &self,
        session_token: &str,
        current: String,
        new: String,
        client: &ClientInfo,
    ) -> Result<(), AppError> {
        let user = self.signed_in_recently(session_token).await?;
        validate::password(&new).map_err(|e| AppError::invalid(|f| f.password = Some(e)))?;
        self.confirm_password(&user, current, "change password", client)
            .await?;
        let hash = self
            .hasher
            .hash(new)
            .await
            .map_err(|e| hashing("change password: hash", e))?;
        let keep = session::record(&token::storage_key(session_token));
        user::set_password(&self.db, &user.id, &hash, keep)
            .await
            .or_internal("change password")?;
        self.audit(
            audit_event::Kind::PasswordChanged,
            Who::user(&user),
            "",
            client,
        )
        .await;
        Ok(())
    }
}

impl AuthService {
    /// The current password, checked like a sign-in: a wrong one counts toward the lockout.
    pub(super) async fn confirm_password(
        &self,
        user: &user::UserRow,
        password: String,
        what: &str,
        client: &ClientInfo,
    ) -> Result<(), AppError> {
        let guard = login_guard::get(&self.db, &user.username)
            .await
            .or_internal("confirm password: guard")?;
        let now = self.clock.now_ms();
        if guard.locked {
            return Err(AppError::AccountLocked);
        }
        let device = self
            .trusted_device(client.device.as_deref(), &user.username, now)
            .await?;
        if guard.retry_at > now && device.is_none() {
            return Err(AppError::TooManyRequests {
                wait_secs: super::secs_until(guard.retry_at, now),
            });
        }
        let matched = self
            .hasher
            .verify(Some(user.password_hash.clone()), password)
            .await
            .map_err(|e| hashing("confirm password", e))?;
        if !matched {
            // Someone at an unattended, signed-in browser guessing: it counts like a sign-in.
            self.audit(
                audit_event::Kind::SignInFailed,
                Who::user(user),
                what,
                client,
            )
            .await;
            self.failed(Who::user(user), now, client).await?;
            return Err(AppError::invalid(|f| {
                f.current_password = Some(Problem::CurrentPasswordWrong)
            }));
        }
        Ok(())
    }
}

impl AuthService {
    /// New name and email for the signed-in account; the username stays.
    #[tracing::instrument(skip_all)]
    pub async fn update_profile(
        &self,
        session_token: &str,
        full_name: &str,
        email: &str,
        client: &ClientInfo,
    ) -> Result<(), AppError> {
        let user = self.signed_in(session_token).await?;
        // A new email is a new way to reach the owner: it needs a fresh second factor too.
        if email.trim() != user.email {
            self.signed_in_recently(session_token).await?;
        }
        let mut errors = FieldErrors::default();
        let full_name = validate::full_name(full_name)
            .map_err(|e| errors.full_name = Some(e))
            .ok();
        let email = validate::email(email)
            .map_err(|e| errors.email = Some(e))
            .ok();
        let (Some(full_name), Some(email)) = (full_name, email) else {
            return Err(AppError::InvalidFields(Box::new(errors)));
        };
        user::set_profile(&self.db, &user.id, &full_name, &email)
            .await
            .or_internal("profile")?;
        self.audit(
            audit_event::Kind::ProfileChanged,
            Who::user(&user),
            "",
            client,
        )
        .await;
        Ok(())
    }
}
