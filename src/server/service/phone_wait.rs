//! A phone change by someone who no longer has the current number: the new number proves
//! itself, then the move waits, announced to the current number with a link that cancels it.
//! Someone holding only the password cannot move the second factor quietly; its owner, who
//! lost the phone, is not locked out for good.

use super::{AuthService, OrInternal, Who};
use crate::error::AppError;
use crate::model::{PhoneChangeState, LOST_PHONE_WAIT_HOURS, PHONE_CANCEL_PAGE};
use crate::server::auth::phone::mask_e164;
use crate::server::auth::token;
use crate::server::client::ClientInfo;
use crate::server::clock::format_in;
use crate::server::db::otp_challenge::ChallengeRow;
use crate::server::db::phone_wait::{self, Moved, NewWait, WaitRow};
use crate::server::db::{audit_event, session, user, DbError};
use crate::server::sms::templates::FALLBACK;
use crate::server::sms::MessageKind;

impl AuthService {
    /// A correct code for a change whose current number proved nothing: the wait begins and
    /// the current number is told how to cancel it. If it cannot be told, nothing waits.
    pub(super) async fn begin_phone_wait(
        &self,
        user: &user::UserRow,
        challenge_key: &str,
        row: &ChallengeRow,
        session_token: &str,
        client: &ClientInfo,
    ) -> Result<(), AppError> {
        let now = self.clock.now_ms();
        let link_token = token::new_link_token();
        let wait = NewWait {
            started_at: now,
            ready_at: now + (LOST_PHONE_WAIT_HOURS * 3600 * 1000) as i64,
            cancel_key: token::storage_key(&link_token),
            keep_session: session::record(&token::storage_key(session_token)),
        };
        let max = self.config.otp.max_attempts;
        let began = phone_wait::begin(&self.db, challenge_key, &row.code_mac, max, now, wait)
            .await
            .or_internal("phone wait: begin")?;
        if !began {
            return Err(AppError::CodeExpired);
        }
        let language = user.language.as_deref().unwrap_or(FALLBACK);
        let path = format!("{PHONE_CANCEL_PAGE}?t={link_token}");
        let told = self
            .sms
            .send_linked_notice(
                &user.phone,
                MessageKind::PhoneChangeWaiting,
                language,
                &path,
                LOST_PHONE_WAIT_HOURS,
                now,
            )
            .await;
        if let Err(e) = told {
            tracing::error!("phone wait: the current number could not be told: {e}");
            phone_wait::cancel_of_account(&self.db, &user.id)
                .await
                .or_internal("phone wait: undo")?;
            return Err(AppError::SmsFailed);
        }
        let detail = mask_e164(&row.phone);
        self.audit(
            audit_event::Kind::PhoneChangeWaiting,
            Who::user(user),
            &detail,
            client,
        )
        .await;
        Ok(())
    }

    /// The waiting change of a signed-in account, as its phone page shows it.
    pub(super) async fn phone_wait_of(
        &self,
        user: &user::UserRow,
        client: &ClientInfo,
    ) -> Result<Option<PhoneChangeState>, AppError> {
        let zone = self.zone_for(user, client);
        let wait = phone_wait::of_account(&self.db, &user.id)
            .await
            .or_internal("phone wait: read")?;
        Ok(wait.map(|w| PhoneChangeState::Waiting {
            masked_phone: crate::server::auth::phone::mask_e164_for_display(&w.phone),
            moves_at: format_in(w.ready_at, zone),
        }))
    }

    /// The signed-in owner calls off their waiting change.
    #[tracing::instrument(skip_all)]
    pub async fn cancel_phone_wait(
        &self,
        session_token: &str,
        client: &ClientInfo,
    ) -> Result<(), AppError> {
        let user = self.signed_in(session_token).await?;
        let cancelled = phone_wait::cancel_of_account(&self.db, &user.id)
            .await
            .or_internal("phone wait: cancel")?;
        if cancelled.is_some() {
            self.audit(
                audit_event::Kind::PhoneChangeCancelled,
                Who::user(&user),
                "by the owner",
                client,
            )
            .await;
        }
        Ok(())
    }

    /// The current number's holder calls off the change with the link the notice carried; no
    /// sign-in needed, as the link itself came to that phone.
    #[tracing::instrument(skip_all)]
    pub async fn cancel_phone_wait_by_link(
        &self,
        link_token: &str,
        client: &ClientInfo,
    ) -> Result<(), AppError> {
        let link_token = link_token.trim();
        if !token::is_well_formed_link(link_token) {
            return Err(AppError::LinkExpired);
        }
        let cancelled = phone_wait::cancel_by_key(&self.db, &token::storage_key(link_token))
            .await
            .or_internal("phone wait: cancel by link")?
            .ok_or(AppError::LinkExpired)?;
        let owner = user::find(&self.db, &cancelled.account)
            .await
            .or_internal("phone wait: owner")?;
        let who = owner.as_ref().map(Who::user).unwrap_or_else(Who::nobody);
        self.audit(
            audit_event::Kind::PhoneChangeCancelled,
            who,
            "by the link sent to the current number",
            client,
        )
        .await;
        Ok(())
    }

    /// Carries out every change whose wait is over; run by every instance now and then (each
    /// change happens once, whoever gets there first). Returns how many moved.
    pub async fn carry_out_phone_waits(&self) -> Result<usize, DbError> {
        let now = self.clock.now_ms();
        let mut moved = 0;
        for wait in phone_wait::due(&self.db, now).await? {
            if self.carry_out(&wait, now).await? {
                moved += 1;
            }
        }
        Ok(moved)
    }

    async fn carry_out(&self, wait: &WaitRow, now: i64) -> Result<bool, DbError> {
        let Some(owner) = user::find(&self.db, &wait.account).await? else {
            phone_wait::cancel_of_account(&self.db, &wait.account).await?;
            return Ok(false);
        };
        let system = ClientInfo::default();
        match phone_wait::carry_out(&self.db, wait, now).await? {
            Moved::Gone => Ok(false),
            Moved::NumberTaken => {
                let detail = "the new number went to another account while it waited";
                self.audit(
                    audit_event::Kind::PhoneChangeCancelled,
                    Who::user(&owner),
                    detail,
                    &system,
                )
                .await;
                Ok(false)
            }
            Moved::Moved => {
                self.audit(
                    audit_event::Kind::PhoneChanged,
                    Who::user(&owner),
                    &mask_e164(&wait.phone),
                    &system,
                )
                .await;
                let language = owner.language.as_deref().unwrap_or(FALLBACK);
                let notice =
                    self.sms
                        .send_notice(&owner.phone, MessageKind::PhoneChanged, language, now);
                if let Err(e) = notice.await {
                    tracing::error!("phone wait: notice to the old number: {e}");
                }
                Ok(true)
            }
        }
    }
}
