//! Placeholder: the EVTX writer (issue 4).
