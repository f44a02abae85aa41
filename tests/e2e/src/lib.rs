//! See `tests/` for the end-to-end tests; this crate has no library code.
