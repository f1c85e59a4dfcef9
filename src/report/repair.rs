//! Views of the repair side, shared by the subcommands and the session front ends:
//! proposed patches, coloured diffs, history and stats.

use crate::repair::{ApplyReport, Gate, Gates, Verdict};
use crate::store::{HistoryEntry, Stats, StoredPatch, Tally};
use comfy_table::{presets::UTF8_FULL_CONDENSED, ContentArrangement, Table};
use std::io::{self, Write};

pub use crate::repair::Unfixable;

fn table(header: &[&str], width: Option<u16>) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.iter().copied());
    if let Some(w) = width {
        t.set_width(w);
    }
    t
}

pub fn gate_text(g: Gate) -> &'static str {
    match g {
        Gate::Auto => "auto",
        Gate::Approve => "approve",
        Gate::Force => "--force",
        Gate::ReportOnly => "report only",
    }
}

/// The table `cars patch` prints.
pub fn write_patches(
    patches: &[StoredPatch],
    unfixable: &[Unfixable],
    gates: &Gates,
    width: Option<u16>,
    out: &mut dyn Write,
) -> io::Result<()> {
    if !patches.is_empty() {
        let mut t = table(
            &[
                "patch", "finding", "strategy", "conf", "gate", "files", "why",
            ],
            width,
        );
        for p in patches {
            let files: Vec<&str> = p.patch.files.iter().map(|f| f.path.as_str()).collect();
            t.add_row([
                p.id.clone(),
                p.patch.finding.clone(),
                p.patch.strategy.as_str().to_string(),
                format!("{:.2}", p.patch.confidence),
                gate_text(gates.gate(&p.patch)).to_string(),
                files.join("\n"),
                format!(
                    "{} [{}; from {}]",
                    p.patch.rationale,
                    diff_stat(&p.patch),
                    p.patch.provenance.describe()
                ),
            ]);
        }
        writeln!(out, "{t}")?;
    }
    for u in unfixable {
        writeln!(out, "{}: no patch: {}", u.finding, u.reason)?;
    }
    if patches.is_empty() && unfixable.is_empty() {
        writeln!(out, "Nothing to fix: the session has no findings.")?;
    }
    Ok(())
}

/// `+2 -1`: lines the patch adds and removes, so a table shows a patch's size.
fn diff_stat(p: &crate::fix::Patch) -> String {
    let (mut add, mut del) = (0, 0);
    for f in &p.files {
        let diff = similar::TextDiff::from_lines(f.before.as_deref().unwrap_or(""), &f.after);
        for c in diff.iter_all_changes() {
            match c.tag() {
                similar::ChangeTag::Insert => add += 1,
                similar::ChangeTag::Delete => del += 1,
                similar::ChangeTag::Equal => {}
            }
        }
    }
    format!("+{add} -{del}")
}

/// One line per applied patch: files, rebase, validation verdict, commit; and the
/// tail of the validation output when it failed. Returns whether the patch stayed.
pub fn write_apply_report(r: &ApplyReport, finding: &str, out: &mut dyn Write) -> io::Result<bool> {
    let mut line = format!("{}: applied to {}", r.patch, r.files.join(", "));
    if !r.rebased.is_empty() {
        line.push_str(&format!(
            " (rebased onto the current {})",
            r.rebased.join(", ")
        ));
    }
    let mut kept = true;
    let mut tail = None;
    match &r.validation {
        Some(v) => {
            let took = format_duration(v.elapsed_ms);
            match &v.verdict {
                Verdict::Passed => line.push_str(&format!("; `{}` passed in {took}", v.command)),
                Verdict::FindingGone { remaining } => line.push_str(&format!(
                    "; `{}` no longer reports {finding} ({} {})",
                    v.command,
                    super::plural(*remaining as u64, "other error"),
                    if *remaining == 1 { "remains" } else { "remain" }
                )),
                Verdict::StillFailing { reason } => {
                    kept = false;
                    line.push_str(&format!(
                        "; `{}` {reason} after {took}, so it was rolled back",
                        v.command
                    ));
                    tail = Some(v);
                }
            }
        }
        None => line.push_str(" (not validated)"),
    }
    if let Some(c) = &r.commit {
        line.push_str(&format!("; committed {}", &c[..c.len().min(10)]));
    }
    writeln!(out, "{line}")?;
    if let Some(v) = tail {
        writeln!(out, "--- last lines of `{}` ---", v.command)?;
        let lines: Vec<&str> = v.output_tail.lines().collect();
        for l in &lines[lines.len().saturating_sub(15)..] {
            writeln!(out, "{l}")?;
        }
    }
    Ok(kept)
}

/// A unified diff, coloured for a terminal when `color` is set.
pub fn write_diff(diff: &str, color: bool, out: &mut dyn Write) -> io::Result<()> {
    if !color {
        return out.write_all(diff.as_bytes());
    }
    for line in diff.split_inclusive('\n') {
        let code =
            if line.starts_with("+++") || line.starts_with("---") || line.starts_with("diff ") {
                "1"
            } else if line.starts_with('+') {
                "32"
            } else if line.starts_with('-') {
                "31"
            } else if line.starts_with("@@") {
                "36"
            } else {
                ""
            };
        if code.is_empty() {
            out.write_all(line.as_bytes())?;
        } else {
            let body = line.trim_end_matches('\n');
            write!(out, "\x1b[{code}m{body}\x1b[0m")?;
            if line.ends_with('\n') {
                writeln!(out)?;
            }
        }
    }
    Ok(())
}

/// `cars history` as a table, newest first.
pub fn write_history(
    entries: &[HistoryEntry],
    width: Option<u16>,
    out: &mut dyn Write,
) -> io::Result<()> {
    if entries.is_empty() {
        return writeln!(
            out,
            "No history yet: `cars analyze <log>` starts a session."
        );
    }
    let mut t = table(&["when", "session", "patch", "event", "detail"], width);
    for e in entries {
        t.add_row([
            format_time(e.at),
            e.session.to_string(),
            e.patch.clone().unwrap_or_default(),
            e.kind.clone(),
            detail_text(&e.detail),
        ]);
    }
    writeln!(out, "{t}")
}

fn detail_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Object(map) => map
            .iter()
            .filter(|(k, _)| *k != "patch")
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => format!("{k}={s}"),
                other => format!("{k}={other}"),
            })
            .collect::<Vec<_>>()
            .join(" "),
        other => other.to_string(),
    }
}

/// `cars stats` as tables.
pub fn write_stats(stats: &Stats, width: Option<u16>, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "{} sessions, {} findings; mean time to repair: {}",
        stats.sessions,
        stats.findings,
        stats
            .mttr_ms
            .map(format_duration)
            .unwrap_or_else(|| "no validated fix yet".into())
    )?;
    for (title, rows) in [
        ("category", &stats.by_category),
        ("rule", &stats.by_rule),
        ("strategy", &stats.by_strategy),
    ] {
        if rows.is_empty() {
            continue;
        }
        let mut t = table(
            &[
                title,
                "proposed",
                "applied",
                "validated",
                "failed",
                "rejected",
                "rolled back",
                "success",
            ],
            width,
        );
        for r in rows {
            t.add_row([
                r.key.clone(),
                r.proposed.to_string(),
                r.applied.to_string(),
                r.validated.to_string(),
                r.failed.to_string(),
                r.rejected.to_string(),
                r.rolled_back.to_string(),
                success_rate(r),
            ]);
        }
        writeln!(out, "\n{t}")?;
    }
    Ok(())
}

/// Validated over validated + failed, the patches whose outcome is known.
pub fn success_rate(t: &Tally) -> String {
    let decided = t.validated + t.failed;
    if decided == 0 {
        "-".into()
    } else {
        format!("{:.0}%", 100.0 * t.validated as f64 / decided as f64)
    }
}

pub fn format_duration(ms: u64) -> String {
    match ms {
        0..=999 => format!("{ms} ms"),
        1_000..=59_999 => format!("{:.1} s", ms as f64 / 1000.0),
        60_000..=3_599_999 => format!("{:.1} min", ms as f64 / 60_000.0),
        _ => format!("{:.1} h", ms as f64 / 3_600_000.0),
    }
}

/// UTC `YYYY-MM-DD HH:MM:SS` for a unix-millisecond time.
pub fn format_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// `cars learn stats`: success rates with their counts.
pub fn write_rates(
    rows: &[crate::learn::Rate],
    width: Option<u16>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut t = table(
        &["", "worked", "failed", "no evidence", "success rate"],
        width,
    );
    for r in rows {
        let n = r.successes + r.failures;
        let rate = if n == 0 {
            "-".to_string()
        } else {
            format!("{:.0}%", 100.0 * r.successes as f64 / n as f64)
        };
        t.add_row([
            r.key.clone(),
            r.successes.to_string(),
            r.failures.to_string(),
            r.neutral.to_string(),
            rate,
        ]);
    }
    writeln!(out, "{t}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_are_utc_calendar_dates() {
        assert_eq!(super::format_time(0), "1970-01-01 00:00:00");
        assert_eq!(super::format_time(1_795_000_000_000), "2026-11-18 11:06:40");
    }

    #[test]
    fn one_other_error_remains_not_one_other_errors_remain() {
        use crate::repair::{ApplyReport, Validation, Verdict};
        let line = |remaining| {
            let report = ApplyReport {
                patch: "P1".into(),
                files: vec!["src/main.rs".into()],
                rebased: Vec::new(),
                validation: Some(Validation {
                    command: "cargo build".into(),
                    passed: true,
                    verdict: Verdict::FindingGone { remaining },
                    exit_code: Some(101),
                    timed_out: false,
                    elapsed_ms: 10,
                    output_tail: String::new(),
                }),
                commit: None,
                rolled_back: false,
            };
            let mut out = Vec::new();
            super::write_apply_report(&report, "E1", &mut out).unwrap();
            String::from_utf8(out).unwrap()
        };
        assert!(line(1).contains("(1 other error remains)"), "{}", line(1));
        assert!(line(2).contains("(2 other errors remain)"), "{}", line(2));
    }
}
