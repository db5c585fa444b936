//! Reading: every reader and form, damaged inputs, and the EVTX fast path against the crate.
//!
//! One test binary for these modules (each was its own, and linking the library into each took
//! most of a test run's build time).

#[path = "../common/mod.rs"]
mod common;
#[path = "../support/forms.rs"]
mod forms;

mod all_forms;
mod damaged_inputs;
mod fast_path;
mod forms_samples;
mod readers;
