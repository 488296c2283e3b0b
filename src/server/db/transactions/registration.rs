//! Registration's one transaction: an unverified account and its first code, together.

use super::super::otp_challenge::{self, NewChallenge};
use super::super::user::{self, NewUser, Taken};
use super::super::{errors_mention, first_error, is_conflict, Db, DbError};

#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error("username or phone taken")]
    Taken(Taken),
    #[error("collided with a concurrent transaction")]
    Conflict,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Creates an unverified account together with its first code challenge, in one transaction.
/// Abandoned registrations that hold the same username or phone are cleared first. A collision
/// with a concurrent registration is retried, after which the unique indexes decide.
pub async fn create_with_challenge(
    db: &Db,
    user: NewUser,
    challenge: NewChallenge,
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
    challenge: NewChallenge,
    now: i64,
    stale_before: i64,
) -> Result<(), CreateError> {
    // The stale accounts are deleted by id: `DELETE user WHERE id IN $stale` would read the
    // whole table for every registration.
    let mut res = db
        .query(
            "BEGIN TRANSACTION;
             LET $stale = (SELECT VALUE id FROM user WHERE phone_verified = false \
                 AND created_at < $stale_before AND (username = $username OR phone = $phone));
             DELETE otp_challenge WHERE account IN $stale;
             DELETE session WHERE account IN $stale;
             DELETE $stale;
             CREATE $user CONTENT {
                 username: $username, full_name: $full_name, phone: $phone, email: $email,
                 password_hash: $password_hash, phone_verified: false, created_at: $now,
                 language: $language, factors_enrolled: false
             };
             CREATE $challenge CONTENT $challenge_row;
             COMMIT TRANSACTION;",
        )
        .bind(("stale_before", stale_before))
        .bind(("user", user::record(&user.key)))
        .bind(("username", user.username))
        .bind(("full_name", user.full_name))
        .bind(("phone", user.phone))
        .bind(("email", user.email))
        .bind(("password_hash", user.password_hash))
        .bind(("language", user.language))
        .bind(("now", now))
        .bind(("challenge", otp_challenge::record(&challenge.key)))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CodePurpose;
    use crate::server::db::memory;
    use crate::server::db::otp_challenge::{self, NewChallenge};
    use crate::server::db::user::{find, find_by_username, record, taken, NewUser, Taken};

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
            sign_in_as: None,
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
        assert!(otp_challenge::get(&db, "cb").await.unwrap().is_none());
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
        assert!(otp_challenge::get(&db, "cold").await.unwrap().is_none());
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
