//! The site's files (WASM, script, styles, icons) from the site root, and the not-found page
//! for any other address.
//!
//! Files are served here rather than by leptos_axum's `file_and_error_handler`: for a file it
//! finds, that handler makes a child of the thread's current reactive owner, which is the root
//! of whichever page that thread rendered last (`Owner::new_root` leaves it current), and
//! applies *that* page's response options to the file. Under load a page's redirect lost its
//! Location to a script, and scripts went out as the redirect. Its not-found page renders under
//! a root owner of its own, so it is still used for that.

use axum::handler::Handler;
use axum::routing::MethodRouter;
use tower_http::services::ServeDir;

use crate::app::shell;
use crate::server::state::AppState;

/// Files first; what is not a file (or not a GET) gets the app's not-found page.
pub fn service(state: &AppState) -> MethodRouter<AppState> {
    let not_found =
        leptos_axum::file_and_error_handler::<AppState, _>(shell).with_state(state.clone());
    let files = ServeDir::new(&*state.leptos_options.site_root)
        .precompressed_br()
        .precompressed_gzip()
        .call_fallback_on_method_not_allowed(true)
        .fallback(not_found);
    axum::routing::any_service(files)
}
