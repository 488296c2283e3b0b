//! The `otp_challenge` table: one per sign-in or registration attempt.

use surrealdb::types::{RecordId, SurrealValue};

use std::future::IntoFuture;

use super::{retry_conflicts, Db, DbError};
use crate::model::CodePurpose;

#[derive(Debug, Clone, SurrealValue)]
pub struct ChallengeRow {
    pub id: RecordId,
    pub account: RecordId,
    pub purpose: String,
    pub phone: String,
    pub code_mac: String,
    pub attempts: i64,
    pub consumed: bool,
    pub created_at: i64,
    pub expires_at: i64,
    pub resend_after: i64,
    /// Codes sent so far; absent on rows written before the field existed.
    pub sends: Option<i64>,
    /// Language of the SMS text; absent on rows written before the field existed.
    pub language: Option<String>,
    /// A phone change's second code, sent to the number being replaced: both must be entered.
    pub current_phone_mac: Option<String>,
}

impl ChallengeRow {
    /// What the code is for; None for a value this build does not know, which no step accepts
    /// (never read as the most privileged purpose).
    pub fn purpose(&self) -> Option<CodePurpose> {
        match self.purpose.as_str() {
            "verify_phone" => Some(CodePurpose::VerifyPhone),
            "sign_in" => Some(CodePurpose::SignIn),
            "reset_password" => Some(CodePurpose::ResetPassword),
            "change_phone" => Some(CodePurpose::ChangePhone),
            _ => None,
        }
    }

    /// Whether a right code may start a session (`CodePurpose::signs_in`).
    pub fn signs_in(&self) -> bool {
        self.purpose().is_some_and(CodePurpose::signs_in)
    }
}

/// The stored names of the purposes whose code may start a session, for queries that pick them.
pub(super) fn signing_purposes() -> Vec<&'static str> {
    use CodePurpose::*;
    [VerifyPhone, SignIn, ResetPassword, ChangePhone]
        .into_iter()
        .filter(|purpose| purpose.signs_in())
        .map(purpose_name)
        .collect()
}

/// The stored fields of a new challenge, bound as one object.
#[derive(SurrealValue)]
pub struct ChallengeContent {
    account: RecordId,
    purpose: String,
    phone: String,
    code_mac: String,
    attempts: i64,
    consumed: bool,
    created_at: i64,
    expires_at: i64,
    resend_after: i64,
    sends: i64,
    language: String,
    current_phone_mac: Option<String>,
    username: Option<String>,
    guard: Option<RecordId>,
    masked_phone: Option<String>,
    phone_range: Option<String>,
}

/// Whom a right code signs in, written with a sign-in's challenge (and a new account's phone
/// check) so that checking the code reads nothing before its one transaction: the session, the
/// lockout guard's reset and the audit row come from the challenge itself.
#[derive(Clone, Debug)]
pub struct SignInAs {
    pub username: String,
    /// The account's lockout guard, which a right code clears.
    pub guard: RecordId,
    /// The phone as the audit row shows it.
    pub masked_phone: String,
    /// The phone's number range, in which the pumping alarm counts the sign-in.
    pub range: String,
}

#[derive(Clone)]
pub struct NewChallenge {
    pub key: String,
    pub account: RecordId,
    pub purpose: CodePurpose,
    pub phone: String,
    pub code_mac: String,
    pub now: i64,
    pub expires_at: i64,
    pub resend_after: i64,
    pub language: String,
    pub sign_in_as: Option<SignInAs>,
}

impl NewChallenge {
    pub fn into_row(self) -> ChallengeContent {
        let (username, guard, masked_phone, phone_range) = match self.sign_in_as {
            Some(who) => (
                Some(who.username),
                Some(who.guard),
                Some(who.masked_phone),
                Some(who.range),
            ),
            None => (None, None, None, None),
        };
        ChallengeContent {
            account: self.account,
            purpose: purpose_name(self.purpose).to_string(),
            phone: self.phone,
            code_mac: self.code_mac,
            attempts: 0,
            consumed: false,
            created_at: self.now,
            expires_at: self.expires_at,
            resend_after: self.resend_after,
            sends: 1,
            language: self.language,
            current_phone_mac: None,
            username,
            guard,
            masked_phone,
            phone_range,
        }
    }
}

fn purpose_name(purpose: CodePurpose) -> &'static str {
    match purpose {
        CodePurpose::VerifyPhone => "verify_phone",
        CodePurpose::SignIn => "sign_in",
        CodePurpose::ResetPassword => "reset_password",
        CodePurpose::ChangePhone => "change_phone",
    }
}

pub fn record(key: &str) -> RecordId {
    RecordId::new("otp_challenge", key)
}

/// A new challenge replaces any earlier unfinished one of the same account and purpose: a reset
/// asked for by someone else must not cancel the owner's sign-in in progress, nor the reverse.
pub async fn create(db: &Db, challenge: NewChallenge) -> Result<(), DbError> {
    create_row(db, challenge, None, 1).await
}

/// A sign-in challenge whose code is not sent yet: the account has an authenticator app, and
/// the user may answer with it or ask for the SMS ("resend" sends the first one).
pub async fn create_unsent(db: &Db, challenge: NewChallenge) -> Result<(), DbError> {
    create_row(db, challenge, None, 0).await
}

/// A phone change's challenge: the code to the new number, and the MAC of a second code sent to
/// the number it replaces, written in the same statement so neither exists without the other.
/// None when the owner no longer has that number: such a change can only begin a wait.
pub async fn create_phone_change(
    db: &Db,
    challenge: NewChallenge,
    current_phone_mac: Option<String>,
) -> Result<(), DbError> {
    create_row(db, challenge, current_phone_mac, 1).await
}

async fn create_row(
    db: &Db,
    challenge: NewChallenge,
    current_phone_mac: Option<String>,
    sends: i64,
) -> Result<(), DbError> {
    let sql = format!("BEGIN TRANSACTION;\n{REPLACE}COMMIT TRANSACTION;");
    let query = db.query(sql);
    bind_replacement(query, challenge, current_phone_mac, sends)
        .await?
        .check()?;
    Ok(())
}

/// `create`'s two statements, for a transaction that writes the challenge along with other
/// records (`transactions::count_send`); `bind_replacement` gives them their values. The earlier
/// challenge is spent, not deleted: every reader treats a consumed challenge as gone, the
/// janitor deletes it with the rest, and SurrealDB 3.3.5 reads every table's field definitions
/// in each transaction that deletes a record (its check for `REFERENCE` fields), which was a
/// twentieth of a sign-in's CPU outside the hash.
pub(super) const REPLACE: &str =
    "UPDATE otp_challenge SET consumed = true WHERE account = $challenge_account \
         AND consumed = false AND purpose = $challenge_purpose;\n\
     CREATE $challenge_id CONTENT $challenge_row;\n";

pub(super) fn bind_replacement<'a>(
    query: super::StoreQuery<'a>,
    challenge: NewChallenge,
    current_phone_mac: Option<String>,
    sends: i64,
) -> super::StoreQuery<'a> {
    query
        .bind(("challenge_account", challenge.account.clone()))
        .bind(("challenge_purpose", purpose_name(challenge.purpose)))
        .bind(("challenge_id", record(&challenge.key)))
        .bind((
            "challenge_row",
            ChallengeContent {
                current_phone_mac,
                sends,
                ..challenge.into_row()
            },
        ))
}

pub async fn get(db: &Db, key: &str) -> Result<Option<ChallengeRow>, DbError> {
    let mut res = db
        .query("SELECT * FROM $id")
        .bind(("id", record(key)))
        .await?
        .check()?;
    let rows: Vec<ChallengeRow> = res.take(0)?;
    Ok(rows.into_iter().next())
}

pub async fn delete(db: &Db, key: &str) -> Result<(), DbError> {
    db.query("DELETE $id")
        .bind(("id", record(key)))
        .await?
        .check()?;
    Ok(())
}

/// The answer to a request for one guess at a challenge's code.
#[derive(Debug)]
pub enum Guess {
    /// The guess is counted; the row as it is now, for checking the code against.
    Counted(Box<ChallengeRow>),
    /// Used, expired, out of tries or gone: nothing may be checked.
    Dead,
    /// Concurrent guesses kept colliding; nothing was checked.
    Busy,
}

/// Counts one guess before any code is compared, in one conditional write: only while the
/// challenge is unused, unexpired and has tries left. However many guesses race, at most
/// `max_attempts` are ever counted, so at most that many are checked.
pub async fn take_guess(db: &Db, key: &str, max_attempts: u32, now: i64) -> Result<Guess, DbError> {
    let outcome = retry_conflicts("guess", 40, || {
        db.query(
            "UPDATE $id SET attempts += 1 WHERE consumed = false AND attempts < $max \
             AND expires_at > $now RETURN AFTER",
        )
        .bind(("id", record(key)))
        .bind(("max", max_attempts as i64))
        .bind(("now", now))
        .into_future()
    })
    .await;
    let mut res = match outcome {
        Ok(res) => res,
        Err(e) if e.is_conflict() => return Ok(Guess::Busy),
        Err(e) => return Err(e),
    };
    let rows: Vec<ChallengeRow> = res.take(0)?;
    Ok(rows
        .into_iter()
        .next()
        .map_or(Guess::Dead, |row| Guess::Counted(Box::new(row))))
}

/// A fresh code for a live challenge.
pub struct NewCode<'a> {
    pub code_mac: &'a str,
    pub expires_at: i64,
    pub resend_after: i64,
    /// The count of sends this one makes.
    pub sends: i64,
}

/// Puts a fresh code on a live challenge once its resend wait is over; the old code dies with
/// the old MAC. Tries used stay used (NIST 800-63B-4: a new code does not reset the count).
/// Returns the updated challenge, or None if it is used, too old or waiting.
pub async fn replace_code(
    db: &Db,
    key: &str,
    code: NewCode<'_>,
    now: i64,
    created_after: i64,
) -> Result<Option<ChallengeRow>, DbError> {
    let mut res = db
        .query(
            "UPDATE $id SET code_mac = $mac, expires_at = $expires, \
             resend_after = $resend_after, sends = $sends \
             WHERE consumed = false AND resend_after <= $now AND created_at > $created_after RETURN AFTER",
        )
        .bind(("id", record(key)))
        .bind(("sends", code.sends))
        .bind(("mac", code.code_mac.to_string()))
        .bind(("now", now))
        .bind(("expires", code.expires_at))
        .bind(("resend_after", code.resend_after))
        .bind(("created_after", created_after))
        .await?
        .check()?;
    let rows: Vec<ChallengeRow> = res.take(0)?;
    Ok(rows.into_iter().next())
}

/// After a failed send the user may try again at once.
pub async fn allow_resend_now(db: &Db, key: &str, now: i64) -> Result<(), DbError> {
    db.query("UPDATE $id SET resend_after = $now WHERE consumed = false")
        .bind(("id", record(key)))
        .bind(("now", now))
        .await?
        .check()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_stored_purpose_is_no_purpose_at_all() {
        let row = |purpose: &str| ChallengeRow {
            id: record("k"),
            account: RecordId::new("user", "u"),
            purpose: purpose.into(),
            phone: "+919876543210".into(),
            code_mac: String::new(),
            attempts: 0,
            consumed: false,
            created_at: 0,
            expires_at: 0,
            resend_after: 0,
            sends: None,
            language: None,
            current_phone_mac: None,
        };
        assert_eq!(row("sign_in").purpose(), Some(CodePurpose::SignIn));
        assert_eq!(
            row("change_phone").purpose(),
            Some(CodePurpose::ChangePhone)
        );
        assert_eq!(row("sign-in").purpose(), None);
        assert_eq!(row("").purpose(), None);
    }

    /// Spent challenges stay until the janitor's sweep; a new one's search for the live one
    /// must not read them, or every sign-in costs more the more the account signed in lately.
    #[tokio::test]
    async fn a_new_challenge_finds_the_live_one_without_reading_the_spent() {
        let db = super::super::memory().await;
        let account = RecordId::new("user", "u");
        for i in 0..40 {
            let new = NewChallenge {
                key: format!("k{i}"),
                account: account.clone(),
                purpose: CodePurpose::SignIn,
                phone: "+919876543210".into(),
                code_mac: "mac".into(),
                now: i,
                expires_at: i + 1,
                resend_after: i,
                language: "en".into(),
                sign_in_as: None,
            };
            create(&db, new).await.unwrap();
        }
        let search = REPLACE.split(';').next().unwrap();
        let search = &search[search.find(" WHERE ").unwrap()..];
        let mut res = db
            .query(format!("SELECT id FROM otp_challenge{search} EXPLAIN FULL"))
            .bind(("challenge_account", account))
            .bind(("challenge_purpose", "sign_in"))
            .await
            .unwrap();
        let plan: surrealdb::types::Value = res.take(0).unwrap();
        let plan = format!("{plan:?}");
        let scan = &plan[plan
            .find("IndexScan")
            .map(|at| plan[..at].rfind("\"metrics\"").unwrap())
            .unwrap()..];
        let rows = scan.find("\"output_rows\": Number(Int(").unwrap() + 26;
        let rows: String = scan[rows..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        // One row read: the live one, each earlier one spent and not read.
        assert_eq!(rows, "1", "{plan}");
    }
}
