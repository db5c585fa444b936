//! Scenario generation for `svchunt-gen`: hosts, background noise, injected remote service
//! executions, and the `truth.json` that lists them.

pub mod events;
