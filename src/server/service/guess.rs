//! One guess at a code, for every step that takes one (sign-in, registration, reset, phone
//! change): counted in the store before it is compared, so a burst of concurrent guesses
//! checks no more codes than a patient guesser could.

use super::{AuthService, OrInternal, Who};
use crate::error::AppError;
use crate::server::auth::limits::{self, Window};
use crate::server::client::ClientInfo;
use crate::server::db::otp_challenge::{self, ChallengeRow, Guess};
use crate::server::db::user::UserRow;
use crate::server::db::{audit_event, rate_counter};

/// Whose guess a wrong code is written down against.
pub(super) struct Guesser<'a> {
    /// The account the challenge belongs to, for the audit trail.
    pub user: Option<&'a UserRow>,
    /// What the code was for, in the audit record.
    pub what: &'a str,
    /// Whether a wrong code counts toward the account's lockout. Not for resets: a made-up
    /// username has no account to count against, and the lockout would tell the two apart.
    pub lockout: bool,
}

/// What one counted guess found.
pub(super) enum Guessed {
    /// The code is right; redeem it with this row's MAC.
    Right(Box<ChallengeRow>),
    Wrong {
        tries_left: u32,
    },
    /// Used, expired, out of tries or gone.
    Dead,
}

/// What the second code of a phone change is bound to: the challenge, as the current number's.
pub(super) fn current_phone_subject(key: &str) -> String {
    format!("{key}:current")
}

impl AuthService {
    /// The code as typed, counted against the client's IP before any challenge is looked up, so
    /// the limit answers alike for a real challenge and a made-up one (a reset for a username
    /// that does not exist has none).
    pub(super) async fn code_to_check(
        &self,
        typed: &str,
        client: &ClientInfo,
    ) -> Result<String, AppError> {
        let code = Self::normalised(typed)?;
        self.count_code_check(client).await?;
        Ok(code)
    }

    /// One more code checked from this client's address (any kind of code).
    pub(super) async fn count_code_check(&self, client: &ClientInfo) -> Result<(), AppError> {
        self.count(
            self.code_checks_per_ip(),
            &client.ip_key(),
            self.clock.now_ms(),
            client,
        )
        .await
    }

    /// Takes back the count of a code that turned out right: the address's limit is on
    /// answers that were not, so people behind one address (a carrier's NAT) who sign in never
    /// use up each other's checks. Counted first all the same, so a burst cannot outrun it.
    /// A count that could not be taken back costs the address one check, never the right
    /// answer its success.
    pub(super) async fn right_code_checked(&self, client: &ClientInfo) {
        let limit = self.code_checks_per_ip();
        let now = self.clock.now_ms();
        let ip = client.ip_key();
        if let Err(e) = rate_counter::unhit(&self.db, limit.scope, &ip, limit.secs, now).await {
            tracing::warn!("code check: its count was not taken back: {e}");
        }
    }

    /// The limit on codes checked from one address.
    pub(super) fn code_checks_per_ip(&self) -> Window {
        Window {
            scope: "code_checks_ip",
            max: self.config.limits.ip_code_checks_per_10min,
            secs: limits::TEN_MINUTES,
        }
    }

    /// The code, and for a phone change also the one sent to the number being replaced. Both
    /// are always compared, so the time taken does not tell which one was wrong.
    pub(super) fn codes_match(
        &self,
        key: &str,
        code: &str,
        current: Option<&str>,
        row: &ChallengeRow,
    ) -> bool {
        let new_number = self.code_key.matches(key, code, &row.code_mac);
        let current_number = match &row.current_phone_mac {
            None => true,
            Some(mac) => self.code_key.matches(
                &current_phone_subject(key),
                current.unwrap_or_default(),
                mac,
            ),
        };
        new_number & current_number
    }

    /// Counts a guess on the challenge and only then asks `right` whether the answer is right;
    /// a wrong one is written
    /// down against the guesser. (The client's IP was counted by `code_to_check`.)
    /// A guess whose count kept colliding with others is refused unchecked, and counts toward
    /// the account's failures like a wrong one.
    pub(super) async fn guess(
        &self,
        key: &str,
        right: impl FnOnce(&ChallengeRow) -> bool,
        guesser: Guesser<'_>,
        client: &ClientInfo,
    ) -> Result<Guessed, AppError> {
        let now = self.clock.now_ms();
        let max = self.config.otp.max_attempts;
        let guess = otp_challenge::take_guess(&self.db, key, max, now)
            .await
            .or_internal("guess: count")?;
        match guess {
            Guess::Counted(row) if right(&row) => {
                self.right_code_checked(client).await;
                Ok(Guessed::Right(row))
            }
            Guess::Counted(row) => {
                if let Some(user) = guesser.user {
                    let who = Who::user(user);
                    self.audit(audit_event::Kind::CodeFailed, who, guesser.what, client)
                        .await;
                    if guesser.lockout {
                        self.failed(who, now, client).await?;
                    }
                }
                let used = row.attempts.clamp(0, i64::from(max)) as u32;
                Ok(Guessed::Wrong {
                    tries_left: max - used,
                })
            }
            Guess::Dead => Ok(Guessed::Dead),
            Guess::Busy => {
                tracing::warn!("guess refused unchecked: its count kept colliding");
                if let (Some(user), true) = (guesser.user, guesser.lockout) {
                    self.failed(Who::user(user), now, client).await?;
                }
                Err(AppError::TooManyRequests { wait_secs: 1 })
            }
        }
    }
}
