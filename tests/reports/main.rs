//! What outside programs read: the HTML report (and in a real browser), the SIEM exports checked by their own tools.
//!
//! One test binary for these modules (each was its own, and linking the library into each took
//! most of a test run's build time).

#[path = "../common/mod.rs"]
mod common;
#[path = "../report_scenario/mod.rs"]
mod report_scenario;

mod export_validators;
mod report_browser;
mod report_html;
