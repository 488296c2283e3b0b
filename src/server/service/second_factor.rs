//! The second step of sign-in by the authenticator app, a recovery code or a passkey. Each
//! answer is one counted guess on the sign-in challenge, like an SMS code (the same lockout, the
//! same per-IP count); a right one is then spent — its step, or the code — in a conditional
//! write that only one request can win, so no code works twice. (A passkey's ceremony is taken
//! once before that.)

use super::{AuthService, OrInternal};
use crate::error::AppError;
use crate::model::SignInMethod;
use crate::server::auth::seal::Sealer;
use crate::server::auth::{recovery, totp};
use crate::server::client::ClientInfo;
use crate::server::db::otp_challenge::ChallengeRow;
use crate::server::db::{factors, recovery_set, totp as totp_table, user};
use webauthn_rs::prelude::AuthenticationResult;

/// What a typed answer is checked against.
pub(super) enum Proof {
    Sms {
        code: String,
    },
    App {
        code: String,
        /// None when the account has no app: every answer is wrong.
        key: Option<AppKey>,
    },
    Recovery {
        /// The code's MAC under each key, current first.
        macs: Vec<String>,
        unused: Vec<String>,
    },
    /// A signed assertion, already verified against the account's passkeys (None: it was not).
    Passkey {
        result: Option<AuthenticationResult>,
    },
}

pub(super) struct AppKey {
    pub secret: Vec<u8>,
    sealed: String,
    stale: bool,
    last_step: i64,
}

/// A right answer, spent.
pub(super) struct Spent {
    pub method: SignInMethod,
    /// After a recovery code: how many are left.
    pub recovery_left: Option<usize>,
}

/// The subject a recovery code's MAC is made for: the username, which never changes.
pub(super) fn recovery_subject(username: &str) -> String {
    format!("recovery:{username}")
}

impl AuthService {
    pub(super) fn sealer(&self) -> Sealer {
        Sealer::new(&self.code_key)
    }

    /// The typed answer for `method`, counted against the client's address first (a malformed
    /// one is refused before, as for SMS codes).
    pub(super) async fn proof_for(
        &self,
        method: SignInMethod,
        typed: &str,
        account: Option<&user::UserRow>,
        client: &ClientInfo,
    ) -> Result<Proof, AppError> {
        if method == SignInMethod::RecoveryCode {
            let code = recovery::normalise(typed).ok_or(AppError::CodeFormat)?;
            self.count_code_check(client).await?;
            let (macs, unused) = match account {
                Some(user) => {
                    let set = recovery_set::of_account(&self.db, &user.id)
                        .await
                        .or_internal("recovery codes")?;
                    let macs = self.code_key.macs(&recovery_subject(&user.username), &code);
                    (macs, set.map(|s| s.unused).unwrap_or_default())
                }
                None => (Vec::new(), Vec::new()),
            };
            return Ok(Proof::Recovery { macs, unused });
        }
        if method == SignInMethod::Passkey {
            self.count_code_check(client).await?;
            let result = self.passkey_step_result(typed, account).await?;
            return Ok(Proof::Passkey { result });
        }
        let code = self.code_to_check(typed, client).await?;
        if method != SignInMethod::App {
            return Ok(Proof::Sms { code });
        }
        let key = match account {
            Some(user) => self.app_key(user, true).await?,
            None => None,
        };
        Ok(Proof::App { code, key })
    }

    /// The account's authenticator-app key, confirmed (`enabled`) or waiting for its first code.
    pub(super) async fn app_key(
        &self,
        user: &user::UserRow,
        enabled: bool,
    ) -> Result<Option<AppKey>, AppError> {
        let row = totp_table::of_account(&self.db, &user.id)
            .await
            .or_internal("authenticator app")?
            .filter(|row| row.enabled == enabled);
        Ok(row.and_then(|row| {
            let opened = self.sealer().open(&user.username, &row.sealed)?;
            Some(AppKey {
                secret: opened.secret,
                stale: opened.stale,
                sealed: row.sealed,
                last_step: row.last_step,
            })
        }))
    }

    /// Whether the answer is right for this challenge (after its guess was counted).
    pub(super) fn proves(&self, proof: &Proof, challenge_key: &str, row: &ChallengeRow) -> bool {
        match proof {
            Proof::Sms { code } => self.codes_match(challenge_key, code, None, row),
            Proof::App { code, key } => key.as_ref().is_some_and(|key| {
                totp::matching_step(&key.secret, code, self.clock.now_ms(), key.last_step).is_some()
            }),
            Proof::Recovery { macs, unused } => macs.iter().any(|mac| unused.contains(mac)),
            Proof::Passkey { result } => result.is_some(),
        }
    }

    /// Spends a right answer: the app's step or the recovery code. None when another request
    /// spent it first.
    pub(super) async fn spend(
        &self,
        proof: &Proof,
        user: &user::UserRow,
    ) -> Result<Option<Spent>, AppError> {
        let now = self.clock.now_ms();
        match proof {
            Proof::Sms { .. } => Ok(Some(Spent {
                method: SignInMethod::Sms,
                recovery_left: None,
            })),
            Proof::App { code, key } => {
                let Some(key) = key else { return Ok(None) };
                let Some(step) = totp::matching_step(&key.secret, code, now, key.last_step) else {
                    return Ok(None);
                };
                let used = totp_table::use_step(&self.db, &user.id, step, false, now)
                    .await
                    .or_internal("authenticator app: step")?;
                if used && key.stale {
                    let fresh = self.sealer().seal(&user.username, &key.secret);
                    if let Err(e) =
                        totp_table::reseal(&self.db, &user.id, &key.sealed, &fresh).await
                    {
                        tracing::warn!("authenticator app: reseal: {e}");
                    }
                }
                Ok(used.then_some(Spent {
                    method: SignInMethod::App,
                    recovery_left: None,
                }))
            }
            Proof::Recovery { macs, unused } => {
                let Some(mac) = macs.iter().find(|mac| unused.contains(mac)) else {
                    return Ok(None);
                };
                let left = recovery_set::use_code(&self.db, &user.id, mac)
                    .await
                    .or_internal("recovery code: use")?;
                Ok(left.map(|left| Spent {
                    method: SignInMethod::RecoveryCode,
                    recovery_left: Some(left),
                }))
            }
            Proof::Passkey { result } => {
                let Some(result) = result else {
                    return Ok(None);
                };
                self.passkey_step_spend(result, user).await?;
                Ok(Some(Spent {
                    method: SignInMethod::Passkey,
                    recovery_left: None,
                }))
            }
        }
    }

    /// The account's ways to answer besides SMS: a passkey, the app, and recovery codes while
    /// any are left; the one used last comes first.
    pub(super) async fn other_methods(
        &self,
        user: &user::UserRow,
    ) -> Result<Vec<SignInMethod>, AppError> {
        let held = factors::held_by(&self.db, &user.id)
            .await
            .or_internal("factors held")?;
        Ok(methods_besides_sms(held, user))
    }
}

/// What [`AuthService::other_methods`] answers, from factors already read.
pub(super) fn methods_besides_sms(held: factors::Held, user: &user::UserRow) -> Vec<SignInMethod> {
    let mut methods: Vec<SignInMethod> = [
        held.passkey.then_some(SignInMethod::Passkey),
        held.app.then_some(SignInMethod::App),
        held.recovery_codes.then_some(SignInMethod::RecoveryCode),
    ]
    .into_iter()
    .flatten()
    .collect();
    let last = user.last_method.as_deref();
    methods.sort_by_key(|m| Some(m.stored()) != last);
    methods
}
