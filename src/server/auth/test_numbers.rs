//! Test numbers for app-store review and demos: a fixed code instead of an SMS, until a date.
//! Written `+919999900001=123456@2027-01-31`; config refuses them outside dev mode.

use crate::server::auth::otp::normalise_code;
use crate::server::auth::phone::Phone;
use crate::server::clock;
use crate::server::config::{ConfigError, Sources};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestNumber {
    pub e164: String,
    pub code: String,
    /// The end of the expiry day, UTC, in Unix milliseconds.
    pub valid_until_ms: i64,
}

/// The `test_numbers` setting; refused outside dev mode, where a fixed code would let anyone in.
pub fn load<E: Fn(&str) -> Option<String>>(
    sources: &Sources<E>,
    region: phonenumber::country::Id,
    dev_mode: bool,
) -> Result<Vec<TestNumber>, ConfigError> {
    let numbers = sources.list("test_numbers", |entry| parse(entry, region))?;
    if !numbers.is_empty() && !dev_mode {
        return Err(ConfigError::Invalid {
            key: "test_numbers".into(),
            problem: "test numbers skip the SMS and are refused in production; \
                      remove them or run with dev_mode=true"
                .into(),
        });
    }
    Ok(numbers)
}

/// Parses one `phone=code@YYYY-MM-DD` entry.
pub fn parse(entry: &str, region: phonenumber::country::Id) -> Option<TestNumber> {
    let (phone, rest) = entry.split_once('=')?;
    let (code, date) = rest.split_once('@')?;
    let phone = Phone::parse(phone, region).ok()?;
    let code = normalise_code(code)?;
    let mut parts = date.trim().splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (year, month, day) = (parts.next()??, parts.next()??, parts.next()??);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let end_of_day = (clock::days_from_civil(year, month, day) + 1) * 86_400_000;
    Some(TestNumber {
        e164: phone.e164().to_string(),
        code,
        valid_until_ms: end_of_day,
    })
}

/// The fixed code for `e164` if it is a test number still valid at `now`.
pub fn fixed_code<'a>(numbers: &'a [TestNumber], e164: &str, now: i64) -> Option<&'a str> {
    numbers
        .iter()
        .find(|n| n.e164 == e164 && now < n.valid_until_ms)
        .map(|n| n.code.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_parse_and_expire() {
        let n = parse(
            "+91 99999 00001=123456@2027-01-31",
            phonenumber::country::Id::IN,
        )
        .unwrap();
        assert_eq!(n.e164, "+919999900001");
        assert_eq!(n.code, "123456");
        assert_eq!(
            n.valid_until_ms, 1_801_440_000_000,
            "the end of 31 January 2027, UTC"
        );
        let numbers = [n];
        assert_eq!(
            fixed_code(&numbers, "+919999900001", 1_801_439_999_999),
            Some("123456")
        );
        assert_eq!(
            fixed_code(&numbers, "+919999900001", 1_801_440_000_000),
            None,
            "expired"
        );
        assert_eq!(fixed_code(&numbers, "+919876543210", 0), None);
        for bad in [
            "+919999900001=12345@2027-01-31",
            "nonsense",
            "+919999900001=123456@2027-13-01",
            "+919999900001=123456",
        ] {
            assert_eq!(parse(bad, phonenumber::country::Id::IN), None, "{bad}");
        }
    }
}
