//! The operator commands against the database (`dynamic_otp admin …`, see `admin_cli`): what
//! each does, wherever it runs (the command's own process, or a running server through
//! `admin_socket`).

use crate::server::auth::phone::mask_e164;
use crate::server::clock::format_utc;
use crate::server::db::{self, audit_event, login_guard, user, Db};
use crate::server::settings::Config;

pub const USAGE: &str = "usage: dynamic_otp admin <command>

  users [N]               the newest N accounts (default 50)
  events <username> [N]   that account's newest N security events (default 50)
  unlock <username>       clear the failure count and the lock
  remove <username>       delete the account with its codes and sessions
  rotate-secret           a new code-hashing key; codes already sent stay valid until they expire
";

/// Runs one command that works on the database (every one but `rotate-secret`), in this
/// process or in the server's: its output, or what was wrong with it.
pub async fn run(db: &Db, config: &Config, args: &[String], now: i64) -> Result<String, String> {
    match args.first().map(String::as_str) {
        Some("client") => crate::server::admin_oidc::client(db, &args[1..], now).await,
        // Signing keys are sealed under the code key, so this one needs it.
        Some("rotate-signing-key") => {
            let key = crate::server::code_key::load_code_key(config, now / 1000)?;
            let sealer = crate::server::auth::seal::Sealer::new(&key);
            crate::server::admin_oidc::rotate_signing_key(db, sealer, now).await
        }
        _ => execute(db, args, now).await,
    }
}

/// Runs one account command; its output, or what was wrong with it.
pub async fn execute(db: &Db, args: &[String], now: i64) -> Result<String, String> {
    let arg = |i: usize| args.get(i).map(String::as_str);
    let limit = |i: usize| -> Result<u32, String> {
        match arg(i) {
            None => Ok(50),
            Some(n) => n
                .parse()
                .map_err(|_| format!("`{n}` is not a number\n\n{}", usage())),
        }
    };
    let db_error = |e: db::DbError| e.to_string();
    match (arg(0), arg(1)) {
        (Some("users"), _) => {
            let rows = user::newest(db, limit(1)?).await.map_err(db_error)?;
            let mut out = format!(
                "{:<32} {:<16} {:<9} {:<7} {}\n",
                "username", "phone", "verified", "locked", "created"
            );
            for user in rows {
                let locked = login_guard::get(db, &user.username)
                    .await
                    .map_err(db_error)?
                    .locked;
                out.push_str(&format!(
                    "{:<32} {:<16} {:<9} {:<7} {}\n",
                    user.username,
                    mask_e164(&user.phone),
                    if user.phone_verified { "yes" } else { "no" },
                    if locked { "LOCKED" } else { "-" },
                    format_utc(user.created_at)
                ));
            }
            Ok(out)
        }
        (Some("events"), Some(username)) => {
            let user = find(db, username).await?;
            let events = audit_event::recent_for(db, &user.id, limit(2)?)
                .await
                .map_err(db_error)?;
            let mut out = format!(
                "{:<24} {:<16} {:<16} {}\n",
                "when", "event", "ip", "browser"
            );
            for event in events {
                out.push_str(&format!(
                    "{:<24} {:<16} {:<16} {}\n",
                    format_utc(event.at),
                    event.kind,
                    event.ip,
                    event.user_agent.chars().take(60).collect::<String>()
                ));
            }
            Ok(out)
        }
        (Some("unlock"), Some(username)) => {
            let user = find(db, username).await?;
            let was_locked = login_guard::unlock(db, &user.username)
                .await
                .map_err(db_error)?;
            record(db, audit_event::Kind::Unlocked, &user, now).await?;
            Ok(if was_locked {
                format!("{} unlocked\n", user.username)
            } else {
                format!(
                    "{} was not locked; its failure count is cleared\n",
                    user.username
                )
            })
        }
        (Some("remove"), Some(username)) => {
            let user = find(db, username).await?;
            user::remove(db, &user.id).await.map_err(db_error)?;
            record(db, audit_event::Kind::Removed, &user, now).await?;
            Ok(format!(
                "{} removed, with its codes and sessions\n",
                user.username
            ))
        }
        _ => Err(usage()),
    }
}

/// Every admin command, the OpenID Connect ones included.
pub fn usage() -> String {
    format!("{USAGE}{}", crate::server::admin_oidc::USAGE)
}

async fn find(db: &Db, username: &str) -> Result<user::UserRow, String> {
    let username = username.trim().to_lowercase();
    user::find_by_username(db, &username)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no account named `{username}`"))
}

async fn record(
    db: &Db,
    kind: audit_event::Kind,
    user: &user::UserRow,
    now: i64,
) -> Result<(), String> {
    let event = audit_event::Event {
        at: now,
        kind: kind.as_str().to_string(),
        account: Some(user.id.clone()),
        username: user.username.clone(),
        masked_phone: mask_e164(&user.phone),
        ip: "admin".into(),
        user_agent: "dynamic_otp admin".into(),
        detail: String::new(),
        verified_range: None,
    };
    audit_event::record(db, event)
        .await
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CodePurpose;
    use crate::server::auth::lockout::{after_failures, LockoutPolicy};
    use crate::server::db::otp_challenge::NewChallenge;
    use crate::server::db::transactions;

    fn args(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_string).collect()
    }

    async fn seeded() -> Db {
        let db = db::memory().await;
        for (i, name) in ["raj_sharma", "priya_patel"].iter().enumerate() {
            let user = user::NewUser {
                key: format!("u{i}"),
                username: name.to_string(),
                full_name: "राज शर्मा".into(),
                phone: format!("+91987654321{i}"),
                email: "a@example.in".into(),
                password_hash: "$argon2id$stub".into(),
                language: "hi".into(),
            };
            let challenge = NewChallenge {
                key: format!("c{i}"),
                account: user::record(&format!("u{i}")),
                purpose: CodePurpose::VerifyPhone,
                phone: user.phone.clone(),
                code_mac: "mac".into(),
                now: 1_000 + i as i64,
                expires_at: 999_999,
                resend_after: 0,
                language: "hi".into(),
                sign_in_as: None,
            };
            transactions::create_with_challenge(&db, user, challenge, 1_000 + i as i64, 0)
                .await
                .unwrap();
        }
        db
    }

    /// Fails sign-in until the account locks.
    async fn lock(db: &Db, username: &str) {
        let policy = LockoutPolicy {
            delay_after: 1,
            lock_after: 2,
            max_delay_secs: 1,
        };
        for _ in 0..2 {
            login_guard::record_failure(db, username, 5, |n| {
                let c = after_failures(&policy, n);
                (c.wait_secs, c.locked)
            })
            .await
            .unwrap();
        }
    }

    #[tokio::test]
    async fn lists_users_with_masked_phones_and_their_locks() {
        let db = seeded().await;
        lock(&db, "raj_sharma").await;
        let out = execute(&db, &args("users"), 0).await.unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 3, "{out}");
        assert!(lines[1].starts_with("priya_patel") && lines[2].starts_with("raj_sharma"));
        assert!(lines[2].contains("+91******3210") && lines[2].contains("LOCKED"));
        assert!(!out.contains("9876543210"), "phones stay masked");
    }

    #[tokio::test]
    async fn unlock_clears_the_lock_and_is_audited() {
        let db = seeded().await;
        lock(&db, "raj_sharma").await;
        let out = execute(&db, &args("unlock Raj_Sharma"), 7).await.unwrap();
        assert_eq!(out, "raj_sharma unlocked\n");
        assert_eq!(
            login_guard::get(&db, "raj_sharma").await.unwrap(),
            login_guard::Guard::default()
        );
        let events = execute(&db, &args("events raj_sharma"), 0).await.unwrap();
        assert!(
            events.contains("unlocked") && events.contains("admin"),
            "{events}"
        );
    }

    #[tokio::test]
    async fn remove_takes_the_account_codes_and_sessions() {
        let db = seeded().await;
        let out = execute(&db, &args("remove priya_patel"), 9).await.unwrap();
        assert!(out.starts_with("priya_patel removed"));
        assert!(user::find_by_username(&db, "priya_patel")
            .await
            .unwrap()
            .is_none());
        let mut res = db
            .query("SELECT VALUE id FROM otp_challenge WHERE account = user:u1")
            .await
            .unwrap();
        let left: Vec<surrealdb::types::RecordId> = res.take(0).unwrap();
        assert!(left.is_empty());
        assert!(execute(&db, &args("remove priya_patel"), 9)
            .await
            .unwrap_err()
            .contains("no account"));
    }

    #[tokio::test]
    async fn bad_commands_print_the_usage() {
        let db = db::memory().await;
        for bad in ["", "frobnicate", "unlock", "users many"] {
            let error = execute(&db, &args(bad), 0).await.unwrap_err();
            assert!(error.contains("usage: dynamic_otp admin"), "{bad}: {error}");
        }
    }
}
