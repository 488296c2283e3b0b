//! Registration input rules. Each check returns the problem shown next to its field.

use crate::error::Problem;

pub const USERNAME_MIN: usize = 3;
pub const USERNAME_MAX: usize = 32;
pub const NAME_MAX: usize = 100;
pub const PASSWORD_MIN: usize = 8;
pub const PASSWORD_MAX: usize = 128;

/// Lower-cases and checks a username; usernames are case-insensitive.
pub fn username(input: &str) -> Result<String, Problem> {
    let name = input.trim().to_lowercase();
    if name.chars().count() < USERNAME_MIN || name.chars().count() > USERNAME_MAX {
        return Err(Problem::UsernameLength);
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.')
    {
        return Err(Problem::UsernameCharacters);
    }
    Ok(name)
}

/// Any script is welcome; only control characters and blank names are refused.
pub fn full_name(input: &str) -> Result<String, Problem> {
    let name = input.trim();
    let length = name.chars().count();
    if length == 0 {
        return Err(Problem::NameMissing);
    }
    if length > NAME_MAX {
        return Err(Problem::NameTooLong);
    }
    if name.chars().any(char::is_control) {
        return Err(Problem::NameCharacters);
    }
    Ok(name.to_string())
}

pub fn email(input: &str) -> Result<String, Problem> {
    let email = input.trim();
    if email.is_empty() {
        return Err(Problem::EmailMissing);
    }
    if email.len() > 254 || !email_address::EmailAddress::is_valid(email) || !email.contains('.') {
        return Err(Problem::EmailInvalid);
    }
    Ok(email.to_string())
}

/// Length only, counted in characters: NIST 800-63B asks for no composition rules.
pub fn password(input: &str) -> Result<(), Problem> {
    let length = input.chars().count();
    if length < PASSWORD_MIN {
        return Err(Problem::PasswordTooShort);
    }
    if length > PASSWORD_MAX {
        return Err(Problem::PasswordTooLong);
    }
    if super::common_passwords::contains(input) {
        return Err(Problem::PasswordCommon);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_lowercased_and_limited() {
        assert_eq!(username(" Raj_Sharma ").unwrap(), "raj_sharma");
        assert_eq!(username("a.b_1").unwrap(), "a.b_1");
        assert!(username("ab").is_err());
        assert!(username(&"a".repeat(33)).is_err());
        assert!(username("raj sharma").is_err());
        assert!(username("राज").is_err());
    }

    #[test]
    fn names_in_any_script() {
        assert_eq!(full_name("  राज शर्मा ").unwrap(), "राज शर्मा");
        assert!(full_name("").is_err());
        assert!(full_name(&"न".repeat(101)).is_err());
        assert!(full_name(&"न".repeat(100)).is_ok());
        assert!(full_name("a\u{0007}b").is_err());
    }

    #[test]
    fn emails_and_passwords() {
        assert!(email("raj@example.in").is_ok());
        assert!(email("raj@").is_err());
        assert!(email("raj").is_err());
        assert!(password("short").is_err());
        assert!(password("पासवर्ड१२३").is_ok());
        assert_eq!(password("password"), Err(Problem::PasswordCommon));
        assert!(password("12345678").is_err());
        assert!(password("correct horse battery").is_ok());
        assert!(password(&"x".repeat(129)).is_err());
    }

    /// The limits are written into every language's sentences; they must say what we check.
    #[test]
    fn the_sentences_name_the_limits_we_check() {
        let says = |p: Problem, numbers: &[usize]| {
            let text = p.to_string();
            numbers.iter().all(|n| text.contains(&n.to_string()))
        };
        assert!(says(Problem::UsernameLength, &[USERNAME_MIN, USERNAME_MAX]));
        assert!(says(Problem::NameTooLong, &[NAME_MAX]));
        assert!(says(Problem::PasswordTooShort, &[PASSWORD_MIN]));
        assert!(says(Problem::PasswordTooLong, &[PASSWORD_MAX]));
    }
}
