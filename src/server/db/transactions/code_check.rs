//! An SMS code answering a sign-in or a new account's phone check, in one transaction and one
//! trip to the store: the guess is counted on the challenge, the code is compared and, when
//! right, the challenge is used, the phone marked verified, the session created and the
//! bookkeeping of a sign-in written; when not, the client's address is counted. Whom it signs
//! in comes from the challenge itself (`otp_challenge::SignInAs`), so nothing is read before.

use std::future::IntoFuture;

use surrealdb::types::{RecordId, SurrealValue};

use super::super::{
    audit_event, first_error, is_conflict, otp_challenge, until_settled, Db, DbError,
};
use super::Redemption;
use crate::model::SignInMethod;

/// One typed code for one challenge.
pub struct CodeCheck<'a> {
    pub key: &'a str,
    /// The typed code's MAC under every code key (current first); the challenge stores one.
    /// The guess is counted and, when right, the challenge used in the same write.
    pub macs: Vec<String>,
    pub max_attempts: u32,
    pub now: i64,
    /// The client address's counter of answers that were not right, when its window ends, and
    /// how many it allows. A right code is not counted: many people behind one address (a
    /// carrier's NAT) signing in never use up each other's checks.
    pub ip_counter: (RecordId, i64),
    pub ip_max: u32,
    pub redemption: Redemption,
}

/// What the check found.
#[derive(Debug, PartialEq, Eq)]
pub enum Checked {
    /// The address had used up its checks; nothing was counted.
    AddressLimited {
        window_ends_at: i64,
    },
    /// Used, expired, out of tries, of another purpose, or gone.
    Dead,
    Wrong {
        attempts: i64,
        account: RecordId,
    },
    /// Signed in as this account's user.
    Right {
        username: String,
    },
    /// A live challenge written before challenges named whom they sign in: nothing was
    /// counted, and the code is for the general path to check (which counts the address).
    Unnamed,
    /// Kept colliding with concurrent writers of the same records; nothing was counted.
    Busy,
}

#[derive(SurrealValue)]
struct Outcome {
    limited: bool,
    found: bool,
    right: bool,
    unnamed: bool,
    attempts: Option<i64>,
    account: Option<RecordId>,
    username: Option<String>,
}

/// The statement whose value is the outcome: BEGIN, the challenge's LET, then the IF whose
/// branch ends in it. Each statement has a cost of its own in the engine, so a right code's
/// path runs as few as it can: the address's limit is read in the challenge's condition, and
/// again only on the other path.
const OUTCOME: usize = 2;

/// The writes after a right code are `signed_in.rs`'s bookkeeping; a change to one belongs in
/// the other.
pub async fn check_code(db: &Db, check: CodeCheck<'_>) -> Result<Checked, DbError> {
    let r = &check.redemption;
    // The MAC comparison happens in the store: it compares keyed MACs, which an attacker can
    // neither choose nor learn, so its timing tells nothing.
    let (mut res, errors) = until_settled(50, || {
        db.query(
            "BEGIN TRANSACTION;
             LET $c = (UPDATE $id SET attempts += 1, consumed = code_mac IN $macs \
                 WHERE ($ip_counter.count ?? 0) < $ip_max AND consumed = false \
                 AND attempts < $max AND expires_at > $now \
                 AND purpose IN $signs_in AND username != NONE RETURN AFTER)[0];
             IF $c.consumed = true {
                 UPDATE $c.account SET phone_verified = true, last_method = $method \
                     WHERE phone_verified != true OR last_method != $method;
                 CREATE $session_id CONTENT { account: $c.account, created_at: $now, \
                     last_seen: $now, proven_at: $now, expires_at: $expires, ip: $ip, \
                     user_agent: $agent, methods: $methods };
                 UPDATE $c.guard SET failures = 0, retry_at = 0 \
                     WHERE locked = false AND (failures > 0 OR retry_at > 0);
                 CREATE audit_event CONTENT { at: $now, kind: $kind, account: $c.account, \
                     username: $c.username, masked_phone: $c.masked_phone, ip: $ip, user_agent: $agent, \
                     detail: $method, verified_range: $c.phone_range };
                 { limited: false, found: true, right: true, unnamed: false, \
                     attempts: $c.attempts, account: $c.account, username: $c.username }
             } ELSE {
                 LET $open = ($ip_counter.count ?? 0) < $ip_max;
                 LET $unnamed = $c = NONE AND $open AND $id.username = NONE \
                     AND $id.consumed = false AND $id.purpose IN $signs_in;
                 IF $open AND !$unnamed {
                     UPSERT $ip_counter SET count = (count ?? 0) + 1, expires_at = $ip_ends;
                 };
                 { limited: !$open, found: $c != NONE, right: false, unnamed: $unnamed, \
                     attempts: $c.attempts, account: $c.account, username: $c.username }
             };
             COMMIT TRANSACTION;",
        )
        .bind(("ip_counter", check.ip_counter.0.clone()))
        .bind(("ip_ends", check.ip_counter.1))
        .bind(("ip_max", i64::from(check.ip_max)))
        .bind(("id", otp_challenge::record(check.key)))
        .bind(("max", i64::from(check.max_attempts)))
        .bind(("now", check.now))
        .bind(("macs", check.macs.clone()))
        .bind(("session_id", super::super::session::record(&r.session_key)))
        .bind(("expires", r.session_expires_at))
        .bind(("ip", r.ip.clone()))
        .bind(("agent", r.user_agent.clone()))
        .bind(("methods", r.methods.clone()))
        .bind(("kind", audit_event::Kind::SignedIn.as_str()))
        .bind(("method", SignInMethod::Sms.stored()))
        .bind(("signs_in", otp_challenge::signing_purposes()))
        .into_future()
    })
    .await?;
    if is_conflict(&errors) {
        return Ok(Checked::Busy);
    }
    if !errors.is_empty() {
        return Err(first_error(errors, "code check transaction"));
    }
    let outcome: Option<Outcome> = res.take(OUTCOME)?;
    let Some(outcome) = outcome else {
        return Err(DbError::from(surrealdb::Error::internal(
            "code check: no outcome".to_string(),
        )));
    };
    Ok(match outcome {
        Outcome { limited: true, .. } => Checked::AddressLimited {
            window_ends_at: check.ip_counter.1,
        },
        Outcome { unnamed: true, .. } => Checked::Unnamed,
        Outcome {
            found: true,
            right: true,
            username: Some(username),
            ..
        } => Checked::Right { username },
        Outcome {
            found: true,
            right: false,
            account: Some(account),
            attempts,
            ..
        } => Checked::Wrong {
            attempts: attempts.unwrap_or(i64::from(check.max_attempts)),
            account,
        },
        _ => Checked::Dead,
    })
}

#[cfg(test)]
mod tests;
