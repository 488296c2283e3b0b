use leptos::nonce::use_nonce;
use leptos::prelude::*;
use leptos_i18n::td_string;
use leptos_meta::{provide_meta_context, HashedStylesheet, Html, MetaTags, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, StaticSegment};

use crate::i18n::Locale;
use crate::language::{provide_locale, use_locale};
use crate::pages::{
    CancelPhoneChangePage, ConnectedAppsPage, ConsentPage, ForgotPage, HomePage, LoginPage,
    PasswordPage, PhonePage, ProfilePage, RegisterPage, ResetPage, SecurityPage, SessionsPage,
    VerifyPage,
};

pub fn shell(options: LeptosOptions) -> impl IntoView {
    let csp = content_security_policy(&options);
    view! {
        <!DOCTYPE html>
        // `lang` is set by App to the language this page is rendered in.
        <html>
            <head>
                <meta charset="utf-8" />
                <meta http-equiv="Content-Security-Policy" content=csp />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <AutoReload options=options.clone() />
                <HashedStylesheet options=options.clone() id="leptos" />
                // Every page loads the islands: only its interactive parts hydrate.
                <HydrationScripts options=options.clone() islands=true />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// Only our own scripts run: the hydration script by this response's nonce, the bundle from our
/// origin, WASM by 'wasm-unsafe-eval'. Development adds the live-reload socket.
fn content_security_policy(options: &LeptosOptions) -> String {
    let nonce = use_nonce()
        .map(|n| format!(" 'nonce-{n}'"))
        .unwrap_or_default();
    let reload = if options.env == leptos::config::Env::DEV {
        " ws: wss:"
    } else {
        ""
    };
    format!(
        "default-src 'self'; script-src 'self'{nonce} 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data:; connect-src 'self'{reload}; object-src 'none'; base-uri 'none'"
    )
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let locale = provide_locale();
    view! {
        <Html attr:lang=leptos_i18n::Locale::as_str(locale) />
        <Title text="Dynamic OTP" />
        <Router>
            <header class="site-header">
                <a href="/" class="brand">"Dynamic OTP"</a>
                <LanguageSwitch />
            </header>
            <main>
                <Routes fallback=|| view! { <NotFound /> }>
                    // Async so the server can answer with a redirect before any HTML is sent.
                    <Route path=StaticSegment("") view=HomePage ssr=SsrMode::Async />
                    <Route path=StaticSegment("login") view=LoginPage />
                    // Async: the phone field's country list is in the first HTML, for readers without script.
                    <Route path=StaticSegment("register") view=RegisterPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("forgot") view=ForgotPage />
                    <Route path=StaticSegment("reset") view=ResetPage />
                    <Route
                        path=(StaticSegment("account"), StaticSegment("sessions"))
                        view=SessionsPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=(StaticSegment("account"), StaticSegment("apps"))
                        view=ConnectedAppsPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=(StaticSegment("account"), StaticSegment("password"))
                        view=PasswordPage
                    />
                    <Route
                        path=(StaticSegment("account"), StaticSegment("profile"))
                        view=ProfilePage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=(StaticSegment("account"), StaticSegment("phone"))
                        view=PhonePage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=(StaticSegment("account"), StaticSegment("security"))
                        view=SecurityPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=(StaticSegment("phone"), StaticSegment("cancel"))
                        view=CancelPhoneChangePage
                    />
                    <Route path=StaticSegment("verify") view=VerifyPage ssr=SsrMode::Async />
                    <Route
                        path=(StaticSegment("oauth2"), StaticSegment("consent"))
                        view=ConsentPage
                        ssr=SsrMode::Async
                    />
                </Routes>
            </main>
        </Router>
    }
}

/// A link to every other language, each named in itself. A full page load through /lang sets
/// the cookie, so it works without JavaScript and the next page is rendered in that language.
#[component]
fn LanguageSwitch() -> impl IntoView {
    let locale = use_locale();
    let location = leptos_router::hooks::use_location();
    let here = move || {
        let path = location.pathname.get();
        let query = location.search.get();
        let next = if query.is_empty() {
            path
        } else {
            format!("{path}?{query}")
        };
        url_escape(&next)
    };
    view! {
        <nav class="languages" aria-label=td_string!(locale, language)>
            {<Locale as leptos_i18n::Locale>::get_all()
                    .iter()
                    .copied()
                    .filter(|l| *l != locale)
                    .map(|l| {
                        let code = leptos_i18n::Locale::as_str(l);
                        view! {
                            <a
                                href=move || format!("/lang/{code}?next={}", here())
                                hreflang=code
                                lang=code
                                rel="external"
                            >
                                {td_string!(l, language_name)}
                            </a>
                        }
                    })
                    .collect_view()}
        </nav>
    }
}

/// Percent-encodes everything but unreserved characters and '/', for a path in a query value.
fn url_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[component]
fn NotFound() -> impl IntoView {
    let locale = use_locale();
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <section class="card">
            <h1>{td_string!(locale, not_found.title)}</h1>
            <p>
                <a href="/">{td_string!(locale, not_found.home)}</a>
            </p>
        </section>
    }
}
