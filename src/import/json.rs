//! Reading the JSON other tools print (the AWS, Azure and Google Cloud
//! CLIs): a syntax error is named by file, line and column; a value the
//! tool would not print by file, line and JSON path
//! (`RoleDetailList[2].AssumeRolePolicyDocument`), as every importer names
//! its faults.

use serde::de::DeserializeOwned;

use crate::inventory::InventoryError;

/// `text` read as a `T`.
///
/// # Errors
/// [`InventoryError::Syntax`] for JSON that does not parse,
/// [`InventoryError::Invalid`] for a value of the wrong shape, each naming
/// `origin`.
pub(super) fn read<T: DeserializeOwned>(text: &str, origin: &str) -> Result<T, InventoryError> {
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let at = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            InventoryError::Syntax {
                origin: origin.to_owned(),
                position: Some((inner.line() as u64, inner.column() as u64)),
                message: without_position(&inner.to_string()),
            }
        } else {
            InventoryError::Invalid {
                origin: origin.to_owned(),
                line: Some(inner.line() as u64),
                at: if at == "." { String::new() } else { at },
                message: without_position(&inner.to_string()),
            }
        }
    })
}

/// serde_json ends its messages with " at line L column C"; the error
/// carries the position itself.
fn without_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// The line (1-based) where the JSON string `value` is first written in
/// `text`, to place an entity read from it: an ARN, an email, a key's
/// name. 1 when it is not found as written (escaped in the file).
pub(super) fn line_of(text: &str, value: &str) -> u64 {
    let needle = format!("\"{value}\"");
    text.find(&needle)
        .map(|at| text[..at].bytes().filter(|b| *b == b'\n').count() as u64 + 1)
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_name_their_place() {
        let err = read::<Vec<u8>>("[1,\n 2,\n x]", "f.json")
            .unwrap_err()
            .to_string();
        assert_eq!(err, "f.json:3:2: expected value");
        let err = read::<Vec<u8>>("[1,\n \"two\"]", "f.json")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("f.json:2: [1]: invalid type: string"),
            "{err}"
        );
        assert_eq!(line_of("{\n  \"Arn\": \"a\"\n}", "a"), 2);
    }
}
