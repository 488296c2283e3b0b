//! Code guessing by a hostile, concurrent client: every guess is counted before it is checked,
//! so a burst of hundreds gets no more checks than a patient attacker, and nothing answers 5xx.

use super::*;
use dynamic_otp::server::db::{audit_event, otp_challenge};

/// `count` six-digit codes, none of them `right`.
fn wrong_codes(right: &str, count: usize) -> Vec<String> {
    (0..)
        .map(|n: u32| format!("{:06}", (n * 7919 + 12345) % 1_000_000))
        .filter(|c| c != right)
        .take(count)
        .collect()
}

/// Tallies a burst's answers by error, failing on any 5xx.
async fn tally(tasks: Vec<tokio::task::JoinHandle<reqwest::Response>>) -> BTreeMap<String, usize> {
    let mut answers = BTreeMap::new();
    for task in tasks {
        let (status, error) = error_of(task.await.unwrap()).await;
        assert!(status < 500, "a guess answered {status}: {error:?}");
        let name = format!("{error:?}");
        let name = name.split([' ', '{', '(']).next().unwrap().to_string();
        *answers.entry(name).or_insert(0) += 1;
    }
    answers
}

async fn failed_checks_logged(app: &TestApp) -> i64 {
    app.events(audit_event::Kind::CodeFailed).await
}

#[tokio::test]
async fn a_burst_of_wrong_sign_in_codes_gets_five_checks_and_the_right_code_after_it_is_refused() {
    // The per-IP limit stays out of the way: the challenge alone must hold.
    let app = start_app(&[("LIMIT_IP_CODE_CHECKS_PER_10MIN", "1000")]).await;
    let raj = &SEED[0];
    app.sign_up(&browser(), raj).await;
    let res = app.login_fresh(raj.username, raj.password).await;
    let challenge = cookie_value(&res, "otp_challenge").unwrap();
    let right = app.last_code_to(raj.phone);

    let burst: Vec<_> = wrong_codes(&right, 150)
        .into_iter()
        .map(|code| submit_code(app.base.clone(), challenge.clone(), code))
        .collect();
    let answers = tally(burst).await;
    let checked = answers.get("WrongCode").copied().unwrap_or(0);
    assert_eq!(
        checked, 5,
        "exactly the allowed tries were checked: {answers:?}"
    );
    let row = otp_challenge::get(&app.db, &challenge)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.attempts, 5, "{answers:?}");
    assert_eq!(failed_checks_logged(&app).await, 5);
    // The rest were refused unchecked: the code was dead, or (rarely) their count kept
    // colliding and they were told to wait.
    let refused =
        answers.get("CodeExpired").unwrap_or(&0) + answers.get("TooManyRequests").unwrap_or(&0);
    assert_eq!(refused, 145, "{answers:?}");

    let (status, error) = error_of(
        submit_code(app.base.clone(), challenge.clone(), right)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, error), (410, AppError::CodeExpired));
}

#[tokio::test]
async fn a_burst_of_wrong_reset_codes_gets_five_checks_and_changes_nothing() {
    let app = start_app(&[("LIMIT_IP_CODE_CHECKS_PER_10MIN", "1000")]).await;
    let priya = &SEED[1];
    app.sign_up(&browser(), priya).await;
    let owner = browser();
    let (res, right) = app.forgot(&owner, priya).await;
    let challenge = cookie_value(&res, "otp_challenge").unwrap();

    let burst: Vec<_> = wrong_codes(&right, 100)
        .into_iter()
        .map(|code| {
            let (base, challenge) = (app.base.clone(), challenge.clone());
            tokio::spawn(async move {
                api_client()
                    .post(format!("{base}/api/reset_password"))
                    .header(ACCEPT, "application/json")
                    .header(COOKIE, format!("otp_challenge={challenge}"))
                    .form(&[
                        ("code", code.as_str()),
                        ("password", "a-new-long-password-9"),
                    ])
                    .send()
                    .await
                    .unwrap()
            })
        })
        .collect();
    let answers = tally(burst).await;
    // Every refusal reads the same, so count the checks where they are written down.
    assert_eq!(failed_checks_logged(&app).await, 5, "{answers:?}");
    let row = otp_challenge::get(&app.db, &challenge)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.attempts, 5);

    let form = [
        ("code", right.as_str()),
        ("password", "a-new-long-password-9"),
    ];
    let (status, error) = error_of(app.call(&owner, "reset_password", &form).await).await;
    assert_eq!((status, error), (400, AppError::ResetCodeRefused));
    let res = app.login_fresh(priya.username, priya.password).await;
    assert_eq!(res.status(), 200, "the old password still works");
}

#[tokio::test]
async fn a_new_code_does_not_reset_the_count_of_wrong_ones() {
    let app = start_app(&[("OTP_RESEND_COOLDOWN_SECS", "1")]).await;
    let amit = &SEED[2];
    app.sign_up(&browser(), amit).await;
    let client = browser();
    assert_eq!(
        app.login(&client, amit.username, amit.password)
            .await
            .status(),
        200
    );
    let first = app.last_code_to(amit.phone);
    let wrong = wrong_codes(&first, 3);
    for (n, code) in wrong.iter().enumerate() {
        let (_, error) = error_of(app.verify(&client, code).await).await;
        assert_eq!(
            error,
            AppError::WrongCode {
                tries_left: 4 - n as u32
            }
        );
    }
    app.clock.advance(Duration::from_secs(2));
    assert_eq!(app.call(&client, "resend_code", &[]).await.status(), 200);
    let second = app.last_code_to(amit.phone);
    let wrong = wrong_codes(&second, 2);
    let (_, error) = error_of(app.verify(&client, &wrong[0]).await).await;
    assert_eq!(
        error,
        AppError::WrongCode { tries_left: 1 },
        "the count went on"
    );
    let (_, error) = error_of(app.verify(&client, &wrong[1]).await).await;
    assert_eq!(error, AppError::WrongCode { tries_left: 0 });
    let (status, error) = error_of(app.verify(&client, &second).await).await;
    assert_eq!((status, error), (410, AppError::CodeExpired));
    // And no code is sent for a challenge that has no tries left.
    app.clock.advance(Duration::from_secs(5));
    let sent = app.gateway.messages().len();
    let (status, _) = error_of(app.call(&client, "resend_code", &[]).await).await;
    assert_eq!(status, 410);
    assert_eq!(app.gateway.messages().len(), sent);
}

/// One address guessing across many challenges meets the per-IP limit; a user elsewhere does not.
#[tokio::test]
async fn one_address_guessing_across_challenges_is_limited_and_others_are_not() {
    let app = start_app(&[
        ("LIMIT_IP_CODE_CHECKS_PER_10MIN", "8"),
        ("TRUSTED_PROXIES", "127.0.0.1"),
    ])
    .await;
    let from = |ip: &'static str, challenge: String, code: String| {
        let base = app.base.clone();
        async move {
            api_client()
                .post(format!("{base}/api/verify_code"))
                .header(ACCEPT, "application/json")
                .header("x-forwarded-for", ip)
                .header(COOKIE, format!("otp_challenge={challenge}"))
                .form(&[("code", code.as_str())])
                .send()
                .await
                .unwrap()
        }
    };
    let mut challenges = Vec::new();
    for person in &SEED[..2] {
        app.sign_up(&browser(), person).await;
        let res = app.login_fresh(person.username, person.password).await;
        let challenge = cookie_value(&res, "otp_challenge").unwrap();
        challenges.push((challenge, app.last_code_to(person.phone)));
    }
    let (first, first_code) = &challenges[0];
    for code in wrong_codes(first_code, 5) {
        let (status, _) = error_of(from("198.51.100.66", first.clone(), code).await).await;
        assert_eq!(status, 400);
    }
    let (second, second_code) = &challenges[1];
    let attacker: Vec<u16> = {
        let mut statuses = Vec::new();
        for code in wrong_codes(second_code, 4) {
            statuses.push(
                from("198.51.100.66", second.clone(), code)
                    .await
                    .status()
                    .as_u16(),
            );
        }
        statuses
    };
    assert_eq!(attacker, [400, 400, 400, 429], "eight checks per address");
    let owner = from("203.0.113.5", second.clone(), second_code.clone()).await;
    assert_eq!(owner.status(), 200, "the owner, elsewhere, still gets in");
}

/// The per-IP check limit counts before any challenge is looked up: guessing at a reset for a
/// made-up username meets it exactly as a real one would, so it tells nothing.
#[tokio::test]
async fn the_check_limit_answers_alike_for_a_reset_of_a_made_up_username() {
    let app = start_app(&[("LIMIT_IP_CODE_CHECKS_PER_10MIN", "3")]).await;
    let asker = browser();
    let res = app
        .call(&asker, "forgot_password", &[("username", "nobody_here")])
        .await;
    assert_eq!(res.status(), 200);
    let mut statuses = Vec::new();
    for code in ["111111", "222222", "333333", "444444"] {
        let form = [("code", code), ("password", "a-new-long-password-9")];
        statuses.push(
            app.call(&asker, "reset_password", &form)
                .await
                .status()
                .as_u16(),
        );
    }
    assert_eq!(statuses, [400, 400, 400, 429]);
}

/// The per-IP check limit counts answers that were not right: people behind one address (a
/// carrier's NAT) who register, sign in and reset with right codes never use it up, on the
/// SMS step's own transaction and on the other code steps alike; a wrong code still meets it.
#[tokio::test]
async fn right_codes_from_one_address_never_use_up_its_code_checks() {
    let app = start_app(&[("LIMIT_IP_CODE_CHECKS_PER_10MIN", "1")]).await;
    for person in &SEED[..3] {
        app.sign_up(&browser(), person).await;
        let client = browser();
        let res = app.login(&client, person.username, person.password).await;
        assert_eq!(res.status(), 200);
        let res = app.verify(&client, &app.last_code_to(person.phone)).await;
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    }
    let priya = &SEED[1];
    let owner = browser();
    let (_, right) = app.forgot(&owner, priya).await;
    let form = [
        ("code", right.as_str()),
        ("password", "a-new-long-password-9"),
    ];
    let res = app.call(&owner, "reset_password", &form).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());

    let raj = &SEED[0];
    let client = browser();
    app.login(&client, raj.username, raj.password).await;
    let right = app.last_code_to(raj.phone);
    let mut statuses = Vec::new();
    for code in wrong_codes(&right, 2) {
        statuses.push(app.verify(&client, &code).await.status().as_u16());
    }
    assert_eq!(statuses, [400, 429], "one check that was not right");
}
