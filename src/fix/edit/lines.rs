//! Edits of one source line: imports, identifiers, assertion literals, timeouts, env
//! files and test decorators.

use super::*;

fn is_ident(s: &str) -> bool {
    s.starts_with(|c: char| c.is_alphabetic() || c == '_') && s.chars().all(is_word_char)
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Drops list item `i`, handing its outer whitespace to the neighbour taking its place, so
/// `import os, sys` loses `os, ` rather than leaving `import  sys`.
fn remove_item(items: &[&str], i: usize) -> String {
    let mut kept: Vec<String> = items.iter().map(|s| s.to_string()).collect();
    let gone = kept.remove(i);
    if i == 0 {
        kept[0] = format!("{}{}", indent_of(&gone), kept[0].trim_start());
    }
    if i == items.len() - 1 {
        let last = kept.last_mut().expect("two or more items");
        *last = format!("{}{}", last.trim_end(), &gone[gone.trim_end().len()..]);
    }
    kept.join(",")
}

/// Removes the binding `name` from one Python import line; Some("") when nothing would remain.
pub fn python_remove_import(line: &str, name: &str) -> Option<String> {
    let (body, eol) = split_eol(line);
    if body.contains([';', '\\', '(']) {
        return None;
    }
    let (code, comment) = body.split_at(body.find('#').unwrap_or(body.len()));
    let stmt = code.trim_start();
    let from = stmt.starts_with("from ");
    let list_start = if from {
        let module = stmt[5..].split(" import ").next()?;
        let module = module.trim().trim_start_matches('.');
        if !module.is_empty() && !module.split('.').all(is_ident) {
            return None;
        }
        code.len() - stmt.len() + stmt.find(" import ")? + " import ".len()
    } else {
        code.len() - stmt.strip_prefix("import ")?.len()
    };
    let items: Vec<&str> = code[list_start..].split(',').collect();
    let bound = |item: &&str| -> Option<String> {
        let dotted = |m: &str| m.split('.').all(is_ident) && !(from && m.contains('.'));
        match item.split_whitespace().collect::<Vec<_>>()[..] {
            [m] if dotted(m) => Some(m.to_string()),
            [m, "as", alias] if dotted(m) && is_ident(alias) => Some(alias.to_string()),
            _ => None,
        }
    };
    let bounds: Vec<String> = items.iter().map(bound).collect::<Option<_>>()?;
    let hits: Vec<usize> = (0..items.len()).filter(|&i| bounds[i] == name).collect();
    let [i] = hits[..] else { return None };
    if items.len() == 1 {
        return Some(String::new());
    }
    let head = &code[..list_start];
    Some(format!("{head}{}{comment}{eol}", remove_item(&items, i)))
}

/// Removes `path` (as rustc names an unused import) from one single-line `use`.
pub fn rust_remove_use(line: &str, path: &str) -> Option<String> {
    let squash = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let path = squash(path);
    let (body, eol) = split_eol(line);
    let (code, comment) = body.split_at(body.find("//").unwrap_or(body.len()));
    let (stmt, ws) = code.split_at(code.trim_end().len());
    let stmt = stmt.strip_suffix(';')?;
    let after_vis = match stmt.trim_start().strip_prefix("pub") {
        Some(r) if r.starts_with('(') => r.split_once(')')?.1,
        Some(r) if r.starts_with(' ') => r,
        _ => stmt.trim_start(),
    };
    let tree = after_vis.trim_start().strip_prefix("use ")?;
    let head = &stmt[..stmt.len() - tree.len()];
    if tree.contains(';') {
        return None;
    }
    let Some(open) = tree.find('{') else {
        let tree = squash(tree);
        let last = tree.rsplit("::").next();
        return (tree == path || last == Some(path.as_str())).then(String::new);
    };
    let (prefix, inner) = (&tree[..open], tree[open + 1..].strip_suffix('}')?);
    if inner.contains(['{', '}']) {
        return None;
    }
    let mut items: Vec<&str> = inner.split(',').collect();
    let trailing = items.len() > 1 && items.last()?.trim().is_empty();
    let tail = if trailing { items.pop() } else { None };
    let matches = |item: &str| {
        let item = squash(item);
        let module = prefix.trim_end_matches("::");
        item == path || format!("{prefix}{item}") == path || (item == "self" && module == path)
    };
    let hits: Vec<usize> = (0..items.len()).filter(|&i| matches(items[i])).collect();
    let [i] = hits[..] else { return None };
    let new_tree = match items.len() {
        1 => return Some(String::new()),
        // rustfmt would unbrace `a::{B}` anyway; `{self}` has to keep its braces.
        2 if items[1 - i].trim() != "self" => format!("{prefix}{}", items[1 - i].trim()),
        _ => {
            let tail = tail.map_or(String::new(), |t| format!(",{t}"));
            format!("{prefix}{{{}{tail}}}", remove_item(&items, i))
        }
    };
    Some(format!("{head}{new_tree};{ws}{comment}{eol}"))
}

/// .env.example: appends `NAME=` unless the variable is there, even exported or commented out.
pub fn env_file_add_var(text: &str, name: &str) -> Result<String, EditError> {
    if !is_ident(name) || !name.is_ascii() {
        return Err(invalid("variable name", name));
    }
    with_lf(text, |text| {
        for line in text.lines() {
            let l = line.trim_start();
            let l = l.strip_prefix('#').map_or(l, str::trim_start);
            let l = l.strip_prefix("export ").map_or(l, str::trim_start);
            if l.split_once('=').is_some_and(|(k, _)| k.trim_end() == name) {
                return Err(present(name, "the env file"));
            }
        }
        let unterminated = !text.is_empty() && !text.ends_with('\n');
        let sep = if unterminated { "\n" } else { "" };
        Ok(format!("{text}{sep}{name}=\n"))
    })
}

/// Replaces identifier `old` in one line: at the 1-based char `column` when given (checked),
/// else only when it occurs exactly once as a whole word.
pub fn replace_identifier(
    line: &str,
    column: Option<usize>,
    old: &str,
    new: &str,
) -> Option<String> {
    if !is_ident(old) || !is_ident(new) || old == new {
        return None;
    }
    let (body, eol) = split_eol(line);
    let free = |c: Option<char>| !c.is_some_and(is_word_char);
    let whole = |&i: &usize| {
        free(body[..i].chars().next_back()) && free(body[i + old.len()..].chars().next())
    };
    let found = body.match_indices(old).map(|(i, _)| i);
    let starts: Vec<usize> = found.filter(whole).collect();
    let at = match (column, &starts[..]) {
        (Some(col), _) => body.char_indices().nth(col.checked_sub(1)?)?.0,
        (None, [only]) => *only,
        (None, _) => return None,
    };
    let (before, rest) = (&body[..at], body[at..].strip_prefix(old)?);
    starts
        .contains(&at)
        .then(|| format!("{before}{new}{rest}{eol}"))
}

/// The string literal starting at the 1-based `column` of `line` without its quotes,
/// when it holds a number that fits the Rust numeric type `ty` (`u8`, `i64`, `f64`...):
/// `"7"` for a `u32` becomes `7`, `"2"` for an `f64` becomes `2.0`. `None` for any
/// other literal, a value out of the type's range, or a string with escapes.
pub fn unquote_number(line: &str, column: usize, ty: &str) -> Option<String> {
    let (body, eol) = split_eol(line);
    let at = body.char_indices().nth(column.checked_sub(1)?)?.0;
    let rest = body[at..].strip_prefix('"')?;
    let end = rest.find('"')?;
    let digits = &rest[..end];
    let number = |s: &str| {
        let s = s.strip_prefix('-').unwrap_or(s);
        let mut parts = s.splitn(2, '.');
        let whole = parts.next().unwrap_or("");
        !whole.is_empty()
            && whole.bytes().all(|b| b.is_ascii_digit())
            && parts
                .next()
                .is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
    };
    if !number(digits) {
        return None;
    }
    let fits = match ty {
        "u8" => digits.parse::<u8>().is_ok(),
        "u16" => digits.parse::<u16>().is_ok(),
        "u32" => digits.parse::<u32>().is_ok(),
        "u64" => digits.parse::<u64>().is_ok(),
        "u128" => digits.parse::<u128>().is_ok(),
        "usize" => digits.parse::<u64>().is_ok(),
        "i8" => digits.parse::<i8>().is_ok(),
        "i16" => digits.parse::<i16>().is_ok(),
        "i32" => digits.parse::<i32>().is_ok(),
        "i64" => digits.parse::<i64>().is_ok(),
        "i128" => digits.parse::<i128>().is_ok(),
        "isize" => digits.parse::<i64>().is_ok(),
        "f32" | "f64" => digits.parse::<f64>().is_ok_and(f64::is_finite),
        _ => false,
    };
    if !fits {
        return None;
    }
    let literal = if ty.starts_with('f') && !digits.contains('.') {
        format!("{digits}.0")
    } else {
        digits.to_string()
    };
    Some(format!("{}{literal}{}{eol}", &body[..at], &rest[end + 1..]))
}

/// A literal as a test framework prints it: a string's contents, or a bare number/keyword.
#[derive(Clone, Copy)]
enum Printed<'a> {
    Str(&'a str),
    Bare(&'a str),
}

const KEYWORDS: &str = "true false True False None null undefined nil";

fn printed(s: &str) -> Option<Printed<'_>> {
    let s = s.trim();
    let quoted = |q: char| s.len() >= 2 && s.starts_with(q) && s.ends_with(q);
    if quoted('"') || quoted('\'') {
        return Some(Printed::Str(&s[1..s.len() - 1]));
    }
    let digits = s.strip_prefix('-').unwrap_or(s);
    let numeric = |c: char| c.is_ascii_alphanumeric() || "._".contains(c);
    let number = digits.starts_with(|c: char| c.is_ascii_digit()) && digits.chars().all(numeric);
    let keyword = KEYWORDS.split(' ').any(|k| k == s);
    (number || keyword).then_some(Printed::Bare(s))
}

/// Literal tokens of a line: (start, end, quote byte or 0 for bare words). None when a string
/// does not close on this line, since then nothing about the line can be trusted.
fn literal_tokens(body: &str) -> Option<Vec<(usize, usize, u8)>> {
    let b = body.as_bytes();
    let (mut out, mut i) = (Vec::new(), 0);
    while i < b.len() {
        let c = b[i];
        let comment = (c == b'#' && i > 0 && b[i - 1].is_ascii_whitespace())
            || c == b'/' && b.get(i + 1) == Some(&b'/');
        if comment {
            break;
        } else if c == b'"' || c == b'\'' || c == b'`' {
            let mut j = i + 1;
            while *b.get(j)? != c {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            out.push((i, j + 1, c));
            i = j + 1;
        } else if c.is_ascii_alphanumeric() || c == b'_' {
            let len = body[i..].find(|ch: char| !(is_word_char(ch) || ch == '.'));
            let word = body[i..i + len.unwrap_or(b.len() - i)].trim_end_matches('.');
            out.push((i, i + word.len(), 0));
            i += word.len().max(1);
        } else {
            i += 1;
        }
    }
    Some(out)
}

fn same_number(token: &str, printed: &str) -> bool {
    let value = |s: &str| s.parse::<f64>().ok();
    token.starts_with(|c: char| c.is_ascii_digit())
        && (token.replace('_', "") == printed
            || value(token).is_some_and(|t| value(printed) == Some(t)))
}

/// A literal compared as a whole, not an operand of arithmetic or concatenation (`y - 5`).
fn standalone(body: &str, start: usize, end: usize) -> bool {
    let before = body[..start].trim_end();
    let after = body[end..].trim_start().chars().next();
    let open = before.ends_with("assert")
        || before
            .chars()
            .next_back()
            .is_none_or(|c| "(,=[{:<>!".contains(c));
    open && after.is_none_or(|c| "),;]}#/=!<>".contains(c))
}

/// Replaces the one literal on an assertion line equal to `expected` with `actual`, both as the
/// test framework printed them; a string keeps the line's quote style.
pub fn update_assertion_literal(line: &str, expected: &str, actual: &str) -> Option<String> {
    let (body, eol) = split_eol(line);
    let lower = body.to_lowercase();
    let assertion = lower.contains("assert") || lower.contains("expect(");
    if !assertion || expected.trim() == actual.trim() {
        return None;
    }
    let want = printed(expected)?;
    let mut hits = Vec::new();
    for (start, end, quote) in literal_tokens(body)? {
        let tok = &body[start..end];
        let minus = quote == 0 && body[..start].ends_with('-');
        let hit = match want {
            Printed::Str(inner) => quote != 0 && &tok[1..tok.len() - 1] == inner,
            Printed::Bare(_) if quote != 0 => false,
            Printed::Bare(w) => match w.strip_prefix('-') {
                Some(abs) => minus && (tok == abs || same_number(tok, abs)),
                None => !minus && (tok == w || same_number(tok, w)),
            },
        };
        let start = start - usize::from(minus);
        if hit && standalone(body, start, end) {
            hits.push((start, end, quote));
        }
    }
    let [(start, end, quote)] = hits[..] else {
        return None;
    };
    let replacement = match (printed(actual)?, quote as char) {
        (Printed::Str(s), q) if quote != 0 && !s.contains(q) => format!("{q}{s}{q}"),
        (Printed::Bare(word), _) if quote == 0 => word.to_string(),
        _ => return None,
    };
    let (before, after) = (&body[..start], &body[end..]);
    Some(format!("{before}{replacement}{after}{eol}"))
}

static TIMEOUT_ARG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)timeout[a-z_-]*\s*(?:=|:|\()\s*["']?(\d[\d_]*(?:\.\d+)?)"#)
        .expect("valid regex")
});
static TEST_TIMEOUT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(?:it|test|specify)(?:\.only|\.skip)?\s*\(.*,\s*(\d[\d_]*)\s*\)\s*;?\s*$")
        .expect("valid regex")
});

/// Multiplies a numeric literal, keeping its decimals and (3-digit) underscore grouping.
fn multiply(num: &str, factor: u32) -> Option<String> {
    let plain = num.replace('_', "");
    if let Some((_, decimals)) = num.split_once('.') {
        let value = plain.parse::<f64>().ok()? * f64::from(factor);
        return Some(format!("{value:.*}", decimals.len()));
    }
    let value = plain.parse::<u64>().ok()?;
    let digits = value.checked_mul(factor.into())?.to_string();
    if !num.contains('_') {
        return Some(digits);
    }
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push('_');
        }
        grouped.push(c);
    }
    Some(grouped)
}

/// Multiplies the one timeout literal on a test line by `factor`; None unless exactly one.
pub fn raise_timeout(line: &str, factor: u32) -> Option<String> {
    if factor < 2 {
        return None;
    }
    let (body, eol) = split_eol(line);
    let keyword = TIMEOUT_ARG.captures_iter(body).filter_map(|c| c.get(1));
    let mut spans: Vec<Range<usize>> = keyword.map(|m| m.range()).collect();
    let trailing_arg = TEST_TIMEOUT.captures(body).and_then(|c| c.get(1));
    spans.extend(trailing_arg.map(|m| m.range()));
    spans.sort_by_key(|r| r.start);
    spans.dedup();
    let [span] = spans.as_slice() else {
        return None;
    };
    let (start, end) = (span.start, span.end);
    let number = multiply(&body[start..end], factor)?;
    Some(format!("{}{number}{}{eol}", &body[..start], &body[end..]))
}

fn decorator_name(s: &str) -> &str {
    s.split(['(', '=', ']']).next().unwrap_or(s).trim()
}

const DEF_STARTS: &str = "def |async def |class |it(|test(|it.|test.";

/// Inserts `decorator` above the decorators/attributes stacked on the definition at `def_line`.
pub fn insert_decorator(
    source: &str,
    def_line: usize,
    decorator: &str,
) -> Result<String, EditError> {
    let decorator = decorator.trim();
    if decorator.is_empty() || decorator.contains(['\n', '\r']) {
        return Err(invalid("decorator", decorator));
    }
    with_lf(source, |text| {
        let lines: Vec<&str> = text.lines().collect();
        let def = def_line.checked_sub(1).and_then(|i| lines.get(i));
        let def = *def.ok_or_else(|| EditError::NotFound(format!("line {def_line}")))?;
        let code = def.trim_start();
        let signature = code.split('(').next().unwrap_or("");
        let is_fn = signature.split_whitespace().any(|w| w == "fn");
        if !is_fn && !DEF_STARTS.split('|').any(|p| code.starts_with(p)) {
            return Err(EditError::NotFound(format!(
                "definition on line {def_line}"
            )));
        }
        let indent = indent_of(def);
        let mut at = def_line - 1;
        while at > 0 && lines[at - 1].starts_with(indent) {
            let above = lines[at - 1].trim();
            if !(above.starts_with('@') || above.starts_with("#[")) {
                break;
            }
            // The same decorator with other arguments would stack, e.g. two flaky markers.
            if decorator_name(above) == decorator_name(decorator) {
                return Err(present(decorator, format!("decorators of line {def_line}")));
            }
            at -= 1;
        }
        // A bracket line above the stack is the tail of a multi-line decorator we would split.
        let above = if at > 0 { lines[at - 1].trim() } else { "" };
        if above.starts_with([')', ']']) || above.ends_with([',', '(', '[']) {
            return Err(refuse("multi-line decorator above the definition"));
        }
        Ok(insert_line(text, at, &format!("{indent}{decorator}")))
    })
}
