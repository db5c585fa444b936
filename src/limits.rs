//! Bounds on what the command line may ask for: how many threads, and how long a duration.
//!
//! Checked here, in the front end, so a typo gets a clear message and exit 2 before any work,
//! instead of a run that never ends (`-j 20000`) or time arithmetic pushed off the end of the
//! calendar (`--window 99999999h`; the library also checks its arithmetic, but cannot say which
//! flag was wrong). This module knows nothing of events or reports.

use jiff::SignedDuration;

use crate::cli::parse_duration as parse;

/// Threads per core at most. The readers are CPU-bound (EVTX chunk walking, JSON parsing,
/// inflating archives), so past one thread per core more threads only help to hide the latency
/// of a slow disk or network share while others wait on it; four per core is plenty for that,
/// and beyond it every thread only costs memory and scheduling (`-j 20000` spent minutes
/// starting and stopping threads).
const THREADS_PER_CORE: usize = 4;

/// The thread count to use for `-j requested`, and what to tell the user when it was capped.
pub fn threads(requested: usize) -> Result<(usize, Option<String>), String> {
    if requested == 0 {
        return Err("--threads must be at least 1".into());
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let cap = cores.saturating_mul(THREADS_PER_CORE);
    if requested <= cap {
        return Ok((requested, None));
    }
    Ok((
        cap,
        Some(format!(
            "svchunt: -j {requested} is more than this machine can use; using {cap} threads \
             ({THREADS_PER_CORE} per core, {cores} core(s))"
        )),
    ))
}

/// The longest duration any flag accepts: 100 years (876,600 h). No Windows event log spans a
/// century, so a longer value is a typo; refusing it keeps `time ± duration` far inside the
/// range of times svchunt represents (years -9999 to 9999) for every real event time.
pub const MAX_DURATION: SignedDuration = SignedDuration::from_hours(100 * 8766);

fn at_most_a_century(d: SignedDuration) -> Result<SignedDuration, String> {
    if d > MAX_DURATION {
        return Err(format!(
            "longer than 100 years ({}h): no event log spans that long",
            MAX_DURATION.as_hours()
        ));
    }
    Ok(d)
}

/// `--poll`: from 10 ms (a tighter loop only burns a core) to an hour.
pub fn parse_poll(s: &str) -> Result<SignedDuration, String> {
    let d = parse(s)?;
    if d < SignedDuration::from_millis(10) {
        return Err("at least 10ms: a tighter loop only burns a core".into());
    }
    if d > SignedDuration::from_hours(1) {
        return Err("at most 1h".into());
    }
    Ok(d)
}

/// `--window` and `--tolerance`: zero or more, at most [`MAX_DURATION`].
pub fn parse_span(s: &str) -> Result<SignedDuration, String> {
    let d = parse(s)?;
    if d.is_negative() {
        return Err("must not be negative".into());
    }
    at_most_a_century(d)
}

/// `--rounding`, the seed's `bin()` size: at least one second (Windows event times are logged
/// to the second and finer, and the seed floors to whole seconds; a smaller bin is not the
/// seed's query and a zero bin divides by zero), at most [`MAX_DURATION`].
pub fn parse_rounding(s: &str) -> Result<SignedDuration, String> {
    let d = parse(s)?;
    if d < SignedDuration::from_secs(1) {
        return Err("must be at least 1s".into());
    }
    at_most_a_century(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_are_capped_with_a_message() {
        assert!(threads(0).is_err());
        assert_eq!(threads(1).unwrap(), (1, None));
        let (n, said) = threads(20_000).unwrap();
        assert!((THREADS_PER_CORE..20_000).contains(&n));
        assert!(said.unwrap().contains("-j 20000"));
    }

    #[test]
    fn durations_are_bounded() {
        assert_eq!(parse_span("24h").unwrap(), SignedDuration::from_hours(24));
        assert_eq!(parse_span("0s").unwrap(), SignedDuration::ZERO);
        assert!(parse_span("876600h").is_ok());
        assert!(parse_span("876601h").unwrap_err().contains("100 years"));
        assert!(parse_span("99999999h").unwrap_err().contains("100 years"));
        assert!(parse_span("-1s").unwrap_err().contains("negative"));
        assert!(parse_span("soon").unwrap_err().contains("not a duration"));
        assert_eq!(parse_rounding("1s").unwrap(), SignedDuration::from_secs(1));
        assert_eq!(parse_rounding("1m").unwrap(), SignedDuration::from_mins(1));
        for bad in ["999ms", "0s", "-1s", "99999999h"] {
            assert!(parse_rounding(bad).is_err(), "{bad}");
        }
    }
}
