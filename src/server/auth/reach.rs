//! Where numbers may be typed and sent: the regions of the SMS allowlist, the country picker's
//! entries, and the rule that admits a number by its region, not its calling code.

use phonenumber::country;
use phonenumber::metadata::DATABASE;
use phonenumber::Mode;

use super::phone::{Phone, PhoneError};
use crate::error::Problem;
use crate::model::PhoneCountry;

/// The calling code of a region: IN → 91.
pub fn calling_code_of(region: country::Id) -> Option<u16> {
    DATABASE.by_id(region.as_ref()).map(|m| m.country_code())
}

/// The region a settings entry names: a region code ("IN", "GB"), or a calling code, which
/// stands for the main region that uses it (91 → IN, 1 → US, 44 → GB), never for the others
/// sharing it (+1 also serves Caribbean premium ranges).
pub fn region_named(entry: &str) -> Option<country::Id> {
    let entry = entry.trim().trim_start_matches('+');
    if let Ok(code) = entry.parse::<u16>() {
        let regions = DATABASE.by_code(&code)?;
        let main = regions
            .iter()
            .find(|m| m.is_main_country_for_code())
            .or(regions.first())?;
        return main.id().parse().ok();
    }
    // Every region code the parser accepts has metadata (checked by a test), so a name needs no
    // metadata: reading the settings stays clear of its ~65 ms load, which start-up instead
    // overlaps with opening the store.
    entry.to_ascii_uppercase().parse().ok()
}

/// What the phone field shows for a region: its calling code and an example mobile number
/// written the local way.
pub fn country_for_region(region: country::Id, default: country::Id) -> Option<PhoneCountry> {
    let meta = DATABASE.by_id(region.as_ref())?;
    let code = meta.country_code();
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

/// Where numbers may be typed and sent: the regions we send SMS to, and the region for numbers
/// typed without a `+` country code.
#[derive(Debug, Clone, Copy)]
pub struct Reach<'a> {
    pub allowed: &'a [country::Id],
    pub default_region: country::Id,
}

impl Reach<'_> {
    /// A phone number as typed, in a country we send SMS to; the field's problem otherwise.
    pub fn parse(&self, input: &str, picked: Option<&str>) -> Result<Phone, Problem> {
        let phone = Phone::parse(input, self.region_or_default(picked)).map_err(|e| match e {
            PhoneError::Empty => Problem::PhoneMissing,
            PhoneError::Invalid => Problem::PhoneInvalid,
            PhoneError::NotMobile => Problem::PhoneNotMobile,
        })?;
        // By region, not calling code: allowing +1 for the US must not admit the Caribbean.
        if !phone.region().is_some_and(|r| self.allowed.contains(&r)) {
            return Err(Problem::PhoneCountry);
        }
        Ok(phone)
    }

    /// The picked region when it is one we send to; anything else means the default.
    pub fn region_or_default(&self, picked: Option<&str>) -> country::Id {
        picked
            .and_then(|code| code.trim().to_ascii_uppercase().parse().ok())
            .filter(|region| self.allowed.contains(region))
            .unwrap_or(self.default_region)
    }

    /// The countries the phone field offers: the ones we send SMS to, the default first.
    pub fn countries(&self) -> Vec<PhoneCountry> {
        let mut countries: Vec<PhoneCountry> = self
            .allowed
            .iter()
            .filter_map(|region| country_for_region(*region, self.default_region))
            .collect();
        countries.sort_by_key(|c| !c.is_default);
        countries
    }

    /// "+91, +44": what a refused number's error lists.
    pub fn prefixes(&self) -> String {
        let mut prefixes: Vec<String> = Vec::new();
        for code in self.allowed.iter().filter_map(|r| calling_code_of(*r)) {
            let prefix = format!("+{code}");
            if !prefixes.contains(&prefix) {
                prefixes.push(prefix);
            }
        }
        prefixes.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_region_code_the_parser_accepts_has_metadata() {
        let letters = || b'A'..=b'Z';
        let names =
            letters().flat_map(|a| letters().map(move |b| format!("{}{}", a as char, b as char)));
        let regions: Vec<String> = names.filter(|n| region_named(n).is_some()).collect();
        let without: Vec<&String> = regions
            .iter()
            .filter(|n| DATABASE.by_id(n.as_str()).is_none())
            .collect();
        assert!(regions.len() > 240, "{} region codes parse", regions.len());
        assert!(
            without.is_empty(),
            "named regions without metadata: {without:?}"
        );
    }

    #[test]
    fn each_region_names_its_calling_code_and_a_local_example() {
        let india = country_for_region(country::Id::IN, country::Id::IN).unwrap();
        assert_eq!(
            (india.region.as_str(), india.calling_code, india.is_default),
            ("IN", 91, true)
        );
        let digits: String = india.example.chars().filter(char::is_ascii_digit).collect();
        assert_eq!(digits.len(), 10, "{}", india.example);
        assert!(india.example.contains(' '), "grouped: {}", india.example);
        let us = country_for_region(country::Id::US, country::Id::IN).unwrap();
        assert_eq!(
            (us.region.as_str(), us.calling_code, us.is_default),
            ("US", 1, false)
        );
        assert_eq!(calling_code_of(country::Id::GB), Some(44));
    }

    #[test]
    fn settings_name_regions_and_a_calling_code_means_its_main_region_only() {
        assert_eq!(region_named("IN"), Some(country::Id::IN));
        assert_eq!(region_named(" gb "), Some(country::Id::GB));
        assert_eq!(region_named("91"), Some(country::Id::IN));
        assert_eq!(region_named("+1"), Some(country::Id::US));
        assert_eq!(region_named("44"), Some(country::Id::GB));
        assert_eq!(region_named("999"), None);
        assert_eq!(region_named("XX"), None);
    }

    #[test]
    fn allowing_the_us_does_not_admit_the_caribbean_on_the_same_calling_code() {
        let allowed = [country::Id::US];
        let reach = Reach {
            allowed: &allowed,
            default_region: country::Id::US,
        };
        let example = |region: &str| {
            let meta = DATABASE.by_id(region).unwrap();
            let digits = meta.descriptors().mobile().unwrap().example().unwrap();
            format!("+1{digits}")
        };
        assert!(reach.parse(&example("US"), None).is_ok(), "a US mobile");
        // Jamaica and the Dominican Republic share +1; their mobiles are refused.
        for region in ["JM", "DO"] {
            let number = example(region);
            assert!(
                Phone::parse(&number, country::Id::US).is_ok(),
                "{number} is a mobile"
            );
            assert_eq!(
                reach.parse(&number, None),
                Err(Problem::PhoneCountry),
                "{region}"
            );
        }
        assert_eq!(reach.prefixes(), "+1");
    }
}
