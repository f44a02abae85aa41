#![no_main]
//! A YAML stream read document by document, each by its own apiVersion
//! (Backstage entities, Kubernetes objects, Lists, Kustomizations mixed),
//! and resolved as one set: whatever the bytes, it must return, never panic.

use countersign::import::{Format, check_text};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = check_text(std::path::Path::new("fuzz/documents.yaml"), text, Format::Auto);
    }
});
