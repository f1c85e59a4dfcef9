//! Markdown for PR comments and job summaries: a findings table, then one section per
//! finding with its excerpt in a collapsible block. All escaping goes through `md`.

use super::{counts_line, md, plural, truncate, Report};
use std::io::{self, Write};

pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "# cars analysis of {}\n", md::code(&report.source))?;
    if report.findings.is_empty() {
        return writeln!(out, "No errors found ({}).", plural(report.lines, "line"));
    }
    writeln!(
        out,
        "{} in {}.\n",
        plural(report.findings.len() as u64, "finding"),
        plural(report.lines, "line")
    )?;
    let rows: Vec<Vec<String>> = report
        .findings
        .iter()
        .map(|f| {
            let loc = report.location_text(f);
            vec![
                md::inline(&f.id),
                f.level.to_string(),
                f.category.to_string(),
                f.severity.to_string(),
                format!("{:.2}", f.confidence),
                if loc.is_empty() { loc } else { md::code(&loc) },
                md::inline(&truncate(&f.message, 120)),
            ]
        })
        .collect();
    md::table(
        out,
        &[
            "id",
            "level",
            "category",
            "severity",
            "confidence",
            "location",
            "message",
        ],
        &rows,
    )?;
    let s = &report.summary;
    writeln!(
        out,
        "**By category:** {}  ",
        md::inline(&counts_line(&s.by_category))
    )?;
    writeln!(
        out,
        "**By severity:** {}",
        md::inline(&counts_line(&s.by_severity))
    )?;
    if !s.by_step.is_empty() {
        writeln!(
            out,
            "  \n**By step:** {}",
            md::inline(&counts_line(&s.by_step))
        )?;
    }
    for f in &report.findings {
        writeln!(
            out,
            "\n## {}: {}\n",
            md::inline(&f.id),
            md::inline(&truncate(&f.message, 200))
        )?;
        writeln!(
            out,
            "- rule: {} ({}), confidence {:.2}",
            md::code(&f.rule),
            md::inline(&f.tool),
            f.confidence
        )?;
        let loc = report.location_text(f);
        if !loc.is_empty() {
            writeln!(out, "- location: {}", md::code(&loc))?;
        }
        if let Some(t) = &f.test {
            writeln!(out, "- test: {}", md::code(t))?;
        }
        if let Some(step) = &f.step {
            writeln!(out, "- step: {}", md::inline(step))?;
        }
        writeln!(
            out,
            "- log lines: {}-{}",
            f.log_lines.start, f.log_lines.end
        )?;
        writeln!(out, "\n{}\n", md::inline(&report.explanation(f)))?;
        if !f.excerpt.is_empty() {
            let body = f.excerpt.join("\n");
            let fence = md::fence(&body);
            writeln!(
                out,
                "<details><summary>log excerpt</summary>\n\n{fence}text"
            )?;
            writeln!(out, "{body}")?;
            writeln!(out, "{fence}\n\n</details>")?;
        }
    }
    Ok(())
}
