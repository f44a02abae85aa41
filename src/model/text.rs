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
        | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{fffe}' | '\u{ffff}'
        // Invisible or layout-changing: zero-width space, the direction
        // marks (LRM, RLM, ALM), line and paragraph separators, and the
        // zero-width no-break space (a byte-order mark inside text).
        | '\u{200b}' | '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{2028}' | '\u{2029}' | '\u{feff}')
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
    if !value.chars().any(is_unsafe) {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len() + 8);
    for c in value.chars() {
        if is_unsafe(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
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
            '\u{200b}', '\u{200f}', '\u{061c}', '\u{2028}', '\u{2029}', '\u{feff}',
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
    }
}
