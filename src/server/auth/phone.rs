//! Phone numbers: parse what people type, keep E.164, mask for logs and screens.

use phonenumber::metadata::DATABASE;
use phonenumber::{country, Mode, PhoneNumber, Type};

/// A mobile number in E.164 form, e.g. "+919876543210".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone {
    e164: String,
    country_code: u16,
    /// The region the number belongs to (one calling code can serve many: +1 is the US, Canada
    /// and the Caribbean), when the metadata knows it.
    region: Option<country::Id>,
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
        let number = match national_reading(input, default_region) {
            Some(number) => number,
            None => {
                let number = phonenumber::parse(Some(default_region), input)
                    .map_err(|_| PhoneError::Invalid)?;
                if !phonenumber::is_valid(&number) {
                    return Err(PhoneError::Invalid);
                }
                number
            }
        };
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
            region: number.country().id(),
        }
    }

    pub fn e164(&self) -> &str {
        &self.e164
    }

    pub fn country_code(&self) -> u16 {
        self.country_code
    }

    pub fn region(&self) -> Option<country::Id> {
        self.region
    }

    /// For logs: "+91******3210".
    pub fn masked(&self) -> String {
        mask_after_code(self.country_code, self.national(), "")
    }

    /// For people: "+91 ******3210".
    pub fn masked_for_display(&self) -> String {
        mask_after_code(self.country_code, self.national(), " ")
    }

    fn national(&self) -> &str {
        let code_len = self.country_code.to_string().len();
        self.e164.get(1 + code_len..).unwrap_or_default()
    }
}

/// "+91" and the national digits masked but the last four, `separator` between them.
fn mask_after_code(code: u16, national: &str, separator: &str) -> String {
    format!("+{code}{separator}{}", mask_all_but_last4(national))
}

fn mask_all_but_last4(digits: &str) -> String {
    let keep = digits.len().min(4);
    let hidden = digits.len() - keep;
    format!("{}{}", "*".repeat(hidden), &digits[hidden..])
}

/// Typed without `+` or `00`, the digits read as a national number of `region` win when that
/// number is valid, as libphonenumber reads them; only otherwise may their first digits be a
/// calling code. The crate alone strips a leading "91" from "91234 56780" as if it were +91 and
/// refuses what is left, so every Indian number that begins with 91 failed.
fn national_reading(input: &str, region: country::Id) -> Option<PhoneNumber> {
    let typed = input.trim_start();
    if typed.starts_with('+') || typed.starts_with("00") {
        return None;
    }
    let digits: String = typed.chars().filter(char::is_ascii_digit).collect();
    let meta = DATABASE.by_id(region.as_ref())?;
    // With the trunk prefix ("0" in India) dropped first, then as typed.
    let without_prefix = meta
        .national_prefix()
        .and_then(|prefix| digits.strip_prefix(prefix));
    let readings: Vec<&str> = without_prefix
        .into_iter()
        .chain([digits.as_str()])
        .collect();
    readings
        .into_iter()
        .filter(|national| !national.is_empty())
        .filter_map(|national| {
            phonenumber::parse(None, format!("+{}{national}", meta.country_code())).ok()
        })
        .find(phonenumber::is_valid)
}

/// Loads every region's metadata now instead of at the first number a request reads: it is
/// ~65 ms of CPU, which start-up overlaps with opening the store.
pub fn load_metadata() {
    let _loaded: &phonenumber::metadata::Database = &DATABASE;
}

/// A stored E.164 string's calling code and the digits after it, read without parsing the
/// number: calling codes are prefix-free, so the one of the first three digits that the
/// metadata knows is it. A full parse matches the number against its region's patterns, and a
/// sign-in masked and ranged the same stored number that way five times (~1% of its CPU).
pub fn calling_code(e164: &str) -> Option<(u16, &str)> {
    let digits = e164.strip_prefix('+')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    (1..=3.min(digits.len() - 1)).find_map(|len| {
        let code: u16 = digits[..len].parse().ok()?;
        DATABASE
            .by_code(&code)
            .is_some()
            .then_some((code, &digits[len..]))
    })
}

/// Masks a stored E.164 string for a log line, without trusting it to parse.
pub fn mask_e164(e164: &str) -> String {
    mask_stored(e164, "")
}

/// [`mask_e164`] for people: "+91 ******3210".
pub fn mask_e164_for_display(e164: &str) -> String {
    mask_stored(e164, " ")
}

fn mask_stored(e164: &str, separator: &str) -> String {
    match calling_code(e164) {
        Some((code, national)) => mask_after_code(code, national, separator),
        None => mask_all_but_last4(e164.trim_start_matches('+')),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Our verdict on a number libphonenumber judged: accepted as this E.164, or why not.
    fn verdict(input: &str) -> Result<String, PhoneError> {
        Phone::parse(input, country::Id::IN).map(|p| p.e164().to_string())
    }

    #[test]
    fn indian_numbers_that_begin_with_91_are_read_as_typed() {
        for (typed, e164) in [
            ("91234 56780", "+919123456780"),
            ("9198765432", "+919198765432"),
            ("9176543210", "+919176543210"),
            ("91 0000 1234", "+919100001234"),
            ("091234 56780", "+919123456780"),
            ("919876543210", "+919876543210"),
            ("+91 91234 56780", "+919123456780"),
            ("0091 91234 56780", "+919123456780"),
        ] {
            assert_eq!(verdict(typed).as_deref(), Ok(e164), "{typed}");
        }
    }

    /// Every number in `phone_reference.tsv` (written by scripts/phone-reference.py from
    /// libphonenumber's Python port), typed three ways, gets libphonenumber's verdict. On
    /// purpose we differ in one way only: valid numbers that are not mobiles (landlines,
    /// toll-free, premium and shared-cost ranges, UAN) are refused as not able to take SMS.
    #[test]
    fn every_reference_number_reads_as_libphonenumber_reads_it() {
        let reference = include_str!("phone_reference.tsv");
        let header = reference.lines().next().unwrap_or_default();
        let lock = include_str!("../../../Cargo.lock");
        let crate_metadata = lock
            .split("\n[[package]]\n")
            .find(|package| package.starts_with("name = \"phonenumber\"\n"))
            .and_then(|package| package.split('+').nth(1))
            .and_then(|rest| rest.split('"').next())
            .unwrap_or("not found");
        assert!(
            header.contains(&format!("libphonenumber {crate_metadata};")),
            "Cargo.lock's phonenumber crate carries metadata {crate_metadata}, the reference \
             file was made with {header:?}: run scripts/phone-reference.py with that version"
        );
        let mut checked = 0;
        for line in reference.lines().skip(1) {
            let fields: Vec<&str> = line.split('\t').collect();
            let [region, national, valid, kind] = fields[..] else {
                panic!("bad line {line:?}");
            };
            assert_eq!(region, "IN", "the test types numbers for India only");
            let expected = match (valid, kind) {
                ("valid", "MOBILE" | "FIXED_LINE_OR_MOBILE") => Ok(format!("+91{national}")),
                ("valid", _) => Err(PhoneError::NotMobile),
                _ => Err(PhoneError::Invalid),
            };
            let grouped = format!(
                "{} {}",
                &national[..5.min(national.len())],
                &national[5.min(national.len())..]
            );
            for typed in [format!("+91{national}"), national.to_string(), grouped] {
                assert_eq!(verdict(&typed), expected, "{typed:?} ({valid} {kind})");
                checked += 1;
            }
        }
        assert!(checked >= 15_000, "only {checked} checked");
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
        assert_eq!(mask_e164_for_display("+918780378086"), "+91 ******8086");
        assert_eq!(mask_e164("not a number 1234"), "*************1234");
        assert_eq!(mask_e164("+"), "");
    }

    /// The calling code read from the digits is the one a full parse finds, for an example
    /// number of every region the metadata has (+1 and +7 serve several; +800 none).
    #[test]
    fn the_calling_code_without_a_parse_is_the_parsed_one_in_every_region() {
        let mut checked = 0;
        for meta in DATABASE.iter() {
            let d = meta.descriptors();
            for example in [d.mobile(), Some(d.general())]
                .into_iter()
                .flatten()
                .filter_map(|x| x.example())
            {
                let e164 = format!("+{}{example}", meta.country_code());
                let Some(parsed) = Phone::from_e164(&e164) else {
                    continue;
                };
                assert_eq!(
                    calling_code(parsed.e164()).map(|(code, _)| code),
                    Some(parsed.country_code()),
                    "{e164} ({})",
                    meta.id()
                );
                assert_eq!(mask_e164(parsed.e164()), parsed.masked());
                assert_eq!(
                    mask_e164_for_display(parsed.e164()),
                    parsed.masked_for_display()
                );
                checked += 1;
            }
        }
        assert!(checked > 200, "only {checked} numbers checked");
    }
}
