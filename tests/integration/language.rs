//! Pages in the reader's language: from Accept-Language, or picked with /lang and remembered in
//! a cookie; the SMS follows the picked language.

use super::*;

async fn page(client: &reqwest::Client, app: &TestApp, path: &str, accept: &str) -> String {
    let res = client
        .get(format!("{}{path}", app.base))
        .header("accept-language", accept)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{path}");
    res.text().await.unwrap()
}

fn lang_of(html: &str) -> &str {
    let start = html.find("<html").expect("an html element");
    let tag = &html[start..start + html[start..].find('>').unwrap()];
    let value = tag.split("lang=\"").nth(1).expect("a lang attribute");
    &value[..value.find('"').unwrap()]
}

#[tokio::test]
async fn pages_are_rendered_on_the_server_in_the_browsers_language() {
    let app = start_app(&[]).await;
    let hindi = page(&browser(), &app, "/login", "hi-IN,hi;q=0.9,en;q=0.5").await;
    assert_eq!(lang_of(&hindi), "hi");
    assert!(hindi.contains("साइन इन करें") && hindi.contains("यूज़रनेम"));
    assert!(!hindi.contains("We will text a code"));
    // The switcher offers the other language, named in itself.
    assert!(hindi.contains(r#"href="/lang/en?next=/login""#), "{hindi}");

    let english = page(&browser(), &app, "/login", "en-GB,en;q=0.9").await;
    assert_eq!(lang_of(&english), "en");
    assert!(english.contains("We will text a code") && english.contains("हिन्दी"));
    // A language we do not have falls back to English.
    assert_eq!(
        lang_of(&page(&browser(), &app, "/login", "fr-FR").await),
        "en"
    );
}

#[tokio::test]
async fn a_picked_language_is_remembered_and_the_sms_follows_it() {
    let app = start_app(&[]).await;
    let client = browser();
    let res = client
        .get(format!("{}/lang/hi?next=/register", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/register");
    let cookie = res.headers()[SET_COOKIE].to_str().unwrap().to_string();
    assert!(
        cookie.starts_with("lang=hi;") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    // The browser still says English; the pick wins.
    let html = page(&client, &app, "/register", "en-US,en;q=0.9").await;
    assert_eq!(lang_of(&html), "hi");
    assert!(html.contains("अपना खाता बनाएँ"));

    assert_eq!(app.register(&client, &SEED[0]).await.status(), 200);
    let messages = app.gateway.messages();
    assert!(
        messages[0].1.starts_with("आपका फ़ोन पुष्टि कोड"),
        "{}",
        messages[0].1
    );
}

#[tokio::test]
async fn the_language_link_refuses_strangers_and_other_sites() {
    let app = start_app(&[]).await;
    for (path, to) in [
        ("/lang/xx?next=/login", "/login"),
        ("/lang/hi?next=//evil.example/", "/"),
        ("/lang/hi?next=https://evil.example/", "/"),
        ("/lang/en", "/"),
    ] {
        let res = browser()
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303, "{path}");
        assert_eq!(res.headers()["location"], to, "{path}");
        assert_eq!(
            res.headers().contains_key(SET_COOKIE),
            !path.starts_with("/lang/xx"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn signing_in_after_picking_a_language_moves_the_accounts_sms_to_it() {
    let app = start_app(&[]).await;
    let client = browser();
    app.sign_up(&client, &SEED[1]).await;
    let english = app.gateway.messages();
    assert!(english[0].1.starts_with("Your"), "{}", english[0].1);

    let res = client
        .get(format!("{}/lang/hi", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(
        app.login(&client, SEED[1].username, SEED[1].password)
            .await
            .status(),
        200
    );
    let messages = app.gateway.messages();
    let latest = &messages.last().unwrap().1;
    assert!(latest.starts_with("आपका "), "{latest}");
    assert!(latest.contains(" कोड "), "{latest}");
    let stored = user::find_by_username(&app.db, SEED[1].username)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.language.as_deref(), Some("hi"));
}
