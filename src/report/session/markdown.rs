//! The session report as markdown, for a PR comment or a wiki page.

use super::*;

fn count_rows(map: &BTreeMap<String, u64>) -> Vec<Vec<String>> {
    map.iter()
        .map(|(k, n)| vec![md::inline(k), n.to_string()])
        .collect()
}

pub(super) fn write_markdown(r: &SessionReport, out: &mut dyn Write) -> io::Result<()> {
    let s = &r.session;
    let paths = r.paths();
    writeln!(out, "# cars session {}: {}\n", s.id, md::code(&s.source))?;
    writeln!(out, "- **created:** {} UTC", format_time(s.created_at))?;
    writeln!(out, "- **project:** {}", md::code(&s.project))?;
    if let Some(cmd) = &s.command {
        writeln!(out, "- **command:** {}", md::code(cmd))?;
    }
    writeln!(out, "- **log:** {}\n", timing_text(r))?;

    writeln!(out, "## Summary\n")?;
    let sum = &r.summary;
    writeln!(
        out,
        "{}, {}.\n",
        plural(sum.findings, "finding"),
        plural(sum.patches.proposed, "patch")
    )?;
    if sum.findings > 0 {
        md::table(
            out,
            &["category", "findings"],
            &count_rows(&sum.counts.by_category),
        )?;
        md::table(
            out,
            &["severity", "findings"],
            &count_rows(&sum.counts.by_severity),
        )?;
        if !sum.counts.by_step.is_empty() {
            md::table(out, &["step", "findings"], &count_rows(&sum.counts.by_step))?;
        }
    }
    let c = &sum.patches;
    let patch_rows: Vec<Vec<String>> = [
        ("proposed", c.proposed),
        ("approved", c.approved),
        ("rejected", c.rejected),
        ("applied", c.applied),
        ("validated", c.validated),
        ("failed validation", c.failed),
        ("rolled back", c.rolled_back),
    ]
    .iter()
    .map(|(k, n)| vec![k.to_string(), n.to_string()])
    .collect();
    md::table(out, &["patches", "count"], &patch_rows)?;

    if r.findings.is_empty() {
        return writeln!(out, "No errors found.");
    }
    writeln!(out, "## Findings\n")?;
    let rows: Vec<Vec<String>> = r
        .findings
        .iter()
        .map(|e| {
            let f = &e.finding;
            let loc = paths.location_text(f.location.as_ref());
            vec![
                f.id.clone(),
                f.level.to_string(),
                f.category.to_string(),
                f.severity.to_string(),
                format!("{:.2}", f.confidence),
                if loc.is_empty() { loc } else { md::code(&loc) },
                md::inline(&truncate(&f.message, 120)),
                r.patches_of(&f.id).join(", "),
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
            "patches",
        ],
        &rows,
    )?;
    for e in &r.findings {
        let f = &e.finding;
        writeln!(
            out,
            "### {}: {}\n",
            f.id,
            md::inline(&truncate(&f.message, 200))
        )?;
        writeln!(
            out,
            "- **rule:** {} ({}), confidence {:.2}",
            md::code(&f.rule),
            md::inline(&f.tool),
            f.confidence
        )?;
        let loc = paths.location_text(f.location.as_ref());
        if !loc.is_empty() {
            writeln!(out, "- **location:** {}", md::code(&loc))?;
        }
        if let Some(t) = &f.test {
            writeln!(out, "- **test:** {}", md::code(t))?;
        }
        if let Some(step) = &f.step {
            writeln!(out, "- **step:** {}", md::inline(step))?;
        }
        let times = if f.occurrences > 1 {
            format!(" ({} times)", f.occurrences)
        } else {
            String::new()
        };
        writeln!(out, "- **log lines:** {}{times}", e.log_range())?;
        let patches = r.patches_of(&f.id);
        if !patches.is_empty() {
            writeln!(out, "- **patches:** {}", patches.join(", "))?;
        }
        writeln!(out, "\n{}\n", md::inline(&paths.explanation(f)))?;
        if !e.excerpt().is_empty() {
            let body = e.excerpt().join("\n");
            let fence = md::fence(&body);
            writeln!(out, "<details><summary>log excerpt</summary>\n")?;
            writeln!(out, "{fence}text\n{body}\n{fence}\n\n</details>\n")?;
        }
    }

    if r.patches.is_empty() {
        return Ok(());
    }
    writeln!(out, "## Patches\n")?;
    for p in &r.patches {
        writeln!(
            out,
            "### {} for {}: {}\n",
            p.id,
            p.finding,
            p.status.as_str()
        )?;
        writeln!(
            out,
            "- **strategy:** {}, confidence {:.2}",
            p.strategy.as_str(),
            p.confidence
        )?;
        writeln!(
            out,
            "- **rule:** {}, from {}",
            md::code(&p.rule),
            md::inline(&p.origin)
        )?;
        let files: Vec<String> = p.files.iter().map(|f| md::code(f)).collect();
        writeln!(out, "- **files:** {}", files.join(", "))?;
        writeln!(out, "\n{}\n", md::inline(&p.rationale))?;
        let body = p.diff.trim_end_matches('\n');
        let fence = md::fence(body);
        writeln!(out, "{fence}diff\n{body}\n{fence}\n")?;
        if p.decisions.is_empty() {
            writeln!(out, "**Decisions:** none.\n")?;
        } else {
            writeln!(out, "**Decisions:**\n")?;
            for d in &p.decisions {
                writeln!(out, "- {}", md::inline(&decision_text(d)))?;
            }
            writeln!(out)?;
        }
        writeln!(
            out,
            "**Outcome:** {}\n",
            outcome_text(p.outcome.as_ref(), &md::code)
        )?;
    }
    Ok(())
}

// ---- text ----
