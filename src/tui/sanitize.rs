//! Making untrusted event strings safe to draw: every render path passes text from event data
//! through `sanitize`, so control characters, escape sequences and bidi overrides are shown as
//! visible placeholders and never reach the terminal.

use std::borrow::Cow;

/// Characters that reorder text (bidi embeddings, overrides, isolates and marks): drawing them
/// raw lets a file name like `txt.exe` display as `exe.txt`.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

fn needs_escape(c: char) -> bool {
    c.is_control() || is_bidi_control(c) || matches!(c, '\u{2028}' | '\u{2029}' | '\u{FEFF}')
}

/// `s` with C0 controls shown as Unicode control pictures (`␛`, `␇`, `␉`, ...), DEL as `␡`,
/// and C1 controls, bidi controls, line/paragraph separators and BOM as `<U+XXXX>`.
pub fn sanitize(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c as u32 {
            // U+2400.. are the control pictures for 0x00..0x1F, in order.
            v @ 0x00..=0x1F => out.push(char::from_u32(0x2400 + v).unwrap_or('\u{FFFD}')),
            0x7F => out.push('\u{2421}'),
            v if needs_escape(c) => out.push_str(&format!("<U+{v:04X}>")),
            _ => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_and_bidi_overrides_become_visible_placeholders() {
        assert_eq!(sanitize("\x1b]0;pwned\x07"), "␛]0;pwned␇");
        assert_eq!(sanitize("evil\u{202E}txt.exe"), "evil<U+202E>txt.exe");
        assert_eq!(
            sanitize("a\u{2066}b\u{2069}\u{200E}\u{200F}\u{061C}"),
            "a<U+2066>b<U+2069><U+200E><U+200F><U+061C>"
        );
        assert_eq!(sanitize("tab\there\r\n\x7f\u{9b}"), "tab␉here␍␊␡<U+009B>");
    }

    #[test]
    fn clean_text_is_borrowed_unchanged() {
        assert!(matches!(sanitize("chrome.exe — Grüße 東京"), Cow::Borrowed(_)));
    }
}
