//! Phone numbers: parse what people type, keep E.164, mask for logs and screens.

use phonenumber::metadata::DATABASE;
use phonenumber::{country, Mode, PhoneNumber, Type};

use crate::model::PhoneCountry;

/// A mobile number in E.164 form, e.g. "+919876543210".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone {
    e164: String,
    country_code: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("Enter a phone number.")]
    Empty,
    #[error("That is not a valid phone number.")]
    Invalid,
    #[error("That number cannot receive SMS. Please enter a mobile number.")]
    NotMobile,
}

/// The calling code of a region: IN → 91.
pub fn calling_code_of(region: country::Id) -> Option<u16> {
    DATABASE.by_id(region.as_ref()).map(|m| m.country_code())
}

/// What the phone field shows for a calling code: the main region that uses it and an example
/// mobile number written the local way.
pub fn country_for_code(code: u16, default: country::Id) -> Option<PhoneCountry> {
    let regions = DATABASE.by_code(&code)?;
    let meta = regions
        .iter()
        .find(|m| m.id() == default.as_ref())
        .or_else(|| regions.iter().find(|m| m.is_main_country_for_code()))
        .or(regions.first())?;
    let region: country::Id = meta.id().parse().ok()?;
    let example = meta
        .descriptors()
        .mobile()
        .and_then(|d| d.example())
        .and_then(|digits| phonenumber::parse(Some(region), digits).ok())
        .map(|number| {
            let written = number.format().mode(Mode::International).to_string();
            let prefix = format!("+{code}");
            written
                .strip_prefix(&prefix)
                .unwrap_or(&written)
                .trim()
                .to_string()
        })
        .unwrap_or_default();
    Some(PhoneCountry {
        region: meta.id().to_string(),
        calling_code: code,
        example,
        is_default: meta.id() == default.as_ref(),
    })
}

impl Phone {
    /// Accepts "98765 43210", "+91 98765 43210", "+919876543210" alike.
    pub fn parse(input: &str, default_region: country::Id) -> Result<Phone, PhoneError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(PhoneError::Empty);
        }
        if input.chars().any(|c| c.is_alphabetic()) {
            return Err(PhoneError::Invalid);
        }
        let number =
            phonenumber::parse(Some(default_region), input).map_err(|_| PhoneError::Invalid)?;
        if !phonenumber::is_valid(&number) {
            return Err(PhoneError::Invalid);
        }
        match number.number_type(&phonenumber::metadata::DATABASE) {
            Type::Mobile | Type::FixedLineOrMobile => Ok(Phone::from_number(&number)),
            _ => Err(PhoneError::NotMobile),
        }
    }

    /// Rebuilds a number already stored in E.164 form.
    pub fn from_e164(e164: &str) -> Option<Phone> {
        let number = phonenumber::parse(None, e164).ok()?;
        Some(Phone::from_number(&number))
    }

    fn from_number(number: &PhoneNumber) -> Phone {
        Phone {
            e164: number.format().mode(Mode::E164).to_string(),
            country_code: number.code().value(),
        }
    }

    pub fn e164(&self) -> &str {
        &self.e164
    }

    pub fn country_code(&self) -> u16 {
        self.country_code
    }

    /// For logs: "+91******3210".
    pub fn masked(&self) -> String {
        let (prefix, national) = self.split();
        format!("{prefix}{}", mask_all_but_last4(national))
    }

    /// For people: "+91 ******3210".
    pub fn masked_for_display(&self) -> String {
        let (prefix, national) = self.split();
        format!("{prefix} {}", mask_all_but_last4(national))
    }

    fn split(&self) -> (String, &str) {
        let prefix = format!("+{}", self.country_code);
        let national = self.e164.get(prefix.len()..).unwrap_or_default();
        (prefix, national)
    }
}

fn mask_all_but_last4(digits: &str) -> String {
    let keep = digits.len().min(4);
    let hidden = digits.len() - keep;
    format!("{}{}", "*".repeat(hidden), &digits[hidden..])
}

/// Masks a stored E.164 string for a log line, without trusting it to parse.
pub fn mask_e164(e164: &str) -> String {
    Phone::from_e164(e164)
        .map(|p| p.masked())
        .unwrap_or_else(|| mask_all_but_last4(e164.trim_start_matches('+')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_calling_code_names_its_country_and_a_local_example() {
        let india = country_for_code(91, country::Id::IN).unwrap();
        assert_eq!((india.region.as_str(), india.is_default), ("IN", true));
        let digits: String = india.example.chars().filter(char::is_ascii_digit).collect();
        assert_eq!(digits.len(), 10, "{}", india.example);
        assert!(india.example.contains(' '), "grouped: {}", india.example);
        let us = country_for_code(1, country::Id::IN).unwrap();
        assert_eq!((us.region.as_str(), us.is_default), ("US", false));
        assert_eq!(calling_code_of(country::Id::GB), Some(44));
        assert!(country_for_code(999, country::Id::IN).is_none());
    }

    #[test]
    fn three_ways_of_typing_one_number() {
        let forms = [
            "98765 43210",
            "+91 98765 43210",
            "+919876543210",
            "098765-43210",
        ];
        for form in forms {
            let phone = Phone::parse(form, country::Id::IN).unwrap();
            assert_eq!(phone.e164(), "+919876543210", "{form}");
        }
    }

    #[test]
    fn seed_users_numbers_are_mobiles() {
        for n in ["+918765432109", "+917654321098", "+918780378086"] {
            assert_eq!(Phone::parse(n, country::Id::IN).unwrap().e164(), n);
        }
    }

    #[test]
    fn invalid_and_non_mobile_numbers_are_refused() {
        assert_eq!(Phone::parse("", country::Id::IN), Err(PhoneError::Empty));
        assert_eq!(
            Phone::parse("12345", country::Id::IN),
            Err(PhoneError::Invalid)
        );
        assert_eq!(
            Phone::parse("call me", country::Id::IN),
            Err(PhoneError::Invalid)
        );
        assert_eq!(
            Phone::parse("+91 98765 4321", country::Id::IN),
            Err(PhoneError::Invalid)
        );
        // A Delhi landline and an Indian toll-free number cannot receive SMS.
        assert_eq!(
            Phone::parse("+91 11 2345 6789", country::Id::IN),
            Err(PhoneError::NotMobile)
        );
        assert_eq!(
            Phone::parse("1800 123 4567", country::Id::IN),
            Err(PhoneError::NotMobile)
        );
    }

    #[test]
    fn masks_keep_country_and_last_four() {
        let phone = Phone::parse("+918780378086", country::Id::IN).unwrap();
        assert_eq!(phone.masked(), "+91******8086");
        assert_eq!(phone.masked_for_display(), "+91 ******8086");
        assert_eq!(mask_e164("+447700900123"), "+44******0123");
    }
}
