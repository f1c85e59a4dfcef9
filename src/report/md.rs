//! Markdown escaping, in one place: every markdown writer (`markdown`, `session`)
//! turns text from logs, rules and the store into markdown only through these
//! functions, so a `<T>` or `|` in a message cannot become HTML or a table column.

use std::io::{self, Write};

/// The longest run of backticks in `s`.
fn backtick_run(s: &str) -> usize {
    s.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

/// A code span that holds `s` whatever backticks it contains.
pub fn code(s: &str) -> String {
    let ticks = "`".repeat(backtick_run(s) + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{ticks}{pad}{}{pad}{ticks}", s.replace(['\r', '\n'], " "))
}

/// A fence for a block holding `content`: longer than any backtick run inside.
pub fn fence(content: &str) -> String {
    "`".repeat((backtick_run(content) + 1).max(3))
}

/// `s` as one line of inline markdown that renders as the same text: code spans
/// (closed backtick runs) stay code; elsewhere every character that could start
/// emphasis, HTML, an entity, a link or (at the start) a heading, quote or list is
/// backslash-escaped. Line breaks become spaces.
pub fn inline(s: &str) -> String {
    let s = s.replace(['\r', '\n'], " ");
    let b = s.as_bytes();
    let run_at = |i: usize| b[i..].iter().take_while(|&&c| c == b'`').count();
    let mut out = String::with_capacity(s.len() + 8);
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'`' {
            let n = run_at(i);
            let mut j = i + n;
            let close = loop {
                match b[j..].iter().position(|&c| c == b'`') {
                    None => break None,
                    Some(k) if run_at(j + k) == n => break Some(j + k),
                    Some(k) => j += k + run_at(j + k),
                }
            };
            match close {
                Some(j) => {
                    out.push_str(&s[i..j + n]);
                    i = j + n;
                }
                None => {
                    out.push_str(&"\\`".repeat(n));
                    i += n;
                }
            }
            continue;
        }
        let c = s[i..].chars().next().unwrap_or(' ');
        let special = matches!(
            c,
            '\\' | '*' | '_' | '<' | '>' | '&' | '[' | ']' | '~' | '#'
        );
        // Only at the start of a block: `- x`, `+ x`, `= ` (setext underline), `1. x`.
        let block_start = i == 0 && matches!(c, '-' | '+' | '=');
        let ordered = c == '.' || c == ')';
        let ordered = ordered && i > 0 && b[..i].iter().all(u8::is_ascii_digit);
        if special || block_start || ordered {
            out.push('\\');
        }
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// Markdown for a table cell: `|` escaped, even inside code spans (GFM reads `\|`
/// there as a pipe); an empty cell shows `-`. `inline` leaves `|` alone: outside a
/// table it is plain text.
pub fn cell(markdown: &str) -> String {
    let s = markdown.replace('|', "\\|");
    if s.is_empty() {
        "-".into()
    } else {
        s
    }
}

/// A GFM table; `rows` hold markdown (already escaped with `inline` or `code`).
pub fn table(out: &mut dyn Write, header: &[&str], rows: &[Vec<String>]) -> io::Result<()> {
    writeln!(out, "| {} |", header.join(" | "))?;
    writeln!(out, "|{}", "---|".repeat(header.len()))?;
    for row in rows {
        let cells: Vec<String> = row.iter().map(|c| cell(c)).collect();
        writeln!(out, "| {} |", cells.join(" | "))?;
    }
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_escapes_outside_code_spans_only() {
        assert_eq!(
            inline("no method `lenn` for Vec<i32> *here*"),
            "no method `lenn` for Vec\\<i32\\> \\*here\\*"
        );
        assert_eq!(inline("`a<b>` and ``x`y``"), "`a<b>` and ``x`y``");
        // A backtick that is never closed is a literal backtick.
        assert_eq!(inline("it's `open"), "it's \\`open");
        assert_eq!(inline("C:\\dir\nnext"), "C:\\\\dir next");
        assert_eq!(inline("a & b, &amp;"), "a \\& b, \\&amp;");
        assert_eq!(inline("- not a list"), "\\- not a list");
        assert_eq!(inline("1. not a list"), "1\\. not a list");
        assert_eq!(inline("version 1.2"), "version 1.2");
        assert_eq!(cell(&inline("a | `b|c`")), "a \\| `b\\|c`");
        assert_eq!(cell(""), "-");
    }

    #[test]
    fn code_spans_and_fences_outgrow_the_backticks_inside() {
        assert_eq!(code("cargo build"), "`cargo build`");
        assert_eq!(code("a `b` c"), "``a `b` c``");
        assert_eq!(code("`x`"), "`` `x` ``");
        assert_eq!(fence("plain"), "```");
        assert_eq!(fence("has ``` inside"), "````");
        assert_eq!(fence("and ````` five"), "``````");
    }
}
