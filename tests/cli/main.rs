//! The command as a user runs it: arguments, refusals, hostile inputs and outputs, every output form's bytes.
//!
//! One test binary for these modules (each was its own, and linking the library into each took
//! most of a test run's build time).

mod cli;
mod events_output;
mod export_golden;
mod generated_truth;
mod hostile_cli;
mod hostile_output;
mod output_golden;
