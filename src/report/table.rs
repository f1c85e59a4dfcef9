//! The default terminal view: a comfy-table of findings and a summary of counts.

use super::{counts_line, plural, truncate, Report, Style};
use comfy_table::{presets::UTF8_FULL_CONDENSED, ContentArrangement, Table};
use std::io::{self, Write};

pub fn write(report: &Report, style: Style, out: &mut dyn Write) -> io::Result<()> {
    if report.findings.is_empty() {
        return writeln!(
            out,
            "No errors found in {} ({}).",
            report.source,
            plural(report.lines, "line")
        );
    }
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(["id", "category", "severity", "conf", "location", "message"]);
    if let Some(w) = style.width {
        table.set_width(w);
    }
    for f in &report.findings {
        let location = match (report.location_text(f), &f.test) {
            (l, _) if !l.is_empty() => l,
            (_, Some(t)) => t.clone(),
            _ => format!("log:{}", f.log_lines.start),
        };
        table.add_row([
            f.id.clone(),
            f.category.to_string(),
            format!("{} {}", f.level, f.severity),
            format!("{:.2}", f.confidence),
            location,
            truncate(&f.message, 200),
        ]);
    }
    writeln!(out, "{table}")?;
    let s = &report.summary;
    writeln!(
        out,
        "{} in {} ({})",
        plural(report.findings.len() as u64, "finding"),
        report.source,
        plural(report.lines, "line")
    )?;
    writeln!(out, "  by category: {}", counts_line(&s.by_category))?;
    writeln!(out, "  by severity: {}", counts_line(&s.by_severity))?;
    if !s.by_step.is_empty() {
        writeln!(out, "  by step:     {}", counts_line(&s.by_step))?;
    }
    if let Some(top) = report.findings.first() {
        writeln!(
            out,
            "\nMost likely root cause ({}): {}",
            top.id,
            report.explanation(top)
        )?;
    }
    Ok(())
}
