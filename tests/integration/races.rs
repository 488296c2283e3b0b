//! Racing clients: concurrent code submissions and registrations make exactly one result.

use super::*;

#[tokio::test]
async fn two_racing_correct_submissions_make_one_session() {
    let app = start_app(&[
        ("LIMIT_PHONE_PER_HOUR", "100"),
        ("LIMIT_PHONE_PER_DAY", "100"),
    ])
    .await;
    app.sign_up(&browser(), &SEED[3]).await;
    let user = user::find_by_username(&app.db, "your_username")
        .await
        .unwrap()
        .unwrap();
    let sessions_before = session::count_for(&app.db, &user.id).await.unwrap();

    for round in 0..5 {
        let res = app
            .login(&browser(), "your_username", SEED[3].password)
            .await;
        let challenge = cookie_value(&res, "otp_challenge").unwrap();
        let code = app.last_code_to(SEED[3].phone);
        let submit = || submit_code(app.base.clone(), challenge.clone(), code.clone());
        let (a, b) = tokio::join!(submit(), submit());
        let (a, b) = (a.unwrap(), b.unwrap());
        let winners = [&a, &b]
            .iter()
            .filter(|r| cookie_value(r, "sid").is_some())
            .count();
        let mut statuses = [a.status().as_u16(), b.status().as_u16()];
        statuses.sort();
        assert_eq!(winners, 1, "round {round}: exactly one session cookie");
        assert_eq!(statuses, [200, 410], "round {round}");
        assert_eq!(
            session::count_for(&app.db, &user.id).await.unwrap(),
            sessions_before + round + 1,
            "round {round}: exactly one session stored"
        );
    }
}

#[tokio::test]
async fn fifty_concurrent_submissions_of_one_code_make_one_session() {
    let app = start_app(&[]).await;
    app.sign_up(&browser(), &SEED[0]).await;
    let user = user::find_by_username(&app.db, "raj_sharma")
        .await
        .unwrap()
        .unwrap();
    let before = session::count_for(&app.db, &user.id).await.unwrap();
    let res = app.login(&browser(), "raj_sharma", SEED[0].password).await;
    let challenge = cookie_value(&res, "otp_challenge").unwrap();
    let code = app.last_code_to(SEED[0].phone);
    let submissions: Vec<_> = (0..50)
        .map(|_| submit_code(app.base.clone(), challenge.clone(), code.clone()))
        .collect();
    let mut statuses = BTreeMap::new();
    let mut cookies = 0;
    for task in submissions {
        let res = task.await.unwrap();
        cookies += usize::from(cookie_value(&res, "sid").is_some());
        *statuses.entry(res.status().as_u16()).or_insert(0) += 1;
    }
    assert_eq!(cookies, 1);
    assert_eq!(statuses, BTreeMap::from([(200, 1), (410, 49)]));
    assert_eq!(
        session::count_for(&app.db, &user.id).await.unwrap(),
        before + 1
    );
}

/// Registers `count` people at once who differ only where `vary` says.
async fn register_at_once(
    app: &TestApp,
    count: usize,
    same_username: bool,
) -> BTreeMap<u16, usize> {
    let tasks: Vec<_> = (0..count)
        .map(|i| {
            let base = app.base.clone();
            let username = if same_username {
                "contested".to_string()
            } else {
                format!("user_{i}")
            };
            let phone = if same_username {
                format!("+9198{:08}", 10_000_000 + i)
            } else {
                "+919876543210".to_string()
            };
            tokio::spawn(async move {
                let res = api_client()
                    .post(format!("{base}/api/register"))
                    .header(ACCEPT, "application/json")
                    .form(&[
                        ("username", username.as_str()),
                        ("full_name", "राज शर्मा"),
                        ("phone", phone.as_str()),
                        ("email", "raj@example.in"),
                        ("password", "contested-password"),
                    ])
                    .send()
                    .await
                    .unwrap();
                let status = res.status().as_u16();
                if status == 422 {
                    let (_, error) = error_of(res).await;
                    let fields = error.fields().cloned().unwrap_or_default();
                    assert!(
                        fields.username.is_some() || fields.phone.is_some(),
                        "{error:?}"
                    );
                }
                status
            })
        })
        .collect();
    let mut statuses = BTreeMap::new();
    for task in tasks {
        *statuses.entry(task.await.unwrap()).or_insert(0) += 1;
    }
    statuses
}

#[tokio::test]
async fn a_hundred_concurrent_registrations_of_one_username_or_phone_make_one_account() {
    let app = start_app(&[
        ("ARGON2_MAX_QUEUE", "200"),
        ("LIMIT_IP_SIGNINS_PER_10MIN", "1000"),
    ])
    .await;
    let by_username = register_at_once(&app, 100, true).await;
    assert_eq!(
        by_username,
        BTreeMap::from([(200, 1), (422, 99)]),
        "one username"
    );
    let by_phone = register_at_once(&app, 100, false).await;
    assert_eq!(by_phone, BTreeMap::from([(200, 1), (422, 99)]), "one phone");

    let mut res = app
        .db
        .query("SELECT count() AS n FROM user GROUP ALL; SELECT count() AS n FROM otp_challenge GROUP ALL")
        .await
        .unwrap()
        .check()
        .unwrap();
    let users: Option<i64> = res.take((0, "n")).unwrap();
    let challenges: Option<i64> = res.take((1, "n")).unwrap();
    assert_eq!(
        (users, challenges),
        (Some(2), Some(2)),
        "no half-written records"
    );
}

/// A browser's parallel requests all touch its session; signing out among them still ends it,
/// and every request is answered 200.
#[tokio::test]
async fn sign_out_amid_a_burst_of_requests_ends_the_session() {
    let app = start_app(&[]).await;
    let client = browser();
    app.sign_up(&client, &SEED[0]).await;
    let lookups: Vec<_> = (0..60)
        .map(|_| {
            let (client, base) = (client.clone(), app.base.clone());
            tokio::spawn(async move { post(&client, &base, "current_user", &[]).await.status() })
        })
        .collect();
    let out = app.call(&client, "logout", &[]).await;
    assert_eq!(out.status(), 200);
    // Each lookup finds the user or, after the sign-out, nobody: both are answers, not errors.
    for lookup in lookups {
        let status = lookup.await.unwrap();
        assert_eq!(status, 200);
    }
    let raj = user::find_by_username(&app.db, SEED[0].username)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        session::count_for(&app.db, &raj.id).await.unwrap(),
        0,
        "the session ended in the store, not just in the cookie jar"
    );
}
