//! The common-password list a new password is checked against (NIST 800-63B asks for a
//! blocklist; ASVS 6.2.4 for at least the top 3,000).
//!
//! `common_passwords.txt` holds the entries of the `passwords` crate's list (v3.1.19, MIT; about
//! 100,000 passwords) that are at least `PASSWORD_MIN` characters long, as shorter ones are
//! refused for their length first: one per line, sorted by bytes. It is searched as text.
//! The crate keeps its list as a table of string slices; in a position-independent binary every
//! slice's pointer is patched at load, which made 1.6 MB of private memory in every process.

use std::cmp::Ordering;

const LIST: &str = include_str!("common_passwords.txt");

/// Whether `password` is on the list.
pub fn contains(password: &str) -> bool {
    let list = LIST.strip_suffix('\n').unwrap_or(LIST);
    let bytes = list.as_bytes();
    // Binary search over lines; `low` and `high` always sit at the start of a line (or the end).
    let (mut low, mut high) = (0, bytes.len());
    while low < high {
        let middle = low + (high - low) / 2;
        let start = bytes[low..middle]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(low, |at| low + at + 1);
        let end = bytes[start..high]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(high, |at| start + at);
        match bytes[start..end].cmp(password.as_bytes()) {
            Ordering::Equal => return true,
            Ordering::Less => low = (end + 1).min(high),
            Ordering::Greater => high = start,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::auth::validate::PASSWORD_MIN;

    fn entries() -> Vec<&'static str> {
        LIST.lines().collect()
    }

    #[test]
    fn the_list_is_sorted_unique_and_only_as_long_as_a_password_may_be() {
        let entries = entries();
        assert!(entries.len() > 40_000, "{}", entries.len());
        assert!(entries.windows(2).all(|pair| pair[0] < pair[1]));
        assert!(entries.iter().all(|e| e.chars().count() >= PASSWORD_MIN));
    }

    #[test]
    fn every_entry_is_found_and_nothing_between_two_is() {
        for entry in entries() {
            assert!(contains(entry), "{entry}");
            assert!(!contains(&format!("{entry}\u{1}")), "{entry}");
        }
        assert!(!contains(""));
        assert!(!contains("correct horse battery staple 7q"));
    }

    /// The same answers as the crate the list comes from, for every long-enough password it has
    /// that we sample, and for a few it has not.
    #[test]
    fn it_agrees_with_the_passwords_crate() {
        for entry in entries().iter().step_by(211) {
            assert!(passwords::analyzer::is_common_password(entry), "{entry}");
        }
        for password in [
            "password",
            "password123",
            "iloveyou1",
            "qwertyuiop",
            "1234567890",
        ] {
            assert_eq!(
                contains(password),
                passwords::analyzer::is_common_password(password),
                "{password}"
            );
            assert!(contains(password), "{password}");
        }
        for password in ["correct horse battery staple 7q", "राज शर्मा का पासवर्ड"]
        {
            assert!(!passwords::analyzer::is_common_password(password));
            assert!(!contains(password));
        }
    }
}
