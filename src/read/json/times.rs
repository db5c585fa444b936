//! The timestamp spellings found in exports, read into UTC.
//!
//! Zoned times (RFC 3339, `…Z`) are exact. SIEM tables (Sentinel, Log Analytics) are UTC by
//! definition even when the text carries no zone, such as the portal's CSV `10/18/2023, 3:00:17.123
//! AM`. NXLog's `EventTime` is host-local with no zone; only the caller knows which zone to
//! assume, so [`parse_naive`] takes it.

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;

/// A time that is UTC whether or not it says so: RFC 3339 with any offset, ISO 8601 without a
/// zone, or the Log Analytics portal's US-style `M/D/YYYY, h:mm:ss[.fff] AM`.
pub(crate) fn parse_utc(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Some(ts);
    }
    let civil = text
        .parse::<DateTime>()
        .ok()
        .or_else(|| parse_portal(text))?;
    civil.to_zoned(TimeZone::UTC).ok().map(|z| z.timestamp())
}

/// A zone-less civil time (`2020-09-20 12:16:56[.123]`) read in `zone`. A text that does carry a
/// zone is read exactly, ignoring `zone`.
pub(crate) fn parse_naive(text: &str, zone: &TimeZone) -> Option<Timestamp> {
    let text = text.trim();
    match text.parse::<DateTime>() {
        Ok(civil) => civil.to_zoned(zone.clone()).ok().map(|z| z.timestamp()),
        Err(_) => text.parse::<Timestamp>().ok(),
    }
}

/// True when `text` has no zone, so reading it needed an assumed one.
pub(crate) fn is_naive(text: &str) -> bool {
    text.trim().parse::<Timestamp>().is_err()
}

/// The Azure portal's CSV export: `10/18/2023, 3:00:17.123 AM` (month first, 12-hour clock).
fn parse_portal(text: &str) -> Option<DateTime> {
    DateTime::strptime("%m/%d/%Y, %I:%M:%S%.f %p", text)
        .or_else(|_| DateTime::strptime("%m/%d/%Y %I:%M:%S%.f %p", text))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn utc_spellings() {
        assert_eq!(
            parse_utc("2023-10-18T03:00:17.123Z"),
            Some(ts("2023-10-18T03:00:17.123Z"))
        );
        assert_eq!(
            parse_utc("2023-10-18T05:00:17+02:00"),
            Some(ts("2023-10-18T03:00:17Z"))
        );
        assert_eq!(
            parse_utc("2023-10-18 03:00:17"),
            Some(ts("2023-10-18T03:00:17Z"))
        );
        assert_eq!(
            parse_utc("10/18/2023, 3:00:17.123 AM"),
            Some(ts("2023-10-18T03:00:17.123Z"))
        );
        assert_eq!(
            parse_utc("1/2/2023, 12:05:00 PM"),
            Some(ts("2023-01-02T12:05:00Z"))
        );
        assert_eq!(
            parse_utc("1/2/2023, 12:05:00 AM"),
            Some(ts("2023-01-02T00:05:00Z"))
        );
        assert_eq!(parse_utc("yesterday"), None);
    }

    #[test]
    fn naive_times_use_the_given_zone() {
        let ny = TimeZone::get("America/New_York").unwrap();
        assert_eq!(
            parse_naive("2020-09-20 12:16:56", &ny),
            Some(ts("2020-09-20T16:16:56Z"))
        );
        assert_eq!(
            parse_naive("2020-10-19 03:30:41.104", &TimeZone::UTC),
            Some(ts("2020-10-19T03:30:41.104Z"))
        );
        assert_eq!(
            parse_naive("2020-09-20T16:16:58.233Z", &ny),
            Some(ts("2020-09-20T16:16:58.233Z"))
        );
        assert!(is_naive("2020-09-20 12:16:56"));
        assert!(!is_naive("2020-09-20T16:16:58.233Z"));
        assert_eq!(parse_naive("", &ny), None);
    }
}
