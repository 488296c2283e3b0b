//! The language a page is rendered in. Chosen once per page load: the server reads the
//! switcher's cookie, then Accept-Language; the browser takes the server's choice from
//! `<html lang>`, so its islands render the very same words. Switching languages is a page load
//! through /lang, so no page ever changes language while it is open.

use leptos::prelude::*;

use crate::i18n::Locale;

/// The page's language, provided once at the top of the app.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct PageLanguage(Locale);

/// The language of the page being rendered. An island in the browser has no context from the
/// page around it, so it reads the page's `<html lang>`.
pub fn use_locale() -> Locale {
    use_context::<PageLanguage>()
        .map(|l| l.0)
        .unwrap_or_else(page_locale)
}

/// Decides this page's language and provides it to every component below.
pub fn provide_locale() -> Locale {
    let locale = page_locale();
    provide_context(PageLanguage(locale));
    locale
}

#[cfg(feature = "ssr")]
fn page_locale() -> Locale {
    use_context::<http::request::Parts>()
        .map(|parts| pick(&crate::server::client::languages_of(&parts)))
        .unwrap_or_default()
}

#[cfg(not(feature = "ssr"))]
fn page_locale() -> Locale {
    document()
        .document_element()
        .and_then(|html| html.get_attribute("lang"))
        .and_then(|lang| lang.parse().ok())
        .unwrap_or_default()
}

/// The first of the reader's languages (most preferred first) that we have, else English.
pub fn pick(preferred: &[String]) -> Locale {
    preferred
        .iter()
        .find_map(|language| language.parse().ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_language_we_have_wins() {
        let langs = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(pick(&langs(&["fr", "hi", "en"])), Locale::hi);
        assert_eq!(pick(&langs(&["en", "hi"])), Locale::en);
        assert_eq!(pick(&langs(&["fr"])), Locale::en);
        assert_eq!(pick(&[]), Locale::en);
    }
}
