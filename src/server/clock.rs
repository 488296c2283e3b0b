//! Wall-clock time for the flows, movable in tests so expiry and limits can be checked without
//! sleeping. In production the offset stays zero. Also the calendar arithmetic the rest needs.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    pub fn now_ms(&self) -> i64 {
        now_ms() + self.offset_ms.load(Ordering::Relaxed)
    }

    /// Moves this clock (and every clone of it) forward.
    pub fn advance(&self, by: Duration) {
        self.offset_ms
            .fetch_add(by.as_millis() as i64, Ordering::Relaxed);
    }
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// A reader's time zone as a fixed offset from UTC: what the browser said its offset is, or the
/// one zone of the account's country. (Offsets, not zone rules: a page is read now.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Zone {
    pub offset_minutes: i32,
}

impl Zone {
    pub const UTC: Zone = Zone { offset_minutes: 0 };

    /// An offset a browser can have: UTC-12:00 to UTC+14:00.
    pub fn from_offset(minutes: i32) -> Option<Zone> {
        (-720..=840).contains(&minutes).then_some(Zone {
            offset_minutes: minutes,
        })
    }

    /// The zone of a country that has one and keeps no summer time.
    pub fn of_region(region: &str) -> Option<Zone> {
        let minutes = match region {
            "IN" | "LK" => 330,
            "NP" => 345,
            "BD" | "BT" => 360,
            "PK" | "UZ" | "MV" => 300,
            "AE" | "OM" => 240,
            "SG" | "MY" | "PH" | "CN" | "HK" | "TW" => 480,
            "JP" | "KR" => 540,
            _ => return None,
        };
        Zone::from_offset(minutes)
    }

    /// "IST" for India's offset, "UTC" for none, else "UTC+09:30".
    pub fn label(self) -> String {
        match self.offset_minutes {
            0 => "UTC".into(),
            330 => "IST".into(),
            m => format!(
                "UTC{}{:02}:{:02}",
                if m < 0 { '-' } else { '+' },
                m.abs() / 60,
                m.abs() % 60
            ),
        }
    }
}

/// "2026-11-24 18:43 UTC" from Unix milliseconds.
pub fn format_utc(ms: i64) -> String {
    format_in(ms, Zone::UTC)
}

/// "2026-11-25 00:13 IST": the time as a reader in `zone` reads it (civil-from-days, proleptic
/// Gregorian).
pub fn format_in(ms: i64, zone: Zone) -> String {
    let secs = ms.div_euclid(1000) + i64::from(zone.offset_minutes) * 60;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} {}",
        rem / 3600,
        rem % 3600 / 60,
        zone.label()
    )
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
/// Days since 1970-01-01 of a proleptic Gregorian date.
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_times_format_like_people_read_them() {
        assert_eq!(format_utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(format_utc(1_795_545_780_000), "2026-11-24 18:43 UTC");
        assert_eq!(format_utc(951_782_400_000), "2000-02-29 00:00 UTC");
    }

    #[test]
    fn a_readers_zone_moves_the_time_and_the_date_and_says_its_name() {
        let ms = 1_795_545_780_000; // 2026-11-24 18:43 UTC
        assert_eq!(
            format_in(ms, Zone::of_region("IN").unwrap()),
            "2026-11-25 00:13 IST"
        );
        assert_eq!(
            format_in(ms, Zone::of_region("NP").unwrap()),
            "2026-11-25 00:28 UTC+05:45"
        );
        let new_york_winter = Zone::from_offset(-300).unwrap();
        assert_eq!(format_in(ms, new_york_winter), "2026-11-24 13:43 UTC-05:00");
        assert_eq!(Zone::from_offset(900), None, "no such offset");
        assert_eq!(
            Zone::of_region("US"),
            None,
            "many zones: the browser must say"
        );
    }

    #[test]
    fn civil_days_round_trip_through_the_formatter() {
        for (y, m, d) in [(1970, 1, 1), (2000, 2, 29), (2026, 12, 31)] {
            let ms = days_from_civil(y, m, d) * 86_400_000;
            assert_eq!(format_utc(ms), format!("{y:04}-{m:02}-{d:02} 00:00 UTC"));
        }
    }
}
