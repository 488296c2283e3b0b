//! The floor under figure 3: the records a right code check writes (the address's counter, the
//! challenge, the account, the session and the audit row), written bare in one transaction, on
//! the same store from the same workers: no condition, no comparison, nothing read back. What
//! `transactions::check_code` costs above this is its logic; this much is the engine's price
//! for the records themselves.

use std::future::IntoFuture;
use std::sync::Arc;
use std::time::Duration;

use dynamic_otp::server::db::{otp_challenge, rate_counter, session, user, Db};

use super::{address, closed_loop, now_ms};

/// Right-code checks' writes a second, over `keys` (challenges `seed_challenges` made, with
/// their accounts numbered from `first`; used or not, as nothing here reads them).
pub async fn bare_writes_rate(db: &Db, keys: Vec<String>, first: usize, workers: usize) -> f64 {
    let (db, keys) = (db.clone(), Arc::new(keys));
    let (rate, _) = closed_loop(workers, Duration::from_secs(5), keys.len(), move |i| {
        let (db, keys) = (db.clone(), keys.clone());
        async move {
            let now = now_ms();
            let (counter, ends) = rate_counter::window("code_checks_ip", &address(i), 600, now);
            let account = user::record(&format!("bv{}", first + i));
            let mut res = db
                .query(
                    "BEGIN TRANSACTION;
                     UPSERT $counter SET count = (count ?? 0) + 1, expires_at = $ends;
                     UPDATE $challenge SET attempts += 1, consumed = true;
                     UPDATE $account SET phone_verified = true, last_method = 'sms';
                     CREATE $session_id CONTENT { account: $account, created_at: $now, last_seen: $now,
                         proven_at: $now, expires_at: $now + 3600000, ip: $ip, user_agent: 'bench',
                         methods: ['pwd', 'sms'] };
                     CREATE audit_event CONTENT { at: $now, kind: 'signed_in', account: $account,
                         username: 'bench', masked_phone: '+91******0000', ip: $ip,
                         user_agent: 'bench', detail: 'sms', verified_range: '+9197' };
                     COMMIT TRANSACTION;",
                )
                .bind(("counter", counter))
                .bind(("ends", ends))
                .bind(("challenge", otp_challenge::record(&keys[i])))
                .bind(("account", account))
                .bind(("session_id", session::record(&format!("f{i:063x}"))))
                .bind(("now", now))
                .bind(("ip", address(i)))
                .into_future()
                .await
                .expect("bare writes: sent");
            // Each writes records of its own (sessions named apart from `check_rate`'s): nothing
            // to collide with, so any error is the floor's own mistake, not a figure.
            let errors = res.take_errors();
            assert!(errors.is_empty(), "bare writes: {errors:?}");
            true
        }
    })
    .await;
    rate
}
