#![no_main]
//! Any bytes given to the csv importer must give a result or an error, never a panic.

use countersign::import::{Format, check_text};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = check_text(std::path::Path::new("fuzz/table.csv"), text, Format::Csv);
    }
});
