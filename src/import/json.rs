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

/// Where the values of one key (`"Arn"`, `"email"`, `"members"`) are
/// written in one file, found in one pass over the text, to place the
/// entities read from it by line. A value is placed where it is written
/// under that key, not where it is first mentioned (a role's ARN is also
/// in the trust policies of the roles that may assume it). Searching the
/// text once per entity instead made an import quadratic in the file:
/// 10,000 roles took minutes.
pub(super) struct Lines<'t> {
    /// Each value's lines, in file order (the string elements of an array
    /// under the key count as its values).
    at: HashMap<&'t str, Vec<u64>>,
    /// How often [`Lines::next`] was asked for each value.
    asked: HashMap<&'t str, usize>,
}

impl<'t> Lines<'t> {
    /// Indexes the string values of `key` in `text`, as written (escapes
    /// included), by the 1-based line of each.
    pub fn new(text: &'t str, key: &str) -> Self {
        let bytes = text.as_bytes();
        let mut at: HashMap<&'t str, Vec<u64>> = HashMap::new();
        let (mut i, mut line) = (0, 1u64);
        let mut under_key = false;
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
                    let literal = &text[start..i.min(bytes.len())];
                    let mut j = i + 1;
                    while j < bytes.len() && bytes[j].is_ascii_whitespace() {
                        j += 1;
                    }
                    if bytes.get(j) == Some(&b':') {
                        under_key = literal == key;
                    } else if under_key {
                        at.entry(literal).or_default().push(at_line);
                    }
                }
                // An object opened or closed, or the key's array closed:
                // what follows is another key's.
                b'{' | b'}' | b']' => under_key = false,
                _ => {}
            }
            i += 1;
        }
        Lines {
            at,
            asked: HashMap::new(),
        }
    }

    /// The line where `value` is first written under the key; 1 when it
    /// is not written as is (escaped in the file).
    pub fn of(&self, value: &str) -> u64 {
        self.at
            .get(value)
            .and_then(|l| l.first())
            .copied()
            .unwrap_or(1)
    }

    /// The line of the next listing of `value` under the key: the first
    /// the first time it is asked, then the second… — for entities read in
    /// file order, so that one listed twice is placed at each listing.
    pub fn next(&mut self, value: &str) -> u64 {
        let Some((&stored, lines)) = self.at.get_key_value(value) else {
            return 1;
        };
        let n = self.asked.entry(stored).or_insert(0);
        *n += 1;
        lines.get(*n - 1).or(lines.last()).copied().unwrap_or(1)
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
        let text = "{\n  \"Arn\": \"a\",\n  \"Trust\": {\"AWS\": \"b\"},\n  \"List\": [{\"Arn\": \"b\"}, {\"Arn\":\n \"a\"}],\n \"Arn\" : \"\\\"é\"}";
        let mut lines = Lines::new(text, "Arn");
        // b is mentioned on line 3 but listed under Arn on line 4.
        let firsts = [
            lines.of("a"),
            lines.of("b"),
            lines.of("\\\"é"),
            lines.of("AWS"),
        ];
        assert_eq!(firsts, [2, 4, 6, 1]);
        let nexts = [lines.next("a"), lines.next("a"), lines.next("a")];
        assert_eq!(nexts, [2, 5, 5]);
        let members = "{\"members\": [\n\"x\",\n\"y\"], \"role\": \"z\"}";
        let members = Lines::new(members, "members");
        assert_eq!(
            [members.of("x"), members.of("y"), members.of("z")],
            [2, 3, 1]
        );
    }
}
