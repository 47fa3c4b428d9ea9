//! Text from input data made safe and measurable for a terminal. Every human-readable output
//! (the TUI, `inspect`, `run --format table`, messages on stderr) passes untrusted strings
//! through `sanitize` (or `pieces`, `fit`, `pad`), so nothing in the data can move the cursor,
//! retitle the window, reorder text, hide characters, or make columns disagree with what the
//! terminal draws.
//!
//! The rules, per character:
//! - C0 controls show as their control pictures (`␛`, `␇`, `␉`, `␊`, ...) and DEL as `␡`.
//! - C1 controls, bidi controls, line/paragraph separators, every Default_Ignorable_Code_Point
//!   (zero-width space and joiners, soft hyphen, word joiner, Hangul fillers, variation
//!   selectors, tag characters, ...), other invisible format characters and emoji skin-tone
//!   modifiers show as `<U+XXXX>`, so `pow\u{200B}ershell.exe` never looks like `powershell.exe`.
//! - A combining mark stays on the character before it (at most `MAX_MARKS` of them); a mark
//!   with nothing to sit on (at the start, after a placeholder) shows as `<U+XXXX>`, so it
//!   cannot land on the column border or the previous cell.
//! - Regional indicators pair into flags; a lone one shows as `<U+XXXX>`.
//!
//! After these rules every kept character has a width that terminals agree on, and the width
//! of a string is the sum of its characters' widths (`width`): no sequence (ZWJ emoji, flags
//! beside lone indicators, emoji presentation selectors) is left whose width depends on the
//! terminal, which is what leaves ghost characters and shifted columns behind.

use std::borrow::Cow;
use std::io::Write;
use unicode_width::UnicodeWidthChar;

/// Combining marks kept on one base character; more (Zalgo text piling marks over the rows
/// above and below) are shown as placeholders.
pub const MAX_MARKS: usize = 4;

/// Characters that reorder text (bidi embeddings, overrides, isolates and marks): drawing them
/// raw lets a file name like `txt.exe` display as `exe.txt`.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt): characters a renderer
/// draws as nothing, so they make one text look like another.
fn is_default_ignorable(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}'..='\u{1160}' | '\u{17B4}'..='\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}'
        | '\u{FFF0}'..='\u{FFF8}' | '\u{1BCA0}'..='\u{1BCA3}' | '\u{1D173}'..='\u{1D17A}'
        | '\u{E0000}'..='\u{E0FFF}')
}

/// Invisible format characters that are not default-ignorable (prepended number signs,
/// interlinear annotation marks, hieroglyph format controls): terminals disagree on them.
fn is_other_format(c: char) -> bool {
    matches!(c,
        '\u{0600}'..='\u{0605}' | '\u{06DD}' | '\u{070F}' | '\u{0890}'..='\u{0891}' | '\u{08E2}'
        | '\u{110BD}' | '\u{110CD}' | '\u{FFF9}'..='\u{FFFB}' | '\u{13430}'..='\u{1345F}')
}

/// Emoji skin-tone modifiers: one column pair alone, merged into the emoji before them by some
/// terminals and not others.
fn is_emoji_modifier(c: char) -> bool {
    matches!(c, '\u{1F3FB}'..='\u{1F3FF}')
}

fn is_regional_indicator(c: char) -> bool {
    matches!(c, '\u{1F1E6}'..='\u{1F1FF}')
}

/// Drawn as `<U+XXXX>` wherever it appears.
fn always_placeholder(c: char) -> bool {
    let v = c as u32;
    (0x80..=0x9F).contains(&v)
        || is_bidi_control(c)
        || matches!(c, '\u{2028}' | '\u{2029}')
        || is_default_ignorable(c)
        || is_other_format(c)
        || is_emoji_modifier(c)
}

/// A combining character: drawn in the cell of the character before it.
fn is_mark(c: char) -> bool {
    c.width() == Some(0) && !always_placeholder(c)
}

/// Width of one kept character (every kept character has one; 0 for marks).
fn char_width(c: char) -> usize {
    c.width().unwrap_or(0)
}

fn push_placeholder(out: &mut String, c: char) {
    match c as u32 {
        // U+2400.. are the control pictures for 0x00..0x1F, in order.
        v @ 0x00..=0x1F => out.push(char::from_u32(0x2400 + v).unwrap_or('\u{FFFD}')),
        0x7F => out.push('\u{2421}'),
        v => {
            use std::fmt::Write as _;
            let _ = write!(out, "<U+{v:04X}>");
        }
    }
}

/// One drawable unit of sanitized text: a character with its combining marks, a flag (a pair
/// of regional indicators), or the placeholder for one character. Cutting text between units
/// never separates a mark from its base or half a flag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Piece<'a> {
    /// Index (in chars) of the unit's first character in the original text.
    pub start: usize,
    /// How many original characters the unit covers.
    pub chars: usize,
    /// What to draw: a slice of the original, or a placeholder.
    pub text: Cow<'a, str>,
    /// Terminal columns `text` takes.
    pub width: usize,
}

impl Piece<'_> {
    /// Whether this unit covers original char index `i`.
    pub fn covers(&self, i: usize) -> bool {
        (self.start..self.start + self.chars).contains(&i)
    }
}

/// The drawable units of `s`, in order (see `Piece`).
pub fn pieces(s: &str) -> Pieces<'_> {
    Pieces { s, byte: 0, index: 0 }
}

/// Iterator behind `pieces`.
pub struct Pieces<'a> {
    s: &'a str,
    byte: usize,
    index: usize,
}

impl<'a> Iterator for Pieces<'a> {
    type Item = Piece<'a>;

    fn next(&mut self) -> Option<Piece<'a>> {
        let rest = &self.s[self.byte..];
        let mut it = rest.char_indices();
        let (_, c) = it.next()?;
        let start = self.index;
        let placeholder = |c: char| {
            let mut out = String::new();
            push_placeholder(&mut out, c);
            let width = out.chars().map(char_width).sum();
            (Cow::Owned(out), width)
        };
        let (end, chars, text, width) = if c.is_control() || always_placeholder(c) || is_mark(c) {
            // A mark here has no base of its own (bases take their marks below).
            let (text, width) = placeholder(c);
            (c.len_utf8(), 1, text, width)
        } else if is_regional_indicator(c) {
            match it.next() {
                Some((i, d)) if is_regional_indicator(d) => {
                    let end = i + d.len_utf8();
                    (end, 2, Cow::Borrowed(&rest[..end]), 2)
                }
                _ => {
                    let (text, width) = placeholder(c);
                    (c.len_utf8(), 1, text, width)
                }
            }
        } else {
            let mut end = c.len_utf8();
            let mut marks = 0;
            for (i, d) in it {
                if !is_mark(d) || marks == MAX_MARKS {
                    break;
                }
                marks += 1;
                end = i + d.len_utf8();
            }
            (end, 1 + marks, Cow::Borrowed(&rest[..end]), char_width(c))
        };
        self.byte += end;
        self.index += chars;
        Some(Piece { start, chars, text, width })
    }
}

/// `s` safe to print on a terminal (the rules are in the module docs). Text that needs no
/// change is borrowed.
pub fn sanitize(s: &str) -> Cow<'_, str> {
    if s.bytes().all(|b| (0x20..0x7F).contains(&b)) {
        return Cow::Borrowed(s);
    }
    let mut out: Option<String> = None;
    let mut done = 0usize;
    for p in pieces(s) {
        match (&p.text, &mut out) {
            (Cow::Borrowed(t), None) => done += t.len(),
            (Cow::Borrowed(t), Some(o)) => o.push_str(t),
            (Cow::Owned(t), o) => o.get_or_insert_with(|| s[..done].to_string()).push_str(t),
        }
    }
    match out {
        Some(o) => Cow::Owned(o),
        None => Cow::Borrowed(s),
    }
}

/// As `sanitize`, keeping line breaks (`\n`, and `\r\n` as `\n`): for multi-line messages.
pub fn sanitize_lines(s: &str) -> Cow<'_, str> {
    if !s.contains('\n') {
        return sanitize(s);
    }
    let parts: Vec<Cow<str>> = s.split('\n').map(|l| sanitize(l.strip_suffix('\r').unwrap_or(l))).collect();
    if parts.iter().all(|p| matches!(p, Cow::Borrowed(_))) && !s.contains('\r') {
        return Cow::Borrowed(s);
    }
    Cow::Owned(parts.join("\n"))
}

/// Terminal columns of text that is already safe (from `sanitize`): the sum of its characters'
/// widths, which after sanitizing is what every terminal draws.
pub fn width(safe: &str) -> usize {
    safe.chars().map(char_width).sum()
}

/// `s` sanitized and cut to at most `max` columns; when cut, the last column is `…`.
pub fn fit(s: &str, max: usize) -> Cow<'_, str> {
    let safe = sanitize(s);
    if width(&safe) <= max {
        return safe;
    }
    let mut out = String::new();
    let mut used = 0;
    for p in pieces(&safe) {
        if used + p.width + 1 > max {
            break;
        }
        used += p.width;
        out.push_str(&p.text);
    }
    if max > 0 {
        out.push('…');
    }
    Cow::Owned(out)
}

/// `s` sanitized and broken into lines of at most `max` columns, at spaces where it can (a word
/// longer than a line is cut).
pub fn wrap(s: &str, max: usize) -> Vec<String> {
    let max = max.max(1);
    let safe = sanitize(s);
    let mut lines = Vec::new();
    let (mut line, mut used) = (String::new(), 0usize);
    // The line up to its last space: where it breaks when the next unit does not fit.
    let mut last_space: Option<(usize, usize)> = None;
    for p in pieces(&safe) {
        if used + p.width > max && p.text == " " {
            // Break at this space; it is not drawn.
            lines.push(std::mem::take(&mut line));
            (used, last_space) = (0, None);
            continue;
        }
        if used + p.width > max {
            match last_space.take() {
                Some((byte, cols)) if byte > 0 => {
                    let rest = line.split_off(byte + 1);
                    line.truncate(byte);
                    lines.push(std::mem::take(&mut line));
                    line = rest;
                    used -= cols + 1;
                }
                _ => {
                    lines.push(std::mem::take(&mut line));
                    used = 0;
                }
            }
        }
        if p.text == " " {
            last_space = Some((line.len(), used));
        }
        line.push_str(&p.text);
        used += p.width;
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// As `fit`, keeping the end of `s` (the informative part of a path): `…` then the last columns.
pub fn fit_tail(s: &str, max: usize) -> Cow<'_, str> {
    let safe = sanitize(s);
    if width(&safe) <= max {
        return safe;
    }
    let units: Vec<Piece> = pieces(&safe).collect();
    let mut used = 0;
    let mut first = units.len();
    while first > 0 && used + units[first - 1].width < max {
        first -= 1;
        used += units[first].width;
    }
    let mut out = String::from(if max > 0 { "…" } else { "" });
    for p in &units[first..] {
        out.push_str(&p.text);
    }
    Cow::Owned(out)
}

/// `s` sanitized, cut to `w` columns (see `fit`) and padded with spaces to exactly `w` columns:
/// on the left when `right`-aligned, else on the right.
pub fn pad(s: &str, w: usize, right: bool) -> String {
    let cut = fit(s, w);
    let fill = " ".repeat(w.saturating_sub(width(&cut)));
    if right {
        format!("{fill}{cut}")
    } else {
        format!("{cut}{fill}")
    }
}

/// A writer that sanitizes what passes through it line by line (`sanitize_lines`), for data
/// outputs (CSV, JSON) that go to a terminal. Lines are buffered up to `LINE_CHUNK` bytes; a
/// longer line is sanitized in chunks cut at character boundaries.
pub struct SafeWriter<W: Write> {
    inner: W,
    pending: Vec<u8>,
}

/// Bytes of an unfinished line held before it is sanitized and written anyway.
pub const LINE_CHUNK: usize = 64 * 1024;

impl<W: Write> SafeWriter<W> {
    pub fn new(inner: W) -> Self {
        SafeWriter { inner, pending: Vec::new() }
    }

    /// Sanitize and write `bytes` (no line break inside); a whole line drops the `\r` of `\r\n`.
    fn emit(&mut self, bytes: &[u8], whole_line: bool) -> std::io::Result<()> {
        let text = String::from_utf8_lossy(bytes);
        let text = if whole_line { text.strip_suffix('\r').unwrap_or(&text) } else { &text };
        self.inner.write_all(sanitize(text).as_bytes())
    }

    /// Write every complete line in `pending`, and a long unfinished one in part.
    fn drain(&mut self, all: bool) -> std::io::Result<()> {
        let mut pending = std::mem::take(&mut self.pending);
        let mut start = 0;
        while let Some(i) = memchr::memchr(b'\n', &pending[start..]) {
            self.emit(&pending[start..start + i], true)?;
            self.inner.write_all(b"\n")?;
            start += i + 1;
        }
        pending.drain(..start);
        if all || pending.len() >= LINE_CHUNK {
            // Cut before an incomplete UTF-8 sequence at the end unless this is the end.
            let cut = if all {
                pending.len()
            } else {
                match std::str::from_utf8(&pending) {
                    Ok(_) => pending.len(),
                    Err(e) if e.error_len().is_none() => e.valid_up_to(),
                    Err(_) => pending.len(),
                }
            };
            self.emit(&pending[..cut], all)?;
            pending.drain(..cut);
        }
        self.pending = pending;
        Ok(())
    }
}

impl<W: Write> Drop for SafeWriter<W> {
    /// An output cut short by an error still gets its last line, as `BufWriter` does.
    fn drop(&mut self) {
        let _ = self.drain(true);
    }
}

impl<W: Write> Write for SafeWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        self.drain(false)?;
        Ok(buf.len())
    }

    /// Writes any unfinished line too: call it once, at the end of the output.
    fn flush(&mut self) -> std::io::Result<()> {
        self.drain(true)?;
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_breaks_at_spaces_cuts_long_words_and_sanitizes() {
        assert_eq!(wrap("aaa bbb ccc", 7), vec!["aaa bbb", "ccc"]);
        assert_eq!(wrap("aaa bbb ccc", 8), vec!["aaa bbb", "ccc"]);
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(wrap("", 5), vec![""]);
        assert_eq!(wrap("a\u{1b}[2J b", 80), vec![format!("a{}[2J b", sanitize("\u{1b}"))]);
        for line in wrap("日本語のテキスト and some words", 6) {
            assert!(width(&line) <= 6, "{line}");
        }
        let text = "one two three four five six seven eight nine ten";
        let lines = wrap(text, 9);
        assert!(lines.iter().all(|l| width(l) <= 9), "{lines:?}");
        assert_eq!(lines.join(" "), text);
    }

    #[test]
    fn escape_sequences_and_bidi_overrides_become_visible_placeholders() {
        assert_eq!(sanitize("\x1b]0;pwned\x07"), "␛]0;pwned␇");
        assert_eq!(sanitize("\x1b[2J\x1b[31mred"), "␛[2J␛[31mred");
        assert_eq!(sanitize("evil\u{202E}txt.exe"), "evil<U+202E>txt.exe");
        assert_eq!(
            sanitize("a\u{2066}b\u{2069}\u{200E}\u{200F}\u{061C}"),
            "a<U+2066>b<U+2069><U+200E><U+200F><U+061C>"
        );
        assert_eq!(sanitize("tab\there\r\n\x7f\u{9b}\u{85}"), "tab␉here␍␊␡<U+009B><U+0085>");
        assert_eq!(sanitize("\0\u{2028}\u{2029}\u{feff}"), "␀<U+2028><U+2029><U+FEFF>");
    }

    #[test]
    fn clean_text_is_borrowed_unchanged() {
        for s in ["chrome.exe", "chrome.exe — Grüße 東京", "café", "🇬🇧 ok", "नमस्ते", ""] {
            assert!(matches!(sanitize(s), Cow::Borrowed(_)), "{s}");
        }
    }

    #[test]
    fn zero_width_and_invisible_characters_are_shown() {
        assert_eq!(sanitize("pow\u{200B}ershell.exe"), "pow<U+200B>ershell.exe");
        assert_ne!(sanitize("pow\u{200B}ershell.exe"), sanitize("powershell.exe"));
        for (c, shown) in [
            ('\u{200D}', "<U+200D>"),
            ('\u{2060}', "<U+2060>"),
            ('\u{3164}', "<U+3164>"),
            ('\u{00AD}', "<U+00AD>"),
            ('\u{115F}', "<U+115F>"),
            ('\u{FFA0}', "<U+FFA0>"),
            ('\u{034F}', "<U+034F>"),
            ('\u{180E}', "<U+180E>"),
            ('\u{FE0F}', "<U+FE0F>"),
            ('\u{E0001}', "<U+E0001>"),
            ('\u{E0041}', "<U+E0041>"),
            ('\u{E007F}', "<U+E007F>"),
            ('\u{E0100}', "<U+E0100>"),
            ('\u{1D173}', "<U+1D173>"),
            ('\u{0600}', "<U+0600>"),
            ('\u{FFF9}', "<U+FFF9>"),
        ] {
            assert_eq!(sanitize(&format!("a{c}b")), format!("a{shown}b"), "{:04X}", c as u32);
        }
    }

    #[test]
    fn every_default_ignorable_code_point_is_a_placeholder() {
        // DerivedCoreProperties.txt, Default_Ignorable_Code_Point (Unicode 15.1/16.0).
        let ranges = [
            (0x00AD, 0x00AD),
            (0x034F, 0x034F),
            (0x061C, 0x061C),
            (0x115F, 0x1160),
            (0x17B4, 0x17B5),
            (0x180B, 0x180F),
            (0x200B, 0x200F),
            (0x202A, 0x202E),
            (0x2060, 0x206F),
            (0x3164, 0x3164),
            (0xFE00, 0xFE0F),
            (0xFEFF, 0xFEFF),
            (0xFFA0, 0xFFA0),
            (0xFFF0, 0xFFF8),
            (0x1BCA0, 0x1BCA3),
            (0x1D173, 0x1D17A),
            (0xE0000, 0xE0FFF),
        ];
        for (a, b) in ranges {
            for v in a..=b {
                let Some(c) = char::from_u32(v) else { continue };
                assert_eq!(sanitize(&format!("x{c}")), format!("x<U+{v:04X}>"));
            }
        }
    }

    #[test]
    fn combining_marks_stay_on_their_base_and_never_start_a_cell() {
        assert_eq!(sanitize("cafe\u{301}"), "cafe\u{301}");
        assert_eq!(width("cafe\u{301}"), 4);
        assert_eq!(sanitize("\u{301}x"), "<U+0301>x");
        assert_eq!(sanitize("\u{200B}\u{301}"), "<U+200B><U+0301>");
        let zalgo = format!("a{}", "\u{300}".repeat(MAX_MARKS + 2));
        assert_eq!(sanitize(&zalgo), format!("a{}<U+0300><U+0300>", "\u{300}".repeat(MAX_MARKS)));
        let p: Vec<Piece> = pieces("e\u{301}x").collect();
        assert_eq!(p.len(), 2);
        assert_eq!((p[0].start, p[0].chars, p[0].width), (0, 2, 1));
        assert_eq!((p[1].start, p[1].chars), (2, 1));
    }

    #[test]
    fn emoji_sequences_never_depend_on_the_terminal() {
        // ZWJ sequences come apart into emoji a terminal draws two columns each.
        let family = sanitize("👨\u{200D}👩\u{200D}👧");
        assert_eq!(family, "👨<U+200D>👩<U+200D>👧");
        assert_eq!(width(&family), 2 + 8 + 2 + 8 + 2);
        assert_eq!(sanitize("👍\u{1F3FD}"), "👍<U+1F3FD>");
        assert_eq!(sanitize("❤\u{FE0F}"), "❤<U+FE0F>");
        // Keycap: the selector becomes a placeholder, the enclosing mark then has no base.
        assert_eq!(sanitize("1\u{FE0F}\u{20E3}"), "1<U+FE0F><U+20E3>");
        // Flags: pairs stay, a lone indicator is shown.
        assert_eq!(sanitize("🇬🇧"), "🇬🇧");
        assert_eq!(width("🇬🇧"), 2);
        assert_eq!(sanitize("🇬🇧🇫"), "🇬🇧<U+1F1EB>");
        assert_eq!(pieces("🇬🇧x").count(), 2);
    }

    #[test]
    fn width_is_the_sum_of_character_widths_after_sanitizing() {
        for s in ["東京.exe", "a\u{200B}b", "🇬🇧🇫x", "e\u{301}\u{302}", "👨\u{200D}👩", "\x1b[1m"] {
            let safe = sanitize(s);
            let from_pieces: usize = pieces(s).map(|p| p.width).sum();
            assert_eq!(width(&safe), from_pieces, "{s:?}");
            assert_eq!(width(&safe), safe.chars().map(char_width).sum::<usize>());
        }
        assert_eq!(width("東京"), 4);
    }

    #[test]
    fn fit_and_pad_count_display_columns() {
        assert_eq!(fit("abc", 3), "abc");
        assert_eq!(fit("abcd", 3), "ab…");
        assert_eq!(fit("東京都", 4), "東…");
        assert_eq!(width(&fit("東京都", 4)), 3);
        assert_eq!(fit("cafe\u{301}s", 5), "cafe\u{301}s");
        assert_eq!(fit("cafe\u{301}ss", 5), "cafe\u{301}…");
        // A flag is never cut in half.
        assert_eq!(fit("ab🇬🇧", 3), "ab…");
        assert_eq!(fit("x", 0), "");
        assert_eq!(fit_tail("/very/long/path/file.csv", 9), "…file.csv");
        assert_eq!(fit_tail("/a/\u{301}b.csv", 6), "…b.csv");
        assert_eq!(fit_tail("/x/\x1b]0;t\x07.csv", 20), "/x/␛]0;t␇.csv");
        assert_eq!(pad("東京", 6, false), "東京  ");
        assert_eq!(pad("東京", 6, true), "  東京");
        assert_eq!(pad("a\x1bb", 5, false), "a␛b  ");
        assert_eq!(width(&pad("東京都abc", 5, false)), 5);
        assert_eq!(width(&pad("e\u{301}", 3, true)), 3);
    }

    #[test]
    fn sanitize_lines_keeps_line_breaks_only() {
        assert_eq!(sanitize_lines("a\x1b\nb\r\nc"), "a␛\nb\nc");
        assert!(matches!(sanitize_lines("a\nb"), Cow::Borrowed(_)));
    }

    #[test]
    fn safe_writer_sanitizes_lines_across_writes() {
        let mut buf = Vec::new();
        let mut w = SafeWriter::new(&mut buf);
        w.write_all(b"a,\x1b[31mred\n").unwrap();
        // A multi-byte character split across two writes.
        let zwsp = "\u{200B}".as_bytes();
        w.write_all(&zwsp[..1]).unwrap();
        w.write_all(&zwsp[1..]).unwrap();
        w.write_all(b"x\r\nlast").unwrap();
        w.flush().unwrap();
        drop(w);
        assert_eq!(String::from_utf8(buf).unwrap(), "a,␛[31mred\n<U+200B>x\nlast");
        // Dropped without a flush: the last line is still written.
        let mut buf = Vec::new();
        SafeWriter::new(&mut buf).write_all(b"x\x07").unwrap();
        assert_eq!(String::from_utf8(buf).unwrap(), "x␇");
    }

    /// Any char, with the troublesome ranges over-represented.
    fn any_text() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let c = prop_oneof![
            any::<char>(),
            (0u32..0x40).prop_map(|v| char::from_u32(v).unwrap()),
            (0x80u32..0xA0).prop_map(|v| char::from_u32(v).unwrap()),
            (0x0300u32..0x0370).prop_map(|v| char::from_u32(v).unwrap()),
            (0x2000u32..0x2070).prop_map(|v| char::from_u32(v).unwrap()),
            (0x1F1E6u32..0x1F200).prop_map(|v| char::from_u32(v).unwrap()),
            (0x1F3FBu32..0x1F400).prop_map(|v| char::from_u32(v).unwrap()),
            (0xE0000u32..0xE0080).prop_map(|v| char::from_u32(v).unwrap()),
            Just('\u{FE0F}'),
            Just('a'),
            Just('東'),
        ];
        proptest::collection::vec(c, 0..24).prop_map(|v| v.into_iter().collect())
    }

    proptest::proptest! {
        #[test]
        fn sanitized_text_is_safe_stable_and_measured(s in any_text(), max in 0usize..30) {
            let safe = sanitize(&s);
            for c in safe.chars() {
                proptest::prop_assert!(!c.is_control() && !always_placeholder(c), "{:04X} in {:?}", c as u32, safe);
            }
            proptest::prop_assert!(!safe.starts_with(is_mark));
            let again = sanitize(&safe);
            proptest::prop_assert_eq!(again.as_ref(), safe.as_ref());
            let pieces_text: String = pieces(&s).map(|p| p.text.into_owned()).collect();
            proptest::prop_assert_eq!(&pieces_text, safe.as_ref());
            let covered: usize = pieces(&s).map(|p| p.chars).sum();
            proptest::prop_assert_eq!(covered, s.chars().count());
            proptest::prop_assert!(width(&fit(&s, max)) <= max);
            proptest::prop_assert!(width(&fit_tail(&s, max)) <= max);
            proptest::prop_assert_eq!(width(&pad(&s, max, false)), max);
        }
    }

    #[test]
    fn safe_writer_bounds_a_line_without_breaks() {
        let mut buf = Vec::new();
        let mut w = SafeWriter::new(&mut buf);
        let chunk = "é".repeat(LINE_CHUNK / 3);
        for _ in 0..4 {
            w.write_all(chunk.as_bytes()).unwrap();
            assert!(w.pending.len() < LINE_CHUNK);
        }
        drop(w);
        assert_eq!(String::from_utf8(buf).unwrap(), chunk.repeat(4));
    }
}
