//! The timestamp spellings found in exports, read into UTC.
//!
//! Zoned times (RFC 3339, `…Z`) are exact. SIEM tables (Sentinel, Log Analytics) are UTC by
//! definition even when the text carries no zone, such as the portal's CSV `10/18/2023, 3:00:17.123
//! AM`. NXLog's `EventTime` is host-local with no zone; only the caller knows which zone to
//! assume, so [`parse_naive`] takes it.
//!
//! Windows clocks go to the year 30827 and jiff's instants from -9999 to 9999: a time beyond
//! that range, which only a clock set on purpose gives, is read as the nearest representable
//! instant, and [`as_logged`] keeps its text so the event carries it (the reader's output warns
//! where). The record is kept: it is evidence, and its time is what the attacker wrote.

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
    let civil = text.parse::<DateTime>().ok().or_else(|| parse_portal(text));
    match civil {
        Some(civil) => civil.to_zoned(TimeZone::UTC).ok().map(|z| z.timestamp()),
        None => beyond_range(text),
    }
}

/// An ISO 8601 time whose year lies beyond jiff's (`30827-12-31T…`, `-10000-01-01…`): the
/// nearest representable instant, the last or the first.
pub(crate) fn beyond_range(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    let (negative, rest) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    // A date follows the year: `-MM-DD`, then a time.
    let after = rest.get(digits..)?.as_bytes();
    let dated = after.len() >= 6
        && after[0] == b'-'
        && after[1..3].iter().all(u8::is_ascii_digit)
        && after[3] == b'-'
        && after[4..6].iter().all(u8::is_ascii_digit);
    let year: u64 = rest.get(..digits)?.parse().ok()?;
    (dated && year > 9999).then_some(if negative {
        Timestamp::MIN
    } else {
        Timestamp::MAX
    })
}

/// A record's `SystemTime` (RFC 3339): the instant, and the text as logged when it lies beyond
/// jiff's years and was read as the nearest end ([`beyond_range`]).
pub(crate) fn system_time(text: &str) -> Option<(Timestamp, Option<Box<str>>)> {
    if let Ok(time) = text.parse::<Timestamp>() {
        return Some((time, None));
    }
    let time = beyond_range(text)?;
    Some((time, Some(text.trim().into())))
}

/// The text of a time that [`beyond_range`] had to bring into range, to keep beside the
/// instant it was read as; `None` for every time read as written.
pub(crate) fn as_logged(text: &str, time: Timestamp) -> Option<Box<str>> {
    let at_an_end = time == Timestamp::MAX || time == Timestamp::MIN;
    (at_an_end && text.trim().parse::<Timestamp>().is_err() && beyond_range(text).is_some())
        .then(|| text.trim().into())
}

/// A zone-less civil time (`2020-09-20 12:16:56[.123]`) read in `zone`. A text that does carry a
/// zone is read exactly, ignoring `zone`.
pub(crate) fn parse_naive(text: &str, zone: &TimeZone) -> Option<Timestamp> {
    let text = text.trim();
    match text.parse::<DateTime>() {
        Ok(civil) => civil.to_zoned(zone.clone()).ok().map(|z| z.timestamp()),
        Err(_) => text
            .parse::<Timestamp>()
            .ok()
            .or_else(|| beyond_range(text)),
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
    fn times_beyond_the_years_jiff_holds_are_brought_to_its_ends() {
        assert_eq!(parse_utc("30827-12-31T23:59:59.999Z"), Some(Timestamp::MAX));
        assert_eq!(parse_utc("+030827-12-31T23:59:59Z"), Some(Timestamp::MAX));
        assert_eq!(parse_utc("-10000-01-01T00:00:00Z"), Some(Timestamp::MIN));
        assert_eq!(
            parse_naive("30827-12-31 23:59:59", &TimeZone::UTC),
            Some(Timestamp::MAX)
        );
        assert_eq!(
            as_logged("30827-12-31T23:59:59Z", Timestamp::MAX).as_deref(),
            Some("30827-12-31T23:59:59Z")
        );
        // Times jiff holds, the ends included, are read as written.
        assert_eq!(
            as_logged("9999-12-30T22:00:00.999999999Z", Timestamp::MAX),
            None
        );
        assert_eq!(
            as_logged("2024-01-01T00:00:00Z", ts("2024-01-01T00:00:00Z")),
            None
        );
        for garbage in ["yesterday", "12345", "30827", "30827-1-1", ""] {
            assert_eq!(beyond_range(garbage), None, "{garbage:?}");
        }
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
