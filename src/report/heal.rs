//! The summary `cars heal` ends with: how it stopped, what each round did, what was
//! fixed, and for what still fails, why no patch fixed it.

use super::plural;
use super::repair::format_duration;
use crate::session::heal::{HealReport, Stop};
use std::io::{self, Write};

pub fn write_text(r: &HealReport, out: &mut dyn Write) -> io::Result<()> {
    let rounds = plural(r.rounds.len() as u64, "round");
    let took = format_duration(r.elapsed_ms);
    let headline = match r.stop {
        Stop::Passed if r.fixed.is_empty() => format!("`{}` passes; nothing to heal", r.command),
        Stop::Passed => format!("`{}` passes after {rounds} ({took})", r.command),
        Stop::NoProgress => format!(
            "`{}` still fails: round {} found nothing it could apply and keep ({took})",
            r.command,
            r.rounds.len()
        ),
        Stop::Rounds => format!("`{}` still fails after {rounds}, the limit ({took})", r.command),
        Stop::Time => format!("`{}` still fails: the time budget ran out ({took})", r.command),
        Stop::Quit => format!("`{}` still fails: stopped at your request ({took})", r.command),
        Stop::Worse => format!(
            "`{}` fails with more errors than at the start; every patch of this heal was rolled back ({took})",
            r.command
        ),
    };
    writeln!(out, "{headline}")?;
    for round in &r.rounds {
        let state = if round.passed {
            "passed".to_string()
        } else {
            plural(round.errors as u64, "error")
        };
        writeln!(
            out,
            "  round {} (session {}): {state}, {} tried, {}",
            round.number,
            round.session,
            plural(round.attempts.len() as u64, "patch"),
            format_duration(round.elapsed_ms)
        )?;
        for a in &round.attempts {
            writeln!(out, "    {} for {}: {}", a.patch, a.finding, a.outcome)?;
        }
    }
    if !r.fixed.is_empty() {
        writeln!(out, "fixed:")?;
        for a in &r.fixed {
            writeln!(out, "  {} {}", a.patch, a.message)?;
        }
    }
    if !r.undone.is_empty() {
        writeln!(out, "rolled back: {}", r.undone.join(", "))?;
    }
    if !r.remaining.is_empty() {
        writeln!(out, "still failing:")?;
        for f in &r.remaining {
            writeln!(out, "  {} {}", f.finding, f.message)?;
            writeln!(out, "     why not fixed: {}", f.why)?;
        }
    }
    if !r.fixed.is_empty() && r.undone.is_empty() {
        let undo: Vec<String> = r
            .fixed
            .iter()
            .rev()
            .map(|a| format!("`cars rollback {}`", a.patch))
            .collect();
        writeln!(out, "undo: {}", undo.join(", then "))?;
    }
    Ok(())
}
