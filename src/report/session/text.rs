//! The session report as plain text, wrapped at `TEXT_WIDTH` columns.

use super::*;

/// A line safe for a terminal: tabs expanded, control characters (ANSI escapes
/// included) shown as `?`.
fn plain(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '\t' => {
                let col = out.chars().count();
                out.push_str(&" ".repeat(8 - col % 8));
            }
            c if c.is_control() => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

/// Word-wraps `text` to `width` characters; the first line starts with `first`, the
/// others with `rest`. A word too long for a line of its own is cut.
fn wrap(text: &str, width: usize, first: &str, rest: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = first.to_string();
    let mut empty = true;
    for word in plain(text).split_whitespace() {
        let mut word = word;
        while !word.is_empty() {
            let (len, wlen) = (line.chars().count(), word.chars().count());
            let gap = usize::from(!empty);
            if len + gap + wlen <= width {
                if !empty {
                    line.push(' ');
                }
                line.push_str(word);
                empty = false;
                break;
            }
            if empty {
                let room = width.saturating_sub(len).max(1);
                let cut = word.char_indices().nth(room).map_or(word.len(), |(i, _)| i);
                line.push_str(&word[..cut]);
                word = &word[cut..];
            }
            lines.push(std::mem::replace(&mut line, rest.to_string()));
            empty = true;
        }
    }
    if !empty || lines.is_empty() {
        lines.push(line.trim_end().to_string());
    }
    lines
}

/// A verbatim line (log, diff) cut into pieces of at most `width` characters, each
/// starting with `indent`.
fn cut(text: &str, width: usize, indent: &str) -> Vec<String> {
    let room = width.saturating_sub(indent.chars().count()).max(1);
    let chars: Vec<char> = plain(text).chars().collect();
    if chars.is_empty() {
        return vec![indent.trim_end().to_string()];
    }
    chars
        .chunks(room)
        .map(|c| format!("{indent}{}", c.iter().collect::<String>()))
        .collect()
}

const IND: &str = "    ";

/// Writes `text` word-wrapped; lines after the first are indented.
fn para(out: &mut dyn Write, text: &str, first: &str) -> io::Result<()> {
    for l in wrap(text, TEXT_WIDTH, first, IND) {
        writeln!(out, "{l}")?;
    }
    Ok(())
}

/// Writes a verbatim line, cut to the width.
fn verbatim(out: &mut dyn Write, text: &str, indent: &str) -> io::Result<()> {
    for l in cut(text, TEXT_WIDTH, indent) {
        writeln!(out, "{l}")?;
    }
    Ok(())
}

pub(super) fn write_text(r: &SessionReport, out: &mut dyn Write) -> io::Result<()> {
    let s = &r.session;
    let paths = r.paths();
    para(out, &format!("cars session {}: {}", s.id, s.source), "")?;
    para(
        out,
        &format!("created {} UTC", format_time(s.created_at)),
        IND,
    )?;
    para(out, &format!("project {}", s.project), IND)?;
    if let Some(cmd) = &s.command {
        para(out, &format!("command {cmd}"), IND)?;
    }
    para(out, &timing_text(r), IND)?;

    let sum = &r.summary;
    writeln!(out)?;
    para(out, &plural(sum.findings, "finding"), "")?;
    for (name, map) in [
        ("by category:", &sum.counts.by_category),
        ("by severity:", &sum.counts.by_severity),
        ("by step:", &sum.counts.by_step),
    ] {
        if !map.is_empty() {
            para(out, &format!("{name} {}", counts_text(map)), IND)?;
        }
    }
    let c = &sum.patches;
    para(
        out,
        &format!(
            "{}: {} approved, {} rejected, {} applied, {} validated, {} failed validation, {} rolled back",
            plural(c.proposed, "patch"), c.approved, c.rejected, c.applied, c.validated, c.failed, c.rolled_back
        ),
        "",
    )?;

    for e in &r.findings {
        let f = &e.finding;
        writeln!(out)?;
        let loc = paths.location_text(f.location.as_ref());
        let loc = if loc.is_empty() {
            format!("{}:{}", s.source, f.log_lines.start)
        } else {
            loc
        };
        let head = format!(
            "{} {} {} [{}] {:.2} {}: {}",
            f.id, f.level, f.category, f.rule, f.confidence, loc, f.message
        );
        para(out, &head, "")?;
        if let Some(t) = &f.test {
            para(out, &format!("test: {t}"), IND)?;
        }
        if let Some(step) = &f.step {
            para(out, &format!("step: {step}"), IND)?;
        }
        let times = if f.occurrences > 1 {
            format!(" ({} times)", f.occurrences)
        } else {
            String::new()
        };
        para(out, &format!("log lines: {}{times}", e.log_range()), IND)?;
        let patches = r.patches_of(&f.id);
        if !patches.is_empty() {
            para(out, &format!("patches: {}", patches.join(", ")), IND)?;
        }
        para(out, &paths.explanation(f), IND)?;
        for l in e.excerpt() {
            verbatim(out, l, "    | ")?;
        }
    }

    for p in &r.patches {
        writeln!(out)?;
        let head = format!(
            "{} {} for {} {} {:.2} [{}] {}",
            p.id,
            p.status.as_str(),
            p.finding,
            p.strategy.as_str(),
            p.confidence,
            p.rule,
            p.files.join(", ")
        );
        para(out, &head, "")?;
        para(out, &p.rationale, IND)?;
        para(out, &format!("from {}", p.origin), IND)?;
        for d in &p.decisions {
            para(out, &decision_text(d), IND)?;
        }
        let outcome = outcome_text(p.outcome.as_ref(), &|s: &str| format!("`{s}`"));
        para(out, &format!("outcome: {outcome}"), IND)?;
        for l in p.diff.lines() {
            verbatim(out, l, IND)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_breaks_at_spaces_and_cuts_long_words() {
        let text = "one two three four five";
        assert_eq!(
            wrap(text, 10, "", "  "),
            ["one two", "  three", "  four", "  five"]
        );
        assert_eq!(wrap("", 10, "> ", "  "), [">"]);
        let long = "x".repeat(25);
        let lines = wrap(&format!("a {long} b"), 10, "", "");
        assert_eq!(lines, ["a", "xxxxxxxxxx", "xxxxxxxxxx", "xxxxx b"]);
        assert!(wrap(&"é".repeat(250), 100, "    ", "    ")
            .iter()
            .all(|l| l.chars().count() <= 100));
    }

    #[test]
    fn cut_keeps_verbatim_lines_whole_and_drops_escapes() {
        assert_eq!(cut("  a  b", 10, "| "), ["|   a  b"]);
        assert_eq!(cut("abcdefgh", 6, "| "), ["| abcd", "| efgh"]);
        assert_eq!(cut("", 6, "    "), [""]);
        // Tabs go to the next multiple of 8; an ANSI escape is not passed through.
        assert_eq!(cut("ab\tc", 40, ""), ["ab      c"]);
        assert_eq!(cut("\x1b[31mred", 40, ""), ["?[31mred"]);
    }
}
