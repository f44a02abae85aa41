//! What free text in the inventory may hold, and how it is made safe to
//! show. Names and descriptions come from other tools' files and end up in
//! terminals, Markdown and HTML reports and graph files; a control
//! character there can retitle a terminal, clear it and print forged text
//! (an ANSI escape), or reorder what is displayed (Unicode bidirectional
//! overrides, CVE-2021-42574 "Trojan Source"). They are refused when the
//! inventory is checked, and escaped wherever text is printed, so data
//! written by other means (plain SQL on the database) is shown safely too.

use std::borrow::Cow;

/// Longest name or title, in characters.
pub const MAX_NAME_CHARS: usize = 500;
/// Longest external id or permission, in characters: a provider's own
/// reference to the principal or grant, kept whole (an AWS ARN may have
/// 2048 characters).
pub const MAX_REFERENCE_CHARS: usize = 2048;
/// Longest description, rollback or justification text, in characters.
pub const MAX_LONG_TEXT_CHARS: usize = 20_000;

/// Whether `c` may not be shown as it is: C0 controls (line feed and tab
/// aside, which callers allow where text may span lines), DEL, C1 controls
/// (U+0080–U+009F, which some terminals read as escapes), and the
/// bidirectional embeddings, overrides and isolates (U+202A–U+202E,
/// U+2066–U+2069), the invisible marks and separators below, and the
/// noncharacters U+FFFE and U+FFFF (not allowed in XML). Zero-width
/// joiners (U+200C, U+200D) stay: scripts and emoji need them.
pub fn is_unsafe(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{8}' | '\u{b}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        | '\u{fffe}' | '\u{ffff}'
        // Unicode's format characters (general category Cf) but the
        // zero-width joiners: invisible, or changing layout — soft hyphen,
        // direction marks, embeddings, overrides and isolates, zero-width
        // space, word joiner and invisible operators, the BOM, interlinear
        // annotations, musical formatting, tag characters.
        | '\u{00ad}' | '\u{0600}'..='\u{0605}' | '\u{061c}' | '\u{06dd}' | '\u{070f}'
        | '\u{0890}'..='\u{0891}' | '\u{08e2}' | '\u{180e}' | '\u{200b}' | '\u{200e}'..='\u{200f}'
        | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206f}'
        | '\u{feff}' | '\u{fff9}'..='\u{fffb}' | '\u{110bd}' | '\u{110cd}'
        | '\u{13430}'..='\u{1343f}' | '\u{1bca0}'..='\u{1bca3}' | '\u{1d173}'..='\u{1d17a}'
        | '\u{e0001}' | '\u{e0020}'..='\u{e007f}'
        // Blank look-alikes that are not Cf: the combining grapheme joiner
        // and the Hangul fillers.
        | '\u{034f}' | '\u{115f}'..='\u{1160}' | '\u{3164}' | '\u{ffa0}'
        // Line and paragraph separators: line breaks in disguise.
        | '\u{2028}' | '\u{2029}')
        || c == '\r'
}

/// Checks one text field: no unsafe character (line feeds and tabs only
/// when `multiline`), at most `max` characters.
///
/// # Errors
/// Which character, at which position, or the length.
pub fn check(value: &str, multiline: bool, max: usize) -> Result<(), String> {
    for (i, c) in value.chars().enumerate() {
        if is_unsafe(c) || (!multiline && matches!(c, '\n' | '\t')) {
            return Err(format!(
                "contains the control or invisible character U+{:04X} at character {}; it would act as a terminal or layout command instead of showing as text",
                u32::from(c),
                i + 1
            ));
        }
        if i >= max {
            return Err(format!("is longer than {max} characters"));
        }
    }
    Ok(())
}

/// `value` with every unsafe character written out as `\u{…}`, so it shows
/// as text in a terminal, a Markdown or HTML report or a graph file. Line
/// feeds and tabs are kept.
pub fn escape(value: &str) -> Cow<'_, str> {
    replace_unsafe(value, |c, out| {
        out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
    })
}

/// `value` with each unsafe character written by `write`; borrowed when
/// there is none.
fn replace_unsafe(value: &str, write: impl Fn(char, &mut String)) -> Cow<'_, str> {
    if !value.chars().any(is_unsafe) {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len() + 16);
    for c in value.chars() {
        if is_unsafe(c) {
            write(c, &mut out);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// JSON text with every unsafe character inside its strings written as a
/// JSON escape (`\\u202e`, a surrogate pair above U+FFFF): the same JSON
/// value, shown safely in a terminal. Unsafe characters cannot occur
/// outside strings in JSON, so nothing else changes.
pub fn escape_json(json: &str) -> Cow<'_, str> {
    replace_unsafe(json, |c, out| {
        let mut units = [0u16; 2];
        for unit in c.encode_utf16(&mut units) {
            out.push_str(&format!("\\u{unit:04x}"));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_refused_and_escaped() {
        let forged = "Billing\u{1b}]0;pwned\u{7}\u{1b}[2J\u{1b}[32mall reviewed";
        assert!(
            check(forged, true, 100)
                .unwrap_err()
                .contains("U+001B at character 8")
        );
        assert_eq!(
            escape(forged),
            "Billing\\u{1b}]0;pwned\\u{7}\\u{1b}[2J\\u{1b}[32mall reviewed"
        );
        assert!(check("a\u{202e}b", false, 100).is_err());
        assert!(check("a\u{85}b", false, 100).is_err());
        for hidden in [
            '\u{200b}',
            '\u{200f}',
            '\u{061c}',
            '\u{2028}',
            '\u{2029}',
            '\u{feff}',
            '\u{00ad}',
            '\u{034f}',
            '\u{2060}',
            '\u{3164}',
            '\u{e0041}',
            '\u{1d173}',
        ] {
            assert!(
                check(&format!("a{hidden}b"), false, 100).is_err(),
                "{hidden:?}"
            );
        }
        assert!(
            check("👩\u{200d}💻 team", false, 100).is_ok(),
            "an emoji sequence"
        );
        assert!(check("line one\nline two\twith a tab", true, 100).is_ok());
        assert!(check("line one\nline two", false, 100).is_err());
        assert!(check("Zoë's \"API\" <b>&amp;</b> 東京", false, 100).is_ok());
        assert!(check(&"x".repeat(101), false, 100).is_err());
        assert!(matches!(escape("plain"), Cow::Borrowed(_)));
        // JSON stays the same value.
        let json = serde_json::to_string(&serde_json::json!({"s": "a\u{202e}b\u{e0041}"})).unwrap();
        let safe = escape_json(&json);
        assert!(!safe.chars().any(is_unsafe), "{safe}");
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back["s"], "a\u{202e}b\u{e0041}");
    }
}

/// Whether two person identifiers (an approver, a requester) name the same
/// person as a reader would see them: Unicode compatibility caseless
/// matching (The Unicode Standard §3.13, D146: NFKD with case folding, so
/// `Ａlice`, `alice` and `ALICE` match, and `ß` matches `ss`), after
/// surrounding whitespace and invisible format characters (soft hyphen,
/// zero-width space and joiners, word joiner, byte-order mark) are
/// removed. Wherever "not the same person" is a rule (nobody approves
/// their own request; a dual approval needs two people), a look-alike
/// spelling must not get round it. Letters of other scripts that merely
/// look alike (Cyrillic `а` for Latin `a`) are not folded: that is UTS #39
/// confusable detection, which identifiers issued by one identity
/// provider do not need.
pub fn same_person(a: &str, b: &str) -> bool {
    fn visible(s: &str) -> String {
        s.chars()
            .filter(|c| {
                !matches!(
                    c,
                    '\u{00AD}' | '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}'
                )
            })
            .collect::<String>()
            .trim()
            .to_owned()
    }
    caseless::compatibility_caseless_match_str(&visible(a), &visible(b))
}

#[cfg(test)]
mod same_person_tests {
    use super::same_person;

    #[test]
    fn look_alike_spellings_are_one_person() {
        for other in [
            "alice",
            "ALICE",
            "alice ",
            " Alice",
            "ａｌｉｃｅ",
            "al\u{200B}ice",
            "alice\u{FEFF}",
        ] {
            assert!(same_person("alice", other), "{other:?}");
        }
        assert!(same_person("strasse", "STRAẞE"));
        assert!(!same_person("alice", "alicia"));
        assert!(!same_person("alice", "al ice"));
    }
}
