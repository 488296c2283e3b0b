//! A new phone number for the signed-in account: the password, then a code to the new number
//! and one to the number it replaces; both entered, the account moves to the new number. Who
//! no longer has the current number proves the new one only, and the move waits (phone_wait).

use super::guess::{current_phone_subject, Guessed, Guesser};
use super::{pending_of_new, AuthService, CodeSent, OrInternal, Who};
use crate::error::{AppError, FieldErrors, Problem};
use crate::model::{CodePurpose, PhoneChangeState};
use crate::server::auth::phone::mask_e164;
use crate::server::auth::token;
use crate::server::client::ClientInfo;
use crate::server::db::otp_challenge;
use crate::server::db::transactions::{self, PhoneChange, WithSend};
use crate::server::db::{audit_event, session, user};
use crate::server::sms::templates::FALLBACK;
use crate::server::sms::{CodeSms, MessageKind};

/// How a right pair of codes ended.
#[derive(Debug, PartialEq, Eq)]
pub enum PhoneChangeEnd {
    Changed,
    /// The current number proved nothing: the move waits (phone_wait).
    Waiting,
}

impl AuthService {
    /// Step one of a new phone number: the password, then a code to the new number and one to
    /// the number it replaces (none when `lost_current`: the change will wait instead). Returns
    /// the challenge for the browser's cookie.
    #[tracing::instrument(skip_all)]
    pub async fn start_phone_change(
        &self,
        session_token: &str,
        password: String,
        new_phone: &str,
        country: Option<&str>,
        lost_current: bool,
        client: &ClientInfo,
    ) -> Result<CodeSent, AppError> {
        let user = self.signed_in_recently(session_token).await?;
        self.confirm_password(&user, password, "change phone", client)
            .await?;
        let phone = self.parse_phone(new_phone, country).map_err(|problem| {
            let mut fields = FieldErrors::default();
            self.phone_problem(&mut fields, problem);
            AppError::InvalidFields(Box::new(fields))
        })?;
        let phone = phone.e164().to_string();
        if phone == user.phone {
            return Err(AppError::invalid(|f| f.phone = Some(Problem::PhoneSame)));
        }
        let now = self.clock.now_ms();
        let taken = user::taken(&self.db, "", &phone, self.stale_before(now))
            .await
            .or_internal("change phone: taken")?;
        if taken.phone {
            return Err(AppError::invalid(|f| {
                f.phone = Some(Problem::PhoneOtherAccount)
            }));
        }
        let ask_current = !lost_current;
        // The number being replaced proves itself too: a password alone must not move the
        // second factor to a phone an attacker holds.
        if ask_current {
            self.may_send(
                &user.phone,
                CodePurpose::ChangePhone,
                true,
                client,
                now,
                WithSend::default(),
            )
            .await?;
        }
        self.may_send(
            &phone,
            CodePurpose::ChangePhone,
            false,
            client,
            now,
            WithSend::default(),
        )
        .await?;
        let language = self.language_of(&user, client).await;
        let language = language.as_str();
        let (challenge, code) = self.new_challenge(
            (user.id.clone(), &user.username),
            CodePurpose::ChangePhone,
            &phone,
            language,
            now,
        );
        let challenge_key = challenge.key.clone();
        let pending = pending_of_new(&challenge, now);
        let current_code = ask_current.then(|| self.code_for(&user.phone, now));
        let current_mac = current_code.as_ref().map(|code| {
            self.code_key
                .mac(&current_phone_subject(&challenge_key), code)
        });
        otp_challenge::create_phone_change(&self.db, challenge, current_mac)
            .await
            .or_internal("change phone: challenge")?;
        let sms = |to, code| CodeSms {
            purpose: CodePurpose::ChangePhone,
            to,
            code,
            language,
            challenge: &challenge_key,
            after: None,
            event: None,
        };
        let to_current = match &current_code {
            Some(code) => self.deliver(sms(&user.phone, code), None, now).await,
            None => Ok(()),
        };
        let sent = match to_current {
            Ok(()) => self.deliver(sms(&phone, &code), None, now).await,
            Err(_) => Err(AppError::SmsFailed),
        };
        if let Err(error) = sent {
            if let Err(e) = otp_challenge::delete(&self.db, &challenge_key).await {
                tracing::error!("change phone: cleanup after failed send: {e}");
            }
            // The new number is the user's own typing: show its problem at the field.
            return Err(super::at_phone_field(error));
        }
        Ok(CodeSent {
            challenge_key,
            pending,
        })
    }

    /// Where this account's phone change stands: waiting out its time, waiting for the codes
    /// this browser was sent, or not under way.
    #[tracing::instrument(skip_all)]
    pub async fn phone_change_state(
        &self,
        session_token: &str,
        challenge_key: &str,
        client: &ClientInfo,
    ) -> Result<PhoneChangeState, AppError> {
        let user = self.signed_in(session_token).await?;
        if let Some(waiting) = self.phone_wait_of(&user, client).await? {
            return Ok(waiting);
        }
        let now = self.clock.now_ms();
        let row = self
            .challenge(challenge_key, |r| {
                is_phone_change_of(r, &user) && !r.consumed && r.expires_at > now
            })
            .await?;
        let code = row.and_then(|r| {
            let asks_current = r.current_phone_mac.is_some();
            self.pending_of(&r, now)
                .map(|pending| PhoneChangeState::Code {
                    pending,
                    asks_current,
                })
        });
        Ok(code.unwrap_or(PhoneChangeState::Idle))
    }

    /// Step two: the code from the new number and the one from the number it replaces. The old
    /// number gets a notice; every other session of the account ends. A change that sent no
    /// code to the current number begins its wait instead.
    #[tracing::instrument(skip_all)]
    pub async fn finish_phone_change(
        &self,
        session_token: &str,
        challenge_key: &str,
        code: &str,
        current_code: &str,
        client: &ClientInfo,
    ) -> Result<PhoneChangeEnd, AppError> {
        let user = self.signed_in(session_token).await?;
        let code = self.code_to_check(code, client).await?;
        // A change that lost the current phone has no second code to ask for.
        let current_code = match current_code.trim() {
            "" => None,
            typed => Some(Self::normalised(typed)?),
        };
        let now = self.clock.now_ms();
        let max = self.config.otp.max_attempts;
        // Only this account's own phone change may be guessed at here.
        let ours = self.challenge(challenge_key, |r| is_phone_change_of(r, &user));
        if ours.await?.is_none() {
            return Err(AppError::CodeExpired);
        }
        match self
            .guess(
                challenge_key,
                |row| self.codes_match(challenge_key, &code, current_code.as_deref(), row),
                Guesser {
                    user: Some(&user),
                    what: "change phone",
                    lockout: true,
                },
                client,
            )
            .await?
        {
            Guessed::Dead => Err(AppError::CodeExpired),
            Guessed::Wrong { tries_left } => Err(AppError::WrongCode { tries_left }),
            Guessed::Right(row) if row.current_phone_mac.is_none() => {
                self.begin_phone_wait(&user, challenge_key, &row, session_token, client)
                    .await?;
                Ok(PhoneChangeEnd::Waiting)
            }
            Guessed::Right(row) => {
                let keep = session::record(&token::storage_key(session_token));
                let outcome = transactions::redeem_phone_change(
                    &self.db,
                    challenge_key,
                    &row.code_mac,
                    max,
                    now,
                    keep,
                )
                .await
                .or_internal("phone change: redeem")?;
                match outcome {
                    PhoneChange::Changed => {}
                    PhoneChange::Unavailable => return Err(AppError::CodeExpired),
                    PhoneChange::NumberTaken => {
                        return Err(AppError::invalid(|f| {
                            f.phone = Some(Problem::PhoneOtherAccount)
                        }))
                    }
                }
                let detail = mask_e164(&row.phone);
                self.audit(
                    audit_event::Kind::PhoneChanged,
                    Who::user(&user),
                    &detail,
                    client,
                )
                .await;
                let language = user.language.as_deref().unwrap_or(FALLBACK);
                if let Err(e) = self
                    .sms
                    .send_notice(&user.phone, MessageKind::PhoneChanged, language, now)
                    .await
                {
                    tracing::error!("phone change notice to the old number: {e}");
                }
                Ok(PhoneChangeEnd::Changed)
            }
        }
    }
}

/// A phone change started by this account: another account's key is no key at all.
fn is_phone_change_of(row: &otp_challenge::ChallengeRow, user: &user::UserRow) -> bool {
    row.purpose() == Some(CodePurpose::ChangePhone) && row.account == user.id
}
