//! SMS-pumping ("toll fraud") detection: fraudsters trigger codes to numbers they are paid for
//! and never enter them. A number range whose codes are sent far more often than they are
//! verified is stopped for a while.

use crate::server::config::{ConfigError, Sources};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PumpingPolicy {
    /// National digits after the calling code that make up a range ("+91" + "98").
    pub prefix_digits: usize,
    /// Sends in an hour below which a range is never judged.
    pub min_sends: u32,
    /// Sends per successful verification above which the range is stopped.
    pub max_ratio: f64,
}

impl PumpingPolicy {
    pub fn load<E: Fn(&str) -> Option<String>>(
        sources: &Sources<E>,
    ) -> Result<PumpingPolicy, ConfigError> {
        Ok(PumpingPolicy {
            prefix_digits: sources.parse("pumping_prefix_digits")?,
            min_sends: sources.parse("pumping_min_sends")?,
            max_ratio: sources.parse("pumping_max_ratio")?,
        })
    }
}

/// The range a number belongs to: "+9198" for +919876543210 with two digits.
pub fn prefix(e164: &str, country_code: u16, digits: usize) -> String {
    let head = format!("+{country_code}");
    let national = e164.get(head.len()..).unwrap_or_default();
    let take: String = national.chars().take(digits).collect();
    format!("{head}{take}")
}

/// Whether a range with these counts in the current hour looks pumped.
pub fn is_pumped(policy: &PumpingPolicy, sends: u32, verified: u32) -> bool {
    sends >= policy.min_sends && f64::from(sends) > policy.max_ratio * f64::from(verified.max(1))
}

/// How many verified numbers clear a range with `sends`: counting further changes nothing, so
/// the alarm reads no more than this many.
pub fn verified_enough(policy: &PumpingPolicy, sends: u32) -> u32 {
    // A ratio of zero or less (or not a number) judges without the verified count.
    if policy.max_ratio.is_nan() || policy.max_ratio <= 0.0 {
        return 1;
    }
    ((f64::from(sends) / policy.max_ratio)
        .ceil()
        .min(f64::from(u32::MAX)) as u32)
        .max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_ratios() {
        assert_eq!(prefix("+919876543210", 91, 2), "+9198");
        assert_eq!(prefix("+919876543210", 91, 0), "+91");
        let policy = PumpingPolicy {
            prefix_digits: 2,
            min_sends: 20,
            max_ratio: 5.0,
        };
        assert!(!is_pumped(&policy, 19, 0), "too few to judge");
        assert!(is_pumped(&policy, 20, 0));
        assert!(
            !is_pumped(&policy, 50, 10),
            "5 sends per verification is normal"
        );
        assert!(is_pumped(&policy, 51, 10));
    }

    #[test]
    fn counting_past_enough_never_changes_the_verdict() {
        for max_ratio in [-1.0, 0.0, f64::NAN, 0.5, 1.0, 2.0, 3.3, 5.0] {
            let policy = PumpingPolicy {
                prefix_digits: 2,
                min_sends: 1,
                max_ratio,
            };
            for sends in 1..200 {
                let enough = verified_enough(&policy, sends);
                for verified in 0..400 {
                    assert_eq!(
                        is_pumped(&policy, sends, verified.min(enough)),
                        is_pumped(&policy, sends, verified),
                        "ratio {max_ratio}, {sends} sends, {verified} verified"
                    );
                }
            }
        }
    }
}
