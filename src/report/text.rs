//! Plain text: one paragraph per finding, grep-friendly first line, no decoration.

use super::{plural, Report};
use std::io::{self, Write};

pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    for f in &report.findings {
        let loc = report.location_text(f);
        let loc = if loc.is_empty() {
            format!("{}:{}", report.source, f.log_lines.start)
        } else {
            loc
        };
        writeln!(
            out,
            "{} {} {} [{}] {:.2} {}: {}",
            f.id, f.level, f.category, f.rule, f.confidence, loc, f.message
        )?;
        if let Some(t) = &f.test {
            writeln!(out, "    test: {t}")?;
        }
        if let Some(s) = &f.step {
            writeln!(out, "    step: {s}")?;
        }
        let range = if f.log_lines.start == f.log_lines.end {
            format!("{}", f.log_lines.start)
        } else {
            format!("{}-{}", f.log_lines.start, f.log_lines.end)
        };
        let times = if f.occurrences > 1 {
            format!(" ({} times)", f.occurrences)
        } else {
            String::new()
        };
        writeln!(out, "    log lines: {range}{times}")?;
        writeln!(out, "    {}", report.explanation(f))?;
    }
    if report.findings.is_empty() {
        writeln!(
            out,
            "no errors found in {} ({})",
            report.source,
            plural(report.lines, "line")
        )?;
    }
    Ok(())
}
