//! GitHub Actions workflow commands (`::error file=..,line=..::message`), so findings
//! show up as annotations when cars runs inside a job.

use super::Report;
use crate::rules::model::Level;
use std::io::{self, Write};

fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    for f in &report.findings {
        let command = match f.level {
            Level::Error => "error",
            Level::Warning => "warning",
        };
        let mut props = Vec::new();
        if let Some(loc) = &f.location {
            // GitHub wants the path relative to the repository, not the runner's.
            props.push(format!(
                "file={}",
                escape_property(&report.paths.show(&loc.file))
            ));
            if let Some(l) = loc.line {
                props.push(format!("line={l}"));
            }
            if let Some(c) = loc.column {
                props.push(format!("col={c}"));
            }
        }
        props.push(format!(
            "title={}",
            escape_property(&format!(
                "cars {} {} ({:.2}) {}",
                f.id, f.category, f.confidence, f.rule
            ))
        ));
        writeln!(
            out,
            "::{command} {}::{}",
            props.join(","),
            escape_data(&format!("{}\n{}", f.message, report.explanation(f)))
        )?;
    }
    Ok(())
}
