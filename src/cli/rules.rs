//! `cars rules list` and `cars rules check FILE`.

use super::Outcome;
use anyhow::Context;
use cars::analyze::check::check_samples;
use cars::rules::model::Category;
use cars::rules::{read_rule_file, validate, RuleSet, RuleSources};
use clap::Subcommand;
use comfy_table::{presets::UTF8_FULL_CONDENSED, ContentArrangement, Table};
use std::collections::HashSet;
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List the rules in effect (built-in, user and project rules)
    List {
        /// Only rules for this tool (e.g. rustc, pytest, tsc)
        #[arg(long)]
        tool: Option<String>,
        /// Only rules of this category
        #[arg(long)]
        category: Option<Category>,
        /// Print one JSON object per rule instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Validate a rule file: TOML, regexes, captures, and each rule's samples
    Check {
        /// The rule file(s) to check
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// The most frequent unknown errors of recorded sessions, clustered by template;
    /// --write drafts rules for them in .cars/patterns/suggested.toml
    Suggest {
        /// Only clusters seen at least this often
        #[arg(long, default_value_t = 2, value_name = "N")]
        min: usize,
        /// Write draft rules (TOML with samples) and check them
        #[arg(long)]
        write: bool,
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
}

pub fn run(cmd: RulesCommand) -> anyhow::Result<Outcome> {
    match cmd {
        RulesCommand::List {
            tool,
            category,
            json,
        } => list(tool, category, json),
        RulesCommand::Check { files } => check(files),
        RulesCommand::Suggest { min, write, json } => suggest(min, write, json),
    }
}

fn suggest(min: usize, write: bool, json: bool) -> anyhow::Result<Outcome> {
    let cwd = std::env::current_dir()?;
    let session = crate::front::open_session(&cwd, None)?;
    let suggestions: Vec<_> = session
        .suggest_rules()?
        .into_iter()
        .filter(|s| s.cluster.count >= min)
        .collect();
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &serde_json::json!({ "clusters": suggestions }))?;
        writeln!(out)?;
    } else if suggestions.is_empty() {
        writeln!(
            out,
            "No unknown error seen {min} times or more in the recorded sessions ({} checked).",
            cars::report::plural(session.store.sessions()?.len() as u64, "session")
        )?;
    }
    if !json {
        for (i, s) in suggestions.iter().enumerate() {
            writeln!(
                out,
                "{}. {} ({} times in {}; category {}; {} of {} stored lines outside it match)",
                i + 1,
                s.template,
                s.cluster.count,
                cars::report::plural(s.cluster.sessions as u64, "session"),
                s.category,
                s.false_matches,
                s.lines_tested
            )?;
            for e in &s.cluster.examples {
                writeln!(out, "     {}", e.trim())?;
            }
        }
    }
    if write && !suggestions.is_empty() {
        let dir = session.root().join(".cars/patterns");
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let path = dir.join("suggested.toml");
        let text = cars::session::suggest::draft_rules(&suggestions);
        crate::front::write_atomically(&path, |w| w.write_all(text.as_bytes()))?;
        writeln!(out, "wrote {}; checking it:", path.display())?;
        drop(out);
        return check(vec![path]);
    }
    Ok(Outcome::Clean)
}

fn list(tool: Option<String>, category: Option<Category>, json: bool) -> anyhow::Result<Outcome> {
    let cwd = std::env::current_dir()?;
    let root = cars::store::locate(&cwd, None).project_root;
    let config = crate::front::load_config(&root)?;
    let rules = RuleSet::load(&crate::front::rule_sources(&root, &config))?;
    let selected = rules.rules.iter().filter(|r| {
        tool.as_deref()
            .is_none_or(|t| r.spec.tool.eq_ignore_ascii_case(t))
            && category.is_none_or(|c| r.spec.category == c)
    });
    let mut out = std::io::stdout().lock();
    if json {
        for r in selected {
            let v = serde_json::json!({
                "id": r.spec.id, "tool": r.spec.tool, "category": r.spec.category,
                "severity": r.spec.severity, "level": r.spec.level,
                "confidence": r.spec.confidence, "origin": r.origin,
            });
            writeln!(out, "{v}")?;
        }
        return Ok(Outcome::Clean);
    }
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(["id", "tool", "category", "severity", "confidence"]);
    let mut n = 0;
    for r in selected {
        n += 1;
        table.add_row([
            r.spec.id.clone(),
            r.spec.tool.clone(),
            r.spec.category.to_string(),
            r.spec.severity.to_string(),
            format!("{:.2}", r.spec.confidence),
        ]);
    }
    writeln!(out, "{table}")?;
    writeln!(out, "{n} rules")?;
    Ok(Outcome::Clean)
}

fn check(files: Vec<PathBuf>) -> anyhow::Result<Outcome> {
    let mut ids = HashSet::new();
    let mut errors = 0usize;
    let mut total = 0usize;
    let mut out = std::io::stdout().lock();
    for file in &files {
        let (name, specs) = read_rule_file(file)?;
        for spec in &specs {
            total += 1;
            if let Err(e) = validate(spec, &name) {
                writeln!(out, "error: {e}")?;
                errors += 1;
            }
            ids.insert(spec.id.clone());
        }
    }
    if errors == 0 {
        // Samples run against the full library with these files loaded last, so a
        // sample also fails when a built-in rule would win its line.
        let sources = RuleSources {
            extra_files: files.clone(),
            ..RuleSources::default()
        };
        let rules = RuleSet::load(&sources).context("loading rules")?;
        for p in check_samples(&rules, &|id| ids.contains(id)) {
            writeln!(
                out,
                "error: {}: rule `{}`: {}\n    sample: {}",
                p.origin, p.rule, p.problem, p.line
            )?;
            errors += 1;
        }
    }
    if errors > 0 {
        anyhow::bail!(
            "{} in {}",
            cars::report::plural(errors as u64, "problem"),
            cars::report::plural(total as u64, "rule")
        );
    }
    writeln!(
        out,
        "ok: {} valid, all samples match",
        cars::report::plural(total as u64, "rule")
    )?;
    Ok(Outcome::Clean)
}
