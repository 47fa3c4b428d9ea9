//! Copying to the system clipboard through the terminal: the OSC 52 escape
//! (`ESC ] 52 ; c ; <base64> BEL`). It needs no display server, so it works over SSH and
//! inside tmux (with `set-clipboard on`); terminals that do not allow it ignore it. The runner
//! writes the sequence (never `update`), between two draws.

use base64::Engine as _;
use std::io::Write;

/// The OSC 52 sequence that puts `text` on the clipboard (`c` selects the clipboard, not the
/// primary selection). Base64 keeps every byte of `text` out of the terminal's parser.
pub fn osc52_copy(text: &str) -> String {
    format!("\x1b]52;c;{}\x07", base64::engine::general_purpose::STANDARD.encode(text))
}

/// Write the OSC 52 sequence for `text` to the terminal and flush it.
pub fn write_osc52<W: Write>(out: &mut W, text: &str) -> std::io::Result<()> {
    out.write_all(osc52_copy(text).as_bytes())?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osc52_is_esc_bracket_52_c_base64_bel() {
        assert_eq!(osc52_copy("let a = 1;\n"), "\x1b]52;c;bGV0IGEgPSAxOwo=\x07");
        assert_eq!(osc52_copy(""), "\x1b]52;c;\x07");
        let mut out = Vec::new();
        write_osc52(&mut out, "x\x1b]0;pwn\x07").unwrap();
        // The escape and BEL in the text are inside base64: the only ESC/BEL are the frame's.
        assert_eq!(out, b"\x1b]52;c;eBtdMDtwd24H\x07");
        assert_eq!(out.iter().filter(|&&b| b == 0x1b || b == 0x07).count(), 2);
    }
}
