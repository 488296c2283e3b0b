//! The counters a code about to be sent adds to, in one transaction: its limits in order (the
//! phone's hour and day, the client's address) and its number range's sends, which the
//! SMS-pumping alarm weighs against the range's sign-ins; and, when given, the challenge whose
//! code is about to leave and the record of its first attempt. One commit instead of six.

use std::future::IntoFuture;

use surrealdb::types::RecordId;

use super::super::otp_challenge::{self, NewChallenge};
use super::super::sms_message::{self, NewSms};
use super::super::{errors_mention, first_error, rate_counter, until_settled, Db, DbError};

/// A limit's counter in its current window.
pub struct Limit {
    pub counter: RecordId,
    pub window_ends_at: i64,
    pub max: u32,
}

/// What counting one send found.
#[derive(Debug, PartialEq, Eq)]
pub enum SendCounts {
    /// The limit at this index was already used up; nothing was counted.
    Over(usize),
    /// Every limit had room; this send is counted in each, and in the range's sends (their
    /// total in the window, this one included, when asked for); the challenge, if any,
    /// replaced the account's earlier one of its purpose.
    Counted { range_sends: Option<u32> },
}

/// What a counted send writes in the same commit as its counts.
#[derive(Default, Clone, Copy)]
pub struct WithSend<'a> {
    /// Replaces the account's earlier challenge of its purpose.
    pub challenge: Option<&'a NewChallenge>,
    /// The first provider's attempt, recorded before that provider is asked.
    pub first_attempt: Option<&'a NewSms<'a>>,
}

/// `read_range`: whether to read back the range's sends, which only a send the pumping alarm
/// judges needs (16 shards, so a sign-in to a proven number does not read them).
pub async fn count_send(
    db: &Db,
    limits: &[Limit],
    (range, range_window_secs): (&str, u64),
    read_range: bool,
    now: i64,
    with: WithSend<'_>,
) -> Result<SendCounts, DbError> {
    // One statement pair per limit, so the first one used up stops the rest: a refused send
    // leaves no count behind in any of them.
    let mut sql = String::from("BEGIN TRANSACTION;\n");
    for i in 0..limits.len() {
        sql.push_str(&format!(
            "LET $n{i} = (UPSERT $c{i} SET count = (count ?? 0) + 1, expires_at = $e{i} RETURN VALUE count)[0];\n\
             IF $n{i} > $m{i} {{ THROW 'over_limit:{i}:' }};\n"
        ));
    }
    if with.challenge.is_some() {
        sql.push_str(otp_challenge::REPLACE);
    }
    if with.first_attempt.is_some() {
        sql.push_str(sms_message::START);
    }
    sql.push_str("UPSERT $sends SET count = (count ?? 0) + 1, expires_at = $range_ends;\n");
    if read_range {
        sql.push_str("RETURN math::sum((SELECT VALUE count FROM $all_sends));\n");
    }
    sql.push_str("COMMIT TRANSACTION;");
    let (sends, range_ends) =
        rate_counter::shard_window("range_sends", range, range_window_secs, now);
    let all_sends = if read_range {
        rate_counter::shards("range_sends", range, range_window_secs, now)
    } else {
        Vec::new()
    };
    let (mut res, errors) = until_settled(50, || {
        let mut query = db
            .query(sql.as_str())
            .bind(("sends", sends.clone()))
            .bind(("range_ends", range_ends));
        if read_range {
            query = query.bind(("all_sends", all_sends.clone()));
        }
        for (i, limit) in limits.iter().enumerate() {
            query = query
                .bind((format!("c{i}"), limit.counter.clone()))
                .bind((format!("e{i}"), limit.window_ends_at))
                .bind((format!("m{i}"), i64::from(limit.max)));
        }
        if let Some(challenge) = with.challenge {
            query = otp_challenge::bind_replacement(query, challenge.clone(), None, 1);
        }
        if let Some(sms) = with.first_attempt {
            query = sms_message::bind_start(query, sms);
        }
        query.into_future()
    })
    .await?;
    if let Some(over) =
        (0..limits.len()).find(|i| errors_mention(&errors, &format!("over_limit:{i}:")))
    {
        return Ok(SendCounts::Over(over));
    }
    if !errors.is_empty() {
        return Err(first_error(errors, "send counters"));
    }
    // BEGIN, a LET and an IF per limit, the earlier challenge's UPDATE and the new one's
    // CREATE, the attempt's CREATE, the range's UPSERT, then the RETURN.
    let written =
        if with.challenge.is_some() { 2 } else { 0 } + usize::from(with.first_attempt.is_some());
    let range_sends = if read_range {
        let sends: Option<i64> = res.take(2 * limits.len() + written + 2)?;
        Some(sends.unwrap_or(0).clamp(0, i64::from(u32::MAX)) as u32)
    } else {
        None
    };
    Ok(SendCounts::Counted { range_sends })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::db::memory;

    fn limit(scope: &str, key: &str, max: u32) -> Limit {
        let (counter, window_ends_at) = rate_counter::window(scope, key, 3600, 5);
        Limit {
            counter,
            window_ends_at,
            max,
        }
    }

    #[tokio::test]
    async fn a_burst_of_sends_counts_exactly_the_limit_and_refusals_leave_no_count() {
        let db = memory().await;
        let sends: Vec<_> = (0..100)
            .map(|i| {
                let db = db.clone();
                tokio::spawn(async move {
                    // One phone's hour allows 5; each sender has its own address.
                    let limits = [
                        limit("phone_hour", "+919876543210", 5),
                        limit("ip_hour", &format!("10.0.0.{i}"), 1),
                    ];
                    count_send(&db, &limits, ("919876", 3600), true, 5, WithSend::default()).await
                })
            })
            .collect();
        let mut counted = 0;
        for (i, send) in sends.into_iter().enumerate() {
            let outcome = send.await.unwrap().unwrap();
            let address = format!("10.0.0.{i}");
            let by_address = rate_counter::peek(&db, "ip_hour", &address, 3600, 5).await;
            match outcome {
                SendCounts::Counted { .. } => {
                    counted += 1;
                    assert_eq!(by_address.unwrap(), 1, "a send counts its address once");
                }
                SendCounts::Over(index) => {
                    assert_eq!(index, 0, "the phone's limit, the first in order");
                    assert_eq!(
                        by_address.unwrap(),
                        0,
                        "a refusal leaves the address uncounted"
                    );
                }
            }
        }
        assert_eq!(counted, 5);
        let phone = rate_counter::peek(&db, "phone_hour", "+919876543210", 3600, 5).await;
        assert_eq!(phone.unwrap(), 5, "refused sends are not counted");
        let same_address = [
            limit("phone_hour", "+919812345678", 5),
            limit("ip_hour", "10.0.9.9", 1),
        ];
        let send = || {
            let with = WithSend::default();
            count_send(&db, &same_address, ("919812", 3600), true, 5, with)
        };
        let first = send().await.unwrap();
        assert_eq!(
            first,
            SendCounts::Counted {
                range_sends: Some(1)
            },
            "the range's sends are counted apart from other ranges"
        );
        let second = send().await.unwrap();
        assert_eq!(
            second,
            SendCounts::Over(1),
            "the address's limit, the second in order"
        );
        let phone = rate_counter::peek(&db, "phone_hour", "+919812345678", 3600, 5).await;
        assert_eq!(
            phone.unwrap(),
            1,
            "the phone's count went back with the refusal"
        );
    }

    fn challenge(key: &str) -> NewChallenge {
        NewChallenge {
            key: key.into(),
            account: crate::server::db::user::record("u1"),
            purpose: crate::model::CodePurpose::SignIn,
            phone: "+919876543210".into(),
            code_mac: "mac".into(),
            now: 5,
            expires_at: 300_005,
            resend_after: 30_005,
            language: "en".into(),
            sign_in_as: None,
        }
    }

    #[tokio::test]
    async fn a_counted_send_replaces_the_challenge_and_records_its_attempt_and_a_refused_one_writes_neither(
    ) {
        let db = memory().await;
        let limits = [limit("phone_hour", "+919876543210", 2)];
        for key in ["first", "second", "third"] {
            let attempt = NewSms {
                key: &format!("sms-{key}"),
                provider: "console",
                masked_phone: "+91******3210".into(),
                kind: "code",
                language: "en",
                challenge: Some(key),
                attempt: 1,
                now: 5,
            };
            let with = WithSend {
                challenge: Some(&challenge(key)),
                first_attempt: Some(&attempt),
            };
            count_send(&db, &limits, ("919876", 3600), false, 5, with)
                .await
                .unwrap();
        }
        let stored = |key: &'static str| {
            let db = db.clone();
            async move { otp_challenge::get(&db, key).await.unwrap().is_some() }
        };
        let recorded = |key: &'static str| {
            let db = db.clone();
            async move { sms_message::get(&db, &format!("sms-{key}")).await.unwrap() }
        };
        let first = otp_challenge::get(&db, "first").await.unwrap();
        assert!(first.is_some_and(|r| r.consumed), "spent by the second");
        let second_row = otp_challenge::get(&db, "second").await.unwrap();
        assert!(
            second_row.is_some_and(|r| !r.consumed),
            "the second is live"
        );
        let second = recorded("second")
            .await
            .expect("the second's attempt is recorded");
        assert_eq!(
            (second.status.as_str(), second.challenge.as_deref()),
            ("queued", Some("second"))
        );
        assert!(!stored("third").await, "over the limit: not written");
        assert!(recorded("third").await.is_none(), "nor its attempt");
    }
}
