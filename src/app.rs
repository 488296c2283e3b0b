use leptos::nonce::use_nonce;
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, StaticSegment};

use crate::pages::{
    ForgotPage, HomePage, LoginPage, PasswordPage, PhonePage, ProfilePage, RegisterPage, ResetPage,
    SessionsPage, VerifyPage,
};

pub fn shell(options: LeptosOptions) -> impl IntoView {
    let csp = content_security_policy(&options);
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta http-equiv="Content-Security-Policy" content=csp />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <AutoReload options=options.clone() />
                <HashedStylesheet options=options.clone() id="leptos" />
                <HydrationScripts options />
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
    // Marks the page as interactive; browser tests wait for it before typing.
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "");
        }
    });
    view! {
        <Title text="Dynamic OTP" />
        <Router>
            <header class="site-header">
                <a href="/" class="brand">"Dynamic OTP"</a>
            </header>
            <main>
                <Routes fallback=|| view! { <NotFound /> }>
                    // Async so the server can answer with a redirect before any HTML is sent.
                    <Route path=StaticSegment("") view=HomePage ssr=SsrMode::Async />
                    <Route path=StaticSegment("login") view=LoginPage />
                    <Route path=StaticSegment("register") view=RegisterPage />
                    <Route path=StaticSegment("forgot") view=ForgotPage />
                    <Route path=StaticSegment("reset") view=ResetPage />
                    <Route
                        path=(StaticSegment("account"), StaticSegment("sessions"))
                        view=SessionsPage
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
                    <Route path=StaticSegment("verify") view=VerifyPage ssr=SsrMode::Async />
                </Routes>
            </main>
        </Router>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <section class="card">
            <h1>"Page not found"</h1>
            <p>
                <a href="/">"Go to the start page"</a>
            </p>
        </section>
    }
}
