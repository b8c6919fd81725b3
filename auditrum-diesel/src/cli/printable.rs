//! Text from the log on a terminal: values were written by the application (or whoever it
//! lets write), and an escape sequence in one could rewrite what the operator sees (move
//! the cursor, clear lines, fake a line of output). Control characters other than the
//! newlines and tabs of our own layout are shown escaped (`\u{1b}`).

/// `text` with every control character but `\n` and `\t` escaped.
pub(crate) fn printable(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\n' | '\t' => c.to_string(),
            c if c.is_control() => c.escape_unicode().to_string(),
            c => c.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_terminal_control_but_keeps_layout() {
        assert_eq!(
            super::printable("a\u{1b}[2Jb\r\n\tc\u{9b}"),
            "a\\u{1b}[2Jb\\u{d}\n\tc\\u{9b}"
        );
    }
}
