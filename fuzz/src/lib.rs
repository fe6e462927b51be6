//! The checks behind the fuzz targets, shared with the stable replay test
//! (`tests/fuzz_replay.rs` includes `checks.rs` by path).

pub mod checks;
