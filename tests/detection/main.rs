//! Detection: lifecycles, attribution, judgement on variants and clean logs, the corpus's expected answers, the seed query's semantics.
//!
//! One test binary for these modules (each was its own, and linking the library into each took
//! most of a test run's build time).

#[path = "../common/mod.rs"]
mod common;
#[path = "../common/sentinel.rs"]
mod sentinel;

mod attribution;
mod corpus_expected;
mod judgement;
mod judgement_clean;
mod kql_semantics;
mod lifecycle;
