#![no_main]

use cookie_session_fuzz::checks;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| checks::encrypted_roundtrip(data));
