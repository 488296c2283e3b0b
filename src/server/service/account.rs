//! The signed-in account's own pages: its sessions and its password.

use super::{format_utc, hashing, internal, AuthService, Who};
use crate::error::AppError;
use crate::model::SessionInfo;
use crate::server::auth::{token, validate};
use crate::server::client::{describe_device, ClientInfo};
use crate::server::db::{audit, guards, sessions, users};

impl AuthService {
    /// The account behind a session token, or NotSignedIn.
    async fn signed_in(&self, session_token: &str) -> Result<users::UserRow, AppError> {
        if !token::is_well_formed(session_token) {
            return Err(AppError::NotSignedIn);
        }
        self.session_user(&token::storage_key(session_token))
            .await
            .map_err(|e| internal("session lookup", e))?
            .ok_or(AppError::NotSignedIn)
    }

    /// Every live session of the signed-in account, the current one marked.
    pub async fn sessions(&self, session_token: &str) -> Result<Vec<SessionInfo>, AppError> {
        let user = self.signed_in(session_token).await?;
        let current = token::storage_key(session_token);
        let now = self.clock.now_ms();
        let idle_since = now - Self::ms(self.config.session_idle_timeout_secs);
        let rows = sessions::live_for(&self.db, &user.id, now, idle_since)
            .await
            .map_err(|e| internal("sessions", e))?;
        Ok(rows
            .into_iter()
            .map(|row| SessionInfo {
                current: row.key == current,
                device: describe_device(row.user_agent.as_deref().unwrap_or_default()),
                ip: row.ip.unwrap_or_else(|| "unknown".into()),
                signed_in: format_utc(row.created_at),
                last_seen: format_utc(row.last_seen),
                id: row.key,
            })
            .collect())
    }

    /// Ends one session of the signed-in account (never another account's).
    pub async fn end_session(
        &self,
        session_token: &str,
        id: &str,
        client: &ClientInfo,
    ) -> Result<(), AppError> {
        let user = self.signed_in(session_token).await?;
        let ended = sessions::end_one(&self.db, &user.id, id)
            .await
            .map_err(|e| internal("end session", e))?;
        if ended {
            self.audit(audit::Kind::SessionEnded, Who::user(&user), "", client)
                .await;
        }
        Ok(())
    }

    /// Ends every session of the signed-in account but this one; how many ended.
    pub async fn end_other_sessions(
        &self,
        session_token: &str,
        client: &ClientInfo,
    ) -> Result<usize, AppError> {
        let user = self.signed_in(session_token).await?;
        let keep = token::storage_key(session_token);
        let ended = sessions::end_others(&self.db, &user.id, &keep)
            .await
            .map_err(|e| internal("end other sessions", e))?;
        if ended > 0 {
            let detail = ended.to_string();
            self.audit(audit::Kind::SessionEnded, Who::user(&user), &detail, client)
                .await;
        }
        Ok(ended)
    }

    /// A new password, given the current one; every other session of the account ends.
    pub async fn change_password(
        &self,
        session_token: &str,
        current: String,
        new: String,
        client: &ClientInfo,
    ) -> Result<(), AppError> {
        let user = self.signed_in(session_token).await?;
        validate::password(&new).map_err(|e| AppError::invalid(|f| f.password = Some(e)))?;
        let guard = guards::get(&self.db, &user.username)
            .await
            .map_err(|e| internal("change password: guard", e))?;
        let now = self.clock.now_ms();
        if guard.retry_at > now {
            return Err(AppError::TooManyRequests {
                wait_secs: super::secs_until(guard.retry_at, now),
            });
        }
        let matched = self
            .hasher
            .verify(Some(user.password_hash.clone()), current)
            .await
            .map_err(|e| hashing("change password: verify", e))?;
        if !matched {
            // Someone at an unattended, signed-in browser guessing: it counts like a sign-in.
            self.audit(
                audit::Kind::SignInFailed,
                Who::user(&user),
                "change password",
                client,
            )
            .await;
            self.failed(Who::user(&user), now, client).await?;
            return Err(AppError::invalid(|f| {
                f.current_password = Some("That is not your current password.".into())
            }));
        }
        let hash = self
            .hasher
            .hash(new)
            .await
            .map_err(|e| hashing("change password: hash", e))?;
        let keep = sessions::record(&token::storage_key(session_token));
        users::set_password(&self.db, &user.id, &hash, keep)
            .await
            .map_err(|e| internal("change password", e))?;
        self.audit(audit::Kind::PasswordChanged, Who::user(&user), "", client)
            .await;
        Ok(())
    }
}
