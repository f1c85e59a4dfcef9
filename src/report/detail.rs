//! One finding up close, for `cars show` / `cars explain` and the session front ends:
//! its log excerpt with the matched line marked, and the source lines around its
//! location when the file is in the project.

use super::paths::ProjectPaths;
use crate::analyze::Finding;
use std::io::{self, Write};
use std::path::Path;

/// Lines of source shown on each side of the finding's line.
const CONTEXT: usize = 2;

fn paint(color: bool, code: &str, text: &str) -> String {
    if color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// Header, excerpt (first line marked: that is what the rule matched) and source.
pub fn write_show(f: &Finding, root: &Path, color: bool, out: &mut dyn Write) -> io::Result<()> {
    let loc = ProjectPaths::new(Some(root)).location_text(f.location.as_ref());
    writeln!(
        out,
        "{} {} {} {} [{}] {:.2}{}",
        paint(color, "1", &f.id),
        f.level,
        f.category,
        f.severity,
        f.rule,
        f.confidence,
        if loc.is_empty() {
            String::new()
        } else {
            format!(" {loc}")
        }
    )?;
    writeln!(out, "{}", f.message)?;
    if let Some(t) = &f.test {
        writeln!(out, "test: {t}")?;
    }
    if let Some(s) = &f.step {
        writeln!(out, "step: {s}")?;
    }
    writeln!(
        out,
        "\nlog lines {}-{}:",
        f.log_lines.start, f.log_lines.end
    )?;
    for (i, line) in f.excerpt.iter().enumerate() {
        let n = f.log_lines.start + i as u64;
        if i == 0 {
            writeln!(
                out,
                "{}",
                paint(color, "1;31", &format!("> {n:>6} | {line}"))
            )?;
        } else {
            writeln!(out, "  {n:>6} | {line}")?;
        }
    }
    write_source(f, root, color, out)
}

/// The lines around the finding's location, when the file is in the project.
pub fn write_source(f: &Finding, root: &Path, color: bool, out: &mut dyn Write) -> io::Result<()> {
    let Some(loc) = &f.location else {
        return Ok(());
    };
    let Some(line) = loc.line.map(|l| l as usize) else {
        return Ok(());
    };
    let Ok(policy) = crate::policy::PathPolicy::new(root, None) else {
        return Ok(());
    };
    let Some(rel) = crate::fix::paths::resolve(&policy, &loc.file) else {
        return Ok(());
    };
    let Ok(text) = policy.read_text(&rel) else {
        return Ok(());
    };
    let lines: Vec<&str> = text.lines().collect();
    if line == 0 || line > lines.len() {
        return Ok(());
    }
    writeln!(out, "\n{rel}:")?;
    let first = line.saturating_sub(CONTEXT).max(1);
    let last = (line + CONTEXT).min(lines.len());
    for n in first..=last {
        let text = format!("{n:>6} | {}", lines[n - 1]);
        if n == line {
            writeln!(out, "{}", paint(color, "1;33", &format!("> {text}")))?;
        } else {
            writeln!(out, "  {text}")?;
        }
    }
    Ok(())
}

/// The explanation with what the rule knows: category, confidence and why.
pub fn write_explain(f: &Finding, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{}: {}", f.id, f.message)?;
    writeln!(out, "\n{}", f.explanation)?;
    writeln!(
        out,
        "\nRule {} ({}), category {}, severity {}, confidence {:.2}{}.",
        f.rule,
        f.tool,
        f.category,
        f.severity,
        f.confidence,
        if f.consequence {
            "; a consequence of an earlier error, not a cause"
        } else {
            ""
        }
    )?;
    if let Some(why) = &f.category_reason {
        writeln!(out, "Category {} because: {why}.", f.category)?;
    }
    if f.occurrences > 1 {
        writeln!(out, "Seen {} times in the log.", f.occurrences)?;
    }
    Ok(())
}

/// How a patch's confidence was arrived at: the source's base, its history on the
/// rule, the lower bound before and after, and the result the gates compare.
pub fn calibration_text(p: &crate::store::StoredPatch) -> String {
    let source = crate::learn::source_key(&p.patch.provenance);
    match &p.calibration {
        None => format!(
            "{} ({source}): confidence {:.2}, not calibrated.",
            p.id, p.patch.confidence
        ),
        Some(c) if c.successes + c.failures == 0 => format!(
            "{} ({source}): confidence {:.2}, the source's own; no history on {} yet.",
            p.id, c.result, p.patch.rule
        ),
        Some(c) => format!(
            "{} ({source}): base {:.2}; history on {}: {} worked, {} failed (weighted {:.1} of {:.1}); \
             lower bound {:.2} -> {:.2}; confidence {:.2}.",
            p.id,
            c.base,
            p.patch.rule,
            c.successes,
            c.failures,
            c.k,
            c.n,
            c.prior_bound,
            c.bound,
            c.result
        ),
    }
}

pub fn write_calibration(p: &crate::store::StoredPatch, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{}", calibration_text(p))
}

/// Findings grouped by category, severity or step: `key: E1 E4`.
pub fn write_grouped(findings: &[Finding], by: &str, out: &mut dyn Write) -> io::Result<()> {
    let mut groups: std::collections::BTreeMap<String, Vec<&str>> = Default::default();
    for f in findings {
        let key = match by {
            "severity" => f.severity.to_string(),
            "step" => f.step.clone().unwrap_or_else(|| "(no step)".into()),
            _ => f.category.to_string(),
        };
        groups.entry(key).or_default().push(&f.id);
    }
    for (k, ids) in groups {
        writeln!(out, "{k:<12} {:>3}  {}", ids.len(), ids.join(" "))?;
    }
    Ok(())
}
