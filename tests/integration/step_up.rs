//! Sensitive changes need a second factor proven in the last 15 minutes: a session left open
//! (or stolen) cannot change the password, phone, email or factors. Signing in again proves it
//! and brings the user back to the page they were on, and only to such a page.

use super::*;

#[tokio::test]
async fn sensitive_changes_need_a_recent_sign_in_and_one_brings_the_user_back() {
    let app = start_app(&[]).await;
    let raj = &SEED[0];
    let here = browser();
    app.sign_up(&here, raj).await;
    app.clock.advance(Duration::from_secs(16 * 60));
    let password_form = [
        ("current_password", raj.password),
        ("new_password", "raj-new-password-77"),
    ];
    let refused = [
        ("change_password", password_form.to_vec()),
        (
            "change_phone",
            vec![("password", raj.password), ("phone", "99999 12345")],
        ),
        ("start_app", vec![]),
        (
            "update_profile",
            vec![("full_name", raj.full_name), ("email", "new@example.in")],
        ),
    ];
    for (endpoint, form) in &refused {
        let res = app.call(&here, endpoint, form).await;
        assert_eq!(
            error_of(res).await,
            (403, AppError::StepUpNeeded),
            "{endpoint}"
        );
    }
    assert!(
        app.me(&here).await.is_some(),
        "still signed in, for everything else"
    );
    let same_email = [("full_name", "राज कुमार"), ("email", raj.email)];
    let res = app.call(&here, "update_profile", &same_email).await;
    assert_eq!(res.status(), 200, "a new name alone changes no way in");
    assert_eq!(app.gateway.messages().len(), 1, "no code went anywhere");

    // Signing in again, from the page that asked, leads back there.
    let form = [
        ("username", raj.username),
        ("password", raj.password),
        ("next", "/account/password"),
    ];
    assert_eq!(app.call(&here, "login", &form).await.status(), 200);
    let res = app.verify(&here, &app.last_code_to(raj.phone)).await;
    assert_eq!(res.headers()["location"], "/account/password");
    let res = app.call(&here, "change_password", &password_form).await;
    assert_eq!(res.status(), 200);

    // `next` goes only to the pages that ask for it: no open redirect.
    let elsewhere = browser();
    let form = [
        ("username", raj.username),
        ("password", "raj-new-password-77"),
        ("next", "https://evil.example/account/phone"),
    ];
    assert_eq!(app.call(&elsewhere, "login", &form).await.status(), 200);
    let res = app.verify(&elsewhere, &app.last_code_to(raj.phone)).await;
    assert_eq!(res.headers()["location"], "/");
}
