//! The `user` table.

use std::fmt;

use surrealdb::types::{RecordId, SurrealValue};

use super::{errors_mention, first_error, is_conflict, Db, DbError};

#[derive(Clone, SurrealValue)]
pub struct UserRow {
    pub id: RecordId,
    pub username: String,
    pub full_name: String,
    pub phone: String,
    pub email: String,
    pub password_hash: String,
    pub phone_verified: bool,
    pub created_at: i64,
    /// Language of the user's SMS texts; absent on accounts made before it was kept.
    pub language: Option<String>,
}

/// Never prints the password hash or the full phone number.
impl fmt::Debug for UserRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserRow")
            .field("username", &self.username)
            .field("phone", &crate::server::auth::phone::mask_e164(&self.phone))
            .field("phone_verified", &self.phone_verified)
            .finish_non_exhaustive()
    }
}

#[derive(Clone)]
pub struct NewUser {
    pub key: String,
    pub username: String,
    pub full_name: String,
    pub phone: String,
    pub email: String,
    pub password_hash: String,
    pub language: String,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Taken {
    pub username: bool,
    pub phone: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error("username or phone taken")]
    Taken(Taken),
    #[error("collided with a concurrent transaction")]
    Conflict,
    #[error(transparent)]
    Db(#[from] DbError),
}

pub fn record(key: &str) -> RecordId {
    RecordId::new("user", key)
}

pub async fn find_by_username(db: &Db, username: &str) -> Result<Option<UserRow>, DbError> {
    let mut res = db
        .query("SELECT * FROM user WHERE username = $username LIMIT 1")
        .bind(("username", username.to_string()))
        .await?
        .check()?;
    let rows: Vec<UserRow> = res.take(0)?;
    Ok(rows.into_iter().next())
}

pub async fn find(db: &Db, id: &RecordId) -> Result<Option<UserRow>, DbError> {
    let mut res = db
        .query("SELECT * FROM $id")
        .bind(("id", id.clone()))
        .await?
        .check()?;
    let rows: Vec<UserRow> = res.take(0)?;
    Ok(rows.into_iter().next())
}

/// Which of username and phone belong to a verified account, or to a registration still
/// within its time (`stale_before` is when abandoned registrations stop holding them).
pub async fn taken(
    db: &Db,
    username: &str,
    phone: &str,
    stale_before: i64,
) -> Result<Taken, DbError> {
    let mut res = db
        .query(
            "SELECT username, phone FROM user \
             WHERE (username = $username OR phone = $phone) \
             AND (phone_verified = true OR created_at >= $stale_before)",
        )
        .bind(("username", username.to_string()))
        .bind(("phone", phone.to_string()))
        .bind(("stale_before", stale_before))
        .await?
        .check()?;
    #[derive(SurrealValue)]
    struct Holder {
        username: String,
        phone: String,
    }
    let rows: Vec<Holder> = res.take(0)?;
    Ok(Taken {
        username: rows.iter().any(|r| r.username == username),
        phone: rows.iter().any(|r| r.phone == phone),
    })
}

/// Creates an unverified account together with its first code challenge, in one transaction.
/// Abandoned registrations that hold the same username or phone are cleared first. A collision
/// with a concurrent registration is retried, after which the unique indexes decide.
pub async fn create_with_challenge(
    db: &Db,
    user: NewUser,
    challenge: super::challenges::NewChallenge,
    now: i64,
    stale_before: i64,
) -> Result<(), CreateError> {
    const ATTEMPTS: u32 = 5;
    for attempt in 1..=ATTEMPTS {
        match try_create(db, user.clone(), challenge.clone(), now, stale_before).await {
            Err(CreateError::Conflict) if attempt < ATTEMPTS => {
                tokio::time::sleep(std::time::Duration::from_millis(5 * u64::from(attempt))).await;
            }
            Err(CreateError::Conflict) => {
                return Err(CreateError::Db(DbError::from(surrealdb::Error::internal(
                    "registration kept colliding with concurrent ones".into(),
                ))))
            }
            other => return other,
        }
    }
    Ok(())
}

async fn try_create(
    db: &Db,
    user: NewUser,
    challenge: super::challenges::NewChallenge,
    now: i64,
    stale_before: i64,
) -> Result<(), CreateError> {
    let mut res = db
        .query(
            "BEGIN TRANSACTION;
             LET $stale = (SELECT VALUE id FROM user WHERE phone_verified = false \
                 AND created_at < $stale_before AND (username = $username OR phone = $phone));
             DELETE otp_challenge WHERE account IN $stale;
             DELETE session WHERE account IN $stale;
             DELETE user WHERE id IN $stale;
             CREATE $user CONTENT {
                 username: $username, full_name: $full_name, phone: $phone, email: $email,
                 password_hash: $password_hash, phone_verified: false, created_at: $now,
                 language: $language
             };
             CREATE $challenge CONTENT $challenge_row;
             COMMIT TRANSACTION;",
        )
        .bind(("stale_before", stale_before))
        .bind(("user", record(&user.key)))
        .bind(("username", user.username))
        .bind(("full_name", user.full_name))
        .bind(("phone", user.phone))
        .bind(("email", user.email))
        .bind(("password_hash", user.password_hash))
        .bind(("language", user.language))
        .bind(("now", now))
        .bind(("challenge", super::challenges::record(&challenge.key)))
        .bind(("challenge_row", challenge.into_row()))
        .await
        .map_err(DbError::from)?;
    let errors = res.take_errors();
    if errors.is_empty() {
        return Ok(());
    }
    let taken = Taken {
        username: errors_mention(&errors, "user_username"),
        phone: errors_mention(&errors, "user_phone"),
    };
    if taken.username || taken.phone {
        return Err(CreateError::Taken(taken));
    }
    if is_conflict(&errors) {
        return Err(CreateError::Conflict);
    }
    Err(CreateError::Db(first_error(
        errors,
        "registration transaction",
    )))
}

/// Removes an account that never got verified, with its challenges (after a failed send).
pub async fn delete_unverified(db: &Db, id: &RecordId) -> Result<(), DbError> {
    db.query(
        "BEGIN TRANSACTION;
         DELETE otp_challenge WHERE account = $id;
         DELETE $id WHERE phone_verified = false;
         COMMIT TRANSACTION;",
    )
    .bind(("id", id.clone()))
    .await?
    .check()?;
    Ok(())
}

/// Removes an account with everything that belongs to it: codes and sessions.
pub async fn remove(db: &Db, id: &RecordId) -> Result<(), DbError> {
    db.query(
        "BEGIN TRANSACTION;
         DELETE otp_challenge WHERE account = $id;
         DELETE session WHERE account = $id;
         DELETE $id;
         COMMIT TRANSACTION;",
    )
    .bind(("id", id.clone()))
    .await?
    .check()?;
    Ok(())
}

/// The name and email the account owner may change.
pub async fn set_profile(
    db: &Db,
    id: &RecordId,
    full_name: &str,
    email: &str,
) -> Result<(), DbError> {
    db.query("UPDATE $id SET full_name = $full_name, email = $email")
        .bind(("id", id.clone()))
        .bind(("full_name", full_name.to_string()))
        .bind(("email", email.to_string()))
        .await?
        .check()?;
    Ok(())
}

/// The language the account's SMS are written in.
pub async fn set_language(db: &Db, id: &RecordId, language: &str) -> Result<(), DbError> {
    db.query("UPDATE $id SET language = $language")
        .bind(("id", id.clone()))
        .bind(("language", language.to_string()))
        .await?
        .check()?;
    Ok(())
}

/// A new password hash; in the same transaction every other session of the account ends, so
/// whoever knew the old password is out.
pub async fn set_password(
    db: &Db,
    id: &RecordId,
    password_hash: &str,
    keep_session: RecordId,
) -> Result<(), DbError> {
    db.query(
        "BEGIN TRANSACTION;
         UPDATE $id SET password_hash = $hash;
         DELETE session WHERE account = $id AND id != $keep;
         COMMIT TRANSACTION;",
    )
    .bind(("id", id.clone()))
    .bind(("hash", password_hash.to_string()))
    .bind(("keep", keep_session))
    .await?
    .check()?;
    Ok(())
}

/// The newest accounts first.
pub async fn newest(db: &Db, limit: u32) -> Result<Vec<UserRow>, DbError> {
    let mut res = db
        .query("SELECT * FROM user ORDER BY created_at DESC LIMIT $limit")
        .bind(("limit", limit as i64))
        .await?
        .check()?;
    Ok(res.take(0)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CodePurpose;
    use crate::server::db::challenges::NewChallenge;
    use crate::server::db::memory;

    fn new_user(key: &str, username: &str, phone: &str) -> (NewUser, NewChallenge) {
        let user = NewUser {
            key: key.into(),
            username: username.into(),
            full_name: "प्रिया पटेल".into(),
            phone: phone.into(),
            email: "priya@example.in".into(),
            password_hash: "$argon2id$stub".into(),
            language: "en".into(),
        };
        let challenge = NewChallenge {
            key: format!("c{key}"),
            account: record(key),
            purpose: CodePurpose::VerifyPhone,
            phone: phone.into(),
            code_mac: "mac".into(),
            now: 0,
            expires_at: 300_000,
            resend_after: 30_000,
            language: "en".into(),
        };
        (user, challenge)
    }

    #[tokio::test]
    async fn usernames_and_phones_are_unique() {
        let db = memory().await;
        let (user, challenge) = new_user("a", "priya", "+918765432109");
        create_with_challenge(&db, user, challenge, 1_000, 0)
            .await
            .unwrap();
        let (user, challenge) = new_user("b", "priya", "+917654321098");
        match create_with_challenge(&db, user, challenge, 2_000, 0).await {
            Err(CreateError::Taken(taken)) => assert_eq!(
                taken,
                Taken {
                    username: true,
                    phone: false
                }
            ),
            other => panic!("expected taken username, got {other:?}"),
        }
        let (user, challenge) = new_user("c", "other", "+918765432109");
        match create_with_challenge(&db, user, challenge, 2_000, 0).await {
            Err(CreateError::Taken(taken)) => assert_eq!(
                taken,
                Taken {
                    username: false,
                    phone: true
                }
            ),
            other => panic!("expected taken phone, got {other:?}"),
        }
        // Nothing half-written: the failed attempts left no user and no challenge.
        assert!(find(&db, &record("b")).await.unwrap().is_none());
        assert!(super::super::challenges::get(&db, "cb")
            .await
            .unwrap()
            .is_none());
        assert_eq!(
            taken(&db, "priya", "+910000000000", 0).await.unwrap(),
            Taken {
                username: true,
                phone: false
            }
        );
    }

    #[tokio::test]
    async fn abandoned_registrations_free_their_name_and_phone() {
        let db = memory().await;
        let (user, challenge) = new_user("old", "amit", "+917654321098");
        create_with_challenge(&db, user, challenge, 1_000, 0)
            .await
            .unwrap();
        // Later than the stale horizon, the unverified account no longer holds the name.
        assert_eq!(
            taken(&db, "amit", "+917654321098", 5_000).await.unwrap(),
            Taken::default()
        );
        let (user, challenge) = new_user("new", "amit", "+917654321098");
        create_with_challenge(&db, user, challenge, 10_000, 5_000)
            .await
            .unwrap();
        assert!(find(&db, &record("old")).await.unwrap().is_none());
        assert!(super::super::challenges::get(&db, "cold")
            .await
            .unwrap()
            .is_none());
        assert_eq!(
            find_by_username(&db, "amit")
                .await
                .unwrap()
                .unwrap()
                .created_at,
            10_000
        );
    }
}
