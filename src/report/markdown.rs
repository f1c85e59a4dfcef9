//! Markdown for PR comments and job summaries: a findings table, then one section per
//! finding with its excerpt in a collapsible block.

use super::{counts_line, location_text, truncate, Report};
use std::io::{self, Write};

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "# cars analysis of `{}`\n", report.source)?;
    if report.findings.is_empty() {
        return writeln!(out, "No errors found ({} lines).", report.lines);
    }
    writeln!(
        out,
        "{} findings in {} lines.\n",
        report.findings.len(),
        report.lines
    )?;
    writeln!(
        out,
        "| id | level | category | severity | confidence | location | message |"
    )?;
    writeln!(out, "|---|---|---|---|---|---|---|")?;
    for f in &report.findings {
        writeln!(
            out,
            "| {} | {} | {} | {} | {:.2} | {} | {} |",
            f.id,
            f.level,
            f.category,
            f.severity,
            f.confidence,
            cell(&location_text(f)),
            cell(&truncate(&f.message, 120))
        )?;
    }
    let s = &report.summary;
    writeln!(out, "\n**By category:** {}  ", counts_line(&s.by_category))?;
    writeln!(out, "**By severity:** {}", counts_line(&s.by_severity))?;
    if !s.by_step.is_empty() {
        writeln!(out, "  \n**By step:** {}", cell(&counts_line(&s.by_step)))?;
    }
    for f in &report.findings {
        writeln!(out, "\n## {}: {}\n", f.id, cell(&truncate(&f.message, 200)))?;
        writeln!(
            out,
            "- rule: `{}` ({}), confidence {:.2}",
            f.rule, f.tool, f.confidence
        )?;
        let loc = location_text(f);
        if !loc.is_empty() {
            writeln!(out, "- location: `{loc}`")?;
        }
        if let Some(t) = &f.test {
            writeln!(out, "- test: `{}`", t.replace('`', "'"))?;
        }
        if let Some(step) = &f.step {
            writeln!(out, "- step: {}", cell(step))?;
        }
        writeln!(
            out,
            "- log lines: {}-{}",
            f.log_lines.start, f.log_lines.end
        )?;
        writeln!(out, "\n{}\n", f.explanation)?;
        if !f.excerpt.is_empty() {
            let fence = if f.excerpt.iter().any(|l| l.contains("```")) {
                "~~~~"
            } else {
                "```"
            };
            writeln!(
                out,
                "<details><summary>log excerpt</summary>\n\n{fence}text"
            )?;
            for l in &f.excerpt {
                writeln!(out, "{l}")?;
            }
            writeln!(out, "{fence}\n\n</details>")?;
        }
    }
    Ok(())
}
