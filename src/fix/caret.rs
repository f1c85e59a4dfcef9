//! Fixes a compiler writes under its caret instead of as a diff: rustc's span labels
//! (`^ help: add `;` here`, a hanging `help: remove this `mut``, `help: ...: `_x``)
//! and gcc/g++ fix-it rows (`^~~~~` with the replacement on the row below, for a
//! "did you mean ‘X’?"). Pure text: parses an excerpt into one-line edits in display
//! columns and applies one to a file's line; `suggest` checks and wraps them.

/// A one-line edit read off a caret: replace display columns `start..end` of `line`
/// (which the log shows as `shown`) with `insert`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineEdit {
    /// The file the diagnostic names (`--> src/main.rs:3:9`), when it names one.
    pub file: Option<String>,
    pub line: usize,
    pub shown: String,
    pub start: usize,
    pub end: usize,
    pub insert: String,
    /// What the tool said, for the rationale.
    pub help: String,
}

/// How a tool shows a tab in its source rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tabs {
    /// rustc: every tab is four spaces.
    Four,
    /// gcc: a tab moves to the next multiple of eight.
    Stop8,
}

/// A row of the gutter: `12 | text` gives `(Some(12), text)`, `   | ^^^` gives
/// `(None, "^^^")`; the one space after `|` is not part of the text.
fn row(line: &str) -> Option<(Option<usize>, &str)> {
    let t = line.trim_start();
    let digits = t.chars().take_while(char::is_ascii_digit).count();
    let num = t[..digits].parse().ok();
    let rest = t[digits..].trim_start().strip_prefix('|')?;
    if !(rest.is_empty() || rest.starts_with(' ')) {
        return None;
    }
    Some((num, rest.strip_prefix(' ').unwrap_or(rest)))
}

fn chars(s: &str) -> Vec<char> {
    s.chars().collect()
}

/// The run of `c[at]` around `at` in a marker row: `(start, end)`, end exclusive.
fn run_at(c: &[char], at: usize) -> Option<(usize, usize)> {
    let m = *c.get(at)?;
    if !matches!(m, '^' | '-' | '~') {
        return None;
    }
    let mut start = at;
    while start > 0 && c[start - 1] == m {
        start -= 1;
    }
    let mut end = at;
    while end < c.len() && c[end] == m {
        end += 1;
    }
    Some((start, end))
}

/// Text between the first pair of backticks after `prefix` ... `suffix`.
fn quoted<'a>(msg: &'a str, prefix: &str, suffix: &str) -> Option<&'a str> {
    let inner = msg.strip_prefix(prefix)?.strip_suffix(suffix)?;
    let inner = inner.strip_prefix('`')?.strip_suffix('`')?;
    (!inner.is_empty() && !inner.contains('`')).then_some(inner)
}

/// The edit one rustc span label asks for, on `shown` at span `start..end`.
fn label_edit(
    help: &str,
    shown: &[char],
    start: usize,
    end: usize,
) -> Option<(usize, usize, String)> {
    let span: String = shown.get(start..end.min(shown.len()))?.iter().collect();
    if let Some(x) = quoted(help, "add ", " here") {
        return Some((start, start, x.to_string()));
    }
    // clippy's redundant_clone: `^^^^^^^^ help: remove this` under `.clone()`; its
    // JSON says MachineApplicable with an empty replacement.
    if help == "remove this" {
        return (!span.trim().is_empty()).then(|| (start, end, String::new()));
    }
    if let Some(x) = help
        .strip_prefix("remove this ")
        .and_then(|m| m.strip_prefix('`')?.strip_suffix('`'))
    {
        return (span.trim() == x).then(|| (start, end, String::new()));
    }
    // `...: `new``: the span becomes the quoted text.
    let (_, tail) = help.rsplit_once(": `")?;
    let new = tail.strip_suffix('`')?;
    if new.is_empty() || new.contains('`') || span.trim().is_empty() || span == new {
        return None;
    }
    Some((start, end, new.to_string()))
}

/// rustc's span labels that say what to type, in excerpt order.
pub fn rustc_labels(excerpt: &[String]) -> Vec<LineEdit> {
    let mut out = Vec::new();
    let mut file = None;
    let mut source: Option<(usize, String)> = None;
    let mut markers: Vec<Vec<char>> = Vec::new();
    for line in excerpt {
        let lt = line.trim_start();
        if let Some(loc) = lt.strip_prefix("--> ").or_else(|| lt.strip_prefix("::: ")) {
            file = loc.rsplitn(3, ':').nth(2).map(str::to_string);
            source = None;
            continue;
        }
        // A `help:` block with its own diff starts: `suggest` reads those.
        if lt.starts_with("help:") || lt.starts_with("= ") {
            source = None;
            continue;
        }
        let Some((num, text)) = row(line) else {
            source = None;
            continue;
        };
        if let Some(n) = num {
            source = Some((n, text.to_string()));
            markers.clear();
            continue;
        }
        let Some((n, shown)) = &source else { continue };
        let c = chars(text);
        let at = text.find("help: ").map(|b| text[..b].chars().count());
        let Some(at) = at else {
            if c.iter().any(|ch| matches!(ch, '^' | '-')) {
                markers.push(c);
            }
            continue;
        };
        let help: String = c[at + 6..].iter().collect::<String>().trim().to_string();
        let before = &c[..at];
        let span = if before.iter().all(|ch| *ch == ' ') {
            // Hanging: `help:` sits under the start of a span drawn rows above.
            markers
                .iter()
                .find_map(|m| run_at(m, at).filter(|(s, _)| *s == at))
        } else if at >= 2 && before[at - 1] == ' ' {
            run_at(before, at - 2)
        } else {
            None
        };
        let Some((start, end)) = span else { continue };
        let shown_c = chars(shown);
        if let Some((start, end, insert)) = label_edit(&help, &shown_c, start, end) {
            out.push(LineEdit {
                file: file.clone(),
                line: *n,
                shown: shown.clone(),
                start,
                end,
                insert,
                help,
            });
        }
    }
    out
}

/// The name in gcc's `did you mean ‘X’?` (or `'X'` in the C locale).
fn did_you_mean(message: &str) -> Option<&str> {
    let (_, tail) = message.rsplit_once("did you mean ")?;
    let tail = tail.strip_prefix(['‘', '\''])?;
    let end = tail.find(['’', '\''])?;
    let name = &tail[..end];
    (!name.is_empty() && tail[end..].chars().nth(1) == Some('?')).then_some(name)
}

/// gcc's fix-it row for a "did you mean": `N | text`, then `| ^~~~`, then `| name`
/// starting at the caret. The name replaces the marked characters.
pub fn gcc_fixits(message: &str, excerpt: &[String]) -> Vec<LineEdit> {
    let Some(name) = did_you_mean(message) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for w in excerpt.windows(3) {
        let (Some((Some(n), shown)), Some((None, marks)), Some((None, fix))) =
            (row(&w[0]), row(&w[1]), row(&w[2]))
        else {
            continue;
        };
        let m = chars(marks);
        let Some(start) = m.iter().position(|ch| *ch == '^') else {
            continue;
        };
        let end = m[start + 1..]
            .iter()
            .position(|ch| *ch != '~')
            .map_or(m.len(), |p| start + 1 + p);
        if m[end..].iter().any(|ch| *ch != ' ') {
            continue;
        }
        let f = chars(fix);
        let indent = f.iter().take_while(|ch| **ch == ' ').count();
        if indent != start || fix.trim() != name {
            continue;
        }
        out.push(LineEdit {
            file: None,
            line: n,
            shown: shown.to_string(),
            start,
            end,
            insert: name.to_string(),
            help: format!("did you mean ‘{name}’?"),
        });
    }
    out
}

/// The line as the tool displays it, with each char's display column.
fn display(line: &str, tabs: Tabs) -> (String, Vec<usize>) {
    let mut shown = String::new();
    let mut cols = Vec::new();
    let mut col = 0;
    for ch in line.chars() {
        cols.push(col);
        if ch == '\t' {
            let width = match tabs {
                Tabs::Four => 4,
                Tabs::Stop8 => 8 - col % 8,
            };
            shown.extend(std::iter::repeat_n(' ', width));
            col += width;
        } else {
            shown.push(ch);
            col += 1;
        }
    }
    cols.push(col);
    (shown, cols)
}

/// `line` (a file's line without its ending) with the edit made; an error when it
/// does not read as the log shows it or a column falls inside a tab.
pub fn apply(line: &str, edit: &LineEdit, tabs: Tabs) -> Result<String, String> {
    let (shown, cols) = display(line, tabs);
    if shown.trim_end() != edit.shown.trim_end() {
        return Err(format!(
            "line {} does not read as the log shows it",
            edit.line
        ));
    }
    let index = |col: usize| cols.iter().position(|c| *c == col);
    let (Some(s), Some(e)) = (index(edit.start), index(edit.end)) else {
        return Err(format!(
            "line {}: the marked columns are not in the line",
            edit.line
        ));
    };
    let c = chars(line);
    let mut out: String = c[..s].iter().collect();
    out.push_str(&edit.insert);
    out.extend(&c[e..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(s: &str) -> Vec<String> {
        s.lines().map(str::to_string).collect()
    }

    // Real rustc 1.9x output (see also tests/realtool/rust-syntax-missing-semicolon).
    #[test]
    fn a_bare_remove_this_deletes_the_span() {
        // A real clippy 1.95 run (`-W clippy::redundant_clone`).
        let e = rustc_labels(&lines(
            "error: redundant clone
  --> src/main.rs:13:11
   |
13 |     show(c.clone());
   |           ^^^^^^^^ help: remove this
   |",
        ));
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(
            apply("    show(c.clone());", &e[0], Tabs::Four).unwrap(),
            "    show(c);"
        );
    }

    #[test]
    fn rustc_inline_and_hanging_labels() {
        let e = rustc_labels(&lines(
            "error: expected `;`, found `println`
 --> a.rs:6:14
  |
6 |     let y = 2
  |              ^ help: add `;` here
7 |     println!(\"{}\", y);
  |     ------- unexpected token",
        ));
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(
            apply("    let y = 2", &e[0], Tabs::Four).unwrap(),
            "    let y = 2;"
        );
        assert_eq!(e[0].file.as_deref(), Some("a.rs"));

        let e = rustc_labels(&lines(
            "error: variable does not need to be mutable
 --> b.rs:3:9
  |
3 |     let mut x = 5;
  |         ----^
  |         |
  |         help: remove this `mut`
  |",
        ));
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(
            apply("\tlet mut x = 5;", &e[0], Tabs::Four).unwrap(),
            "\tlet x = 5;"
        );

        let e = rustc_labels(&lines(
            "error: unused variable: `unused`
 --> b.rs:4:9
  |
4 |     let unused = 1;
  |         ^^^^^^ help: if this is intentional, prefix it with an underscore: `_unused`",
        ));
        assert_eq!(
            apply("    let unused = 1;", &e[0], Tabs::Four).unwrap(),
            "    let _unused = 1;"
        );
        // The file changed since: no edit.
        assert!(apply("    let other = 1;", &e[0], Tabs::Four).is_err());
    }

    #[test]
    fn labels_that_say_nothing_to_type_are_ignored() {
        let e = rustc_labels(&lines(
            "error[E0308]: mismatched types
 --> src/main.rs:2:18
  |
2 |     let x: i32 = \"a\";
  |            ---   ^^^ expected `i32`, found `&str`
  |            |
  |            expected due to this",
        ));
        assert!(e.is_empty(), "{e:?}");
    }

    // Real gcc 12 output; the second from tests/realtool/gxx-no-member (g++).
    #[test]
    fn gcc_did_you_mean_fixits() {
        let msg = "implicit declaration of function ‘prinf’; did you mean ‘printf’?";
        let e = gcc_fixits(
            msg,
            &lines(
                "    3 |     prinf(\"hi\\n\");
      |     ^~~~~
      |     printf",
            ),
        );
        assert_eq!(e.len(), 1);
        assert_eq!(
            apply("\tprinf(\"hi\\n\");", &e[0], Tabs::Stop8),
            Err("line 3 does not read as the log shows it".into())
        );
        assert_eq!(
            apply("    prinf(\"hi\\n\");", &e[0], Tabs::Stop8).unwrap(),
            "    printf(\"hi\\n\");"
        );
        let msg = "‘std::string’ {aka ‘class std::__cxx11::basic_string<char>’} has no member named ‘lenght’; did you mean ‘length’?";
        let e = gcc_fixits(
            msg,
            &lines(
                "    5 |     return s.lenght();
      |              ^~~~~~
      |              length",
            ),
        );
        assert_eq!(
            apply("    return s.lenght();", &e[0], Tabs::Stop8).unwrap(),
            "    return s.length();"
        );
        // gcc shows a tab up to the next multiple of eight columns.
        let e = gcc_fixits(
            msg,
            &lines(
                "    5 |         return s.lenght();
      |                  ^~~~~~
      |                  length",
            ),
        );
        assert_eq!(
            apply("\treturn s.lenght();", &e[0], Tabs::Stop8).unwrap(),
            "\treturn s.length();"
        );
        // The C locale quotes with '...'; a fix-it that is not the named one is no edit.
        assert_eq!(
            did_you_mean("has no member named 'coutn'; did you mean 'count'?"),
            Some("count")
        );
        assert!(gcc_fixits(
            "did you mean ‘count’?",
            &lines("    2 | p->coutn;\n      |    ^~~~~\n      |    other")
        )
        .is_empty());
    }
}
