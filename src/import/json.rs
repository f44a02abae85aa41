//! Reading the JSON other tools print (the AWS, Azure and Google Cloud
//! CLIs): a syntax error is named by file, line and column; a value the
//! tool would not print by file, line and JSON path
//! (`RoleDetailList[2].AssumeRolePolicyDocument`), as every importer names
//! its faults.

use serde::de::DeserializeOwned;
use std::collections::HashMap;

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

/// Where each JSON string of one file is first written, found in one pass
/// over the text, to place the entities read from it (an ARN, an email, a
/// key's name) by line. Searching the text once per entity instead made
/// an import quadratic in the file: 10,000 roles took minutes.
pub(super) struct Lines<'t> {
    first: HashMap<&'t str, u64>,
}

impl<'t> Lines<'t> {
    /// Indexes every string literal of `text` (as written, escapes
    /// included) by the 1-based line it first appears on.
    pub fn new(text: &'t str) -> Self {
        let bytes = text.as_bytes();
        let mut first = HashMap::new();
        let (mut i, mut line) = (0, 1u64);
        while i < bytes.len() {
            match bytes[i] {
                b'\n' => line += 1,
                b'"' => {
                    let (start, at_line) = (i + 1, line);
                    i += 1;
                    while i < bytes.len() && bytes[i] != b'"' {
                        match bytes[i] {
                            b'\\' => i += 1,
                            b'\n' => line += 1,
                            _ => {}
                        }
                        i += 1;
                    }
                    // Quotes and backslashes are ASCII: both ends are on
                    // character boundaries.
                    let end = i.min(bytes.len());
                    first.entry(&text[start..end]).or_insert(at_line);
                }
                _ => {}
            }
            i += 1;
        }
        Lines { first }
    }

    /// The line where the string `value` is first written; 1 when it is
    /// not written as is (escaped in the file).
    pub fn of(&self, value: &str) -> u64 {
        self.first.get(value).copied().unwrap_or(1)
    }
}

/// Where each principal of a provider's files was first listed, so that a
/// second listing (two snapshots of one account, one principal written
/// twice) is refused, naming both places, instead of merged silently, the
/// later one's permissions and keys replacing the earlier's.
#[derive(Default)]
pub(super) struct Listings {
    seen: HashMap<String, (String, u64)>,
}

impl Listings {
    /// Records that `key` is listed at `origin:line` (`at` its JSON path).
    ///
    /// # Errors
    /// [`InventoryError::Invalid`] at the second listing, naming the first;
    /// `advice` says which of the two to keep.
    pub fn first(
        &mut self,
        key: &str,
        origin: &str,
        line: u64,
        at: &str,
        advice: &str,
    ) -> Result<(), InventoryError> {
        match self.seen.get(key) {
            Some((first, first_line)) => Err(InventoryError::Invalid {
                origin: origin.to_owned(),
                line: Some(line),
                at: at.to_owned(),
                message: if first == origin {
                    // Placed by its first occurrence; the path says which.
                    format!(
                        "{key} is listed twice in this file, here and first at line {first_line}; what the provider's CLI prints lists each once"
                    )
                } else {
                    format!(
                        "{key} is listed again: it is already at {first}:{first_line}. {advice}"
                    )
                },
            }),
            None => {
                self.seen.insert(key.to_owned(), (origin.to_owned(), line));
                Ok(())
            }
        }
    }
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
        let lines =
            Lines::new("{\n  \"Arn\": \"a\",\n  \"b\\\"\\\\\": [\"a\", \"é\"],\n \"c\": \"x\"}");
        assert_eq!(
            [
                lines.of("Arn"),
                lines.of("a"),
                lines.of("é"),
                lines.of("c"),
                lines.of("none")
            ],
            [2, 2, 3, 4, 1]
        );
    }
}
