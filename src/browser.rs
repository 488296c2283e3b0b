//! What the islands do once the page is in the browser. The server renders every element and
//! its first state; the islands only listen and update elements by id, in plain DOM calls,
//! because each Leptos view an island renders adds its own code to the bundle every page loads.
//! The ids and texts both sides share are here too.

use leptos_i18n::td_string;

use crate::i18n::Locale;

/// The ids the code step's server-rendered elements carry.
pub const EXPIRES_ID: &str = "code-expires";
pub const RESEND_ID: &str = "resend";
pub const RESEND_IN_ID: &str = "resend-in";

/// The ids of the phone field's elements.
pub const PHONE_ID: &str = "field-phone";
pub const COUNTRY_ID: &str = "field-country";
pub const PHONE_HINT_ID: &str = "field-phone-hint";

/// "Mobile number, e.g. 81234 56789", for the server and the picker alike.
pub fn phone_hint_text(locale: Locale, example: String) -> String {
    td_string!(locale, field.phone_hint, example = example)
}

/// "The code expires in 4:59." (or that it has expired), for the server and the ticking alike.
pub fn expires_text(locale: Locale, secs: u64) -> String {
    match secs {
        0 => td_string!(locale, verify.expired).to_string(),
        s => {
            let time = format!("{}:{:02}", s / 60, s % 60);
            td_string!(locale, verify.expires_in, time)
        }
    }
}

/// "Resend in 29 s", for the server and the ticking alike.
pub fn resend_in_text(locale: Locale, secs: u64) -> String {
    td_string!(locale, verify.resend_in, secs = secs)
}

/// The digits of `typed` laid out on `example`'s pattern; digits past the pattern follow on.
pub fn group_digits(typed: &str, example: &str) -> String {
    let mut digits = typed.chars().filter(char::is_ascii_digit).peekable();
    let mut out = String::new();
    for slot in example.chars() {
        if digits.peek().is_none() {
            break;
        }
        if slot.is_ascii_digit() {
            out.extend(digits.next());
        } else {
            out.push(slot);
        }
    }
    out.extend(digits);
    out
}

#[cfg(feature = "hydrate")]
pub use live::*;

#[cfg(feature = "hydrate")]
mod live {
    use leptos::prelude::{document, set_interval_with_handle, window_event_listener};
    use leptos::wasm_bindgen::JsCast;
    use leptos::web_sys::{Element, HtmlInputElement};
    use std::cell::Cell;
    use std::rc::Rc;
    use std::time::Duration;

    use super::{
        expires_text, phone_hint_text, resend_in_text, COUNTRY_ID, EXPIRES_ID, PHONE_HINT_ID,
        PHONE_ID, RESEND_ID, RESEND_IN_ID,
    };

    /// The id `Field` gives the code step's field (named `code`).
    const CODE_FIELD_ID: &str = "field-code";
    use crate::i18n::Locale;

    /// The code field sends its form once it holds six digits: typed, pasted or filled in by the
    /// phone, however they were separated, or typed before the script arrived.
    pub fn send_code_when_complete() {
        if let Some(input) = by_id::<HtmlInputElement>(CODE_FIELD_ID) {
            submit_if_complete(&input);
        }
        window_event_listener(leptos::ev::input, move |event| {
            if let Some(input) = event
                .target()
                .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
                .filter(|input| input.id() == CODE_FIELD_ID)
            {
                submit_if_complete(&input);
            }
        });
    }

    fn submit_if_complete(input: &HtmlInputElement) {
        let digits = input.value().chars().filter(char::is_ascii_digit).count();
        if digits == 6 {
            if let Some(form) = input.form() {
                let _ = form.request_submit();
            }
        }
    }

    /// Ticks the code step's two waits: how long the code lasts, and until it may be sent again
    /// (the button is held and the countdown shown until then).
    pub fn tick_code_waits(locale: Locale, expires_in: u64, resend_in: u64) {
        let expires = Rc::new(Cell::new(expires_in));
        let resend = Rc::new(Cell::new(resend_in));
        let _ = set_interval_with_handle(
            move || {
                expires.set(expires.get().saturating_sub(1));
                set_text(EXPIRES_ID, &expires_text(locale, expires.get()));
                let left = resend.get().saturating_sub(1);
                resend.set(left);
                set_text(RESEND_IN_ID, &resend_in_text(locale, left));
                set_flag(RESEND_IN_ID, "hidden", left == 0);
                set_flag(RESEND_ID, "disabled", left > 0);
            },
            Duration::from_secs(1),
        );
    }

    /// The phone field: the number is grouped like the picked country's example as it is typed,
    /// and the hint shows that example. `examples` pairs each region with its example number.
    pub fn group_phone_as_typed(locale: Locale, examples: Vec<(String, String)>) {
        let examples = Rc::new(examples);
        let picked_example = move || {
            let region = by_id::<leptos::web_sys::HtmlSelectElement>(COUNTRY_ID)
                .map(|select| select.value());
            examples
                .iter()
                .find(|(r, _)| Some(r) == region.as_ref())
                .map(|(_, example)| example.clone())
                .unwrap_or_default()
        };
        let example = picked_example.clone();
        window_event_listener(leptos::ev::input, move |event| {
            if let Some(input) = event
                .target()
                .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
                .filter(|input| input.id() == PHONE_ID)
            {
                group_as_typed(&input, &example());
            }
        });
        window_event_listener(leptos::ev::change, move |event| {
            let on_picker = event
                .target()
                .and_then(|t| t.dyn_into::<Element>().ok())
                .is_some_and(|e| e.id() == COUNTRY_ID);
            if on_picker {
                set_text(PHONE_HINT_ID, &phone_hint_text(locale, picked_example()));
            }
        });
    }

    /// Regroups the typed digits like `example` ("81234 56789"), only while typing at the end so an
    /// edit in the middle keeps its caret. Numbers typed with + are left as they are.
    fn group_as_typed(input: &HtmlInputElement, example: &str) {
        let value = input.value();
        let at_end = input
            .selection_start()
            .ok()
            .flatten()
            .is_none_or(|caret| caret as usize >= value.encode_utf16().count());
        if !at_end || value.trim_start().starts_with('+') {
            return;
        }
        let grouped = super::group_digits(&value, example);
        if grouped != value {
            input.set_value(&grouped);
        }
    }

    fn by_id<T: JsCast>(id: &str) -> Option<T> {
        document().get_element_by_id(id)?.dyn_into::<T>().ok()
    }

    fn set_text(id: &str, text: &str) {
        if let Some(element) = by_id::<Element>(id) {
            element.set_text_content(Some(text));
        }
    }

    fn set_flag(id: &str, attribute: &str, on: bool) {
        if let Some(element) = by_id::<Element>(id) {
            let _ = if on {
                element.set_attribute(attribute, "")
            } else {
                element.remove_attribute(attribute)
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_follow_the_local_grouping() {
        assert_eq!(group_digits("9876543210", "81234 56789"), "98765 43210");
        assert_eq!(group_digits("98765", "81234 56789"), "98765");
        assert_eq!(group_digits("987654", "81234 56789"), "98765 4");
        assert_eq!(group_digits("98-765 4321 0", "81234 56789"), "98765 43210");
        assert_eq!(group_digits("2015550123", "201-555-0123"), "201-555-0123");
        assert_eq!(group_digits("98765432109", "81234 56789"), "98765 432109");
        assert_eq!(group_digits("", "81234 56789"), "");
    }
}
