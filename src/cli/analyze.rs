//! `cars analyze`: read a log, find and rank its errors, print a report.

use super::Outcome;
use anyhow::Context;
use cars::analyze::{Matcher, Options};
use cars::log::{LogInput, Source};
use cars::report::{self, Filter, Format, Report, Style};
use cars::rules::model::Category;
use cars::rules::RuleSet;
use cars::store::SessionMeta;
use clap::{Args, ValueEnum};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    /// Findings table with a summary (default on a terminal)
    Table,
    /// The cars/analysis/v1 JSON document
    Json,
    /// Markdown for PR comments and job summaries
    Markdown,
    /// Plain text, one paragraph per finding (default when piped)
    Text,
    /// SARIF 2.1.0 for GitHub code scanning
    Sarif,
    /// GitHub Actions ::error annotations
    Github,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Table => Format::Table,
            FormatArg::Json => Format::Json,
            FormatArg::Markdown => Format::Markdown,
            FormatArg::Text => Format::Text,
            FormatArg::Sarif => Format::Sarif,
            FormatArg::Github => Format::Github,
        }
    }
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  cars analyze ci.log\n  gh run view 123 --log-failed | cars analyze -\n  \
cars analyze build.log.gz --format json\n  cars analyze failed.log --baseline passed.log\n  \
cars analyze ci.log --format github --min-confidence 0.5\n\n\
Exit status: 0 when no errors were found, 1 when errors were found, 2 on usage or input errors."
)]
pub struct AnalyzeArgs {
    /// The log to read: a file (plain or gzip, detected by content) or `-` for stdin
    pub log: String,

    /// Output format [default: table on a terminal, text otherwise]
    #[arg(short, long, value_enum)]
    pub format: Option<FormatArg>,

    /// The log of a passing run of the same job: lines that also occur there are noise
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<String>,

    /// Only report findings with at least this confidence (0 to 1)
    #[arg(long, value_name = "P", value_parser = parse_probability)]
    pub min_confidence: Option<f64>,

    /// Only report these categories (comma-separated or repeated), e.g. test,type
    #[arg(long, value_delimiter = ',', value_name = "CATEGORY")]
    pub category: Vec<Category>,

    /// Only report the N highest-ranked findings
    #[arg(long, value_name = "N")]
    pub top: Option<usize>,

    /// Extra rule files to load after the built-in, user and project rules
    #[arg(long = "rules", value_name = "FILE")]
    pub rule_files: Vec<PathBuf>,

    /// Write the report to FILE (atomically) instead of stdout
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Do not record this analysis as a session in the store
    #[arg(long)]
    pub no_save: bool,

    /// The command that produced the log; `cars apply` re-runs it to validate a fix
    #[arg(long, value_name = "CMD")]
    pub command: Option<String>,

    /// Threads for a large log: N-1 scan blocks while one analyzes (and a light one
    /// reads); the findings are the same as on one thread [default: the cores, at
    /// most 4, for a file over 8 MiB, else 1]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub threads: Option<u16>,
}

/// Past this many threads the one analyzing thread is the bottleneck, and each
/// scanner holds up to three blocks (3 MiB).
const DEFAULT_MAX_THREADS: usize = 4;

/// Inputs at least this large get all cores unless `--threads` says otherwise.
const THREADS_FROM_BYTES: u64 = 8 << 20;

fn threads_for(args: &AnalyzeArgs) -> usize {
    if let Some(n) = args.threads {
        return n as usize;
    }
    let large = args.log != "-"
        && std::fs::metadata(&args.log).is_ok_and(|m| m.len() >= THREADS_FROM_BYTES);
    if large {
        std::thread::available_parallelism().map_or(1, |n| n.get().min(DEFAULT_MAX_THREADS))
    } else {
        1
    }
}

fn parse_probability(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("`{s}` is not a number"))?;
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{v} is outside 0..=1"))
    }
}

pub fn run(args: AnalyzeArgs, store_dir: Option<&std::path::Path>) -> anyhow::Result<Outcome> {
    let started = std::time::Instant::now();
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let root = cars::store::locate(&cwd, store_dir).project_root;
    let config = crate::front::load_config(&root)?;
    let mut sources = crate::front::rule_sources(&root, &config);
    sources.extra_files = args.rule_files.clone();
    let rules = RuleSet::load(&sources).context("loading rules")?;
    let matcher = Matcher::new(&rules);
    let mut opts = Options::default();
    if let Some(b) = &args.baseline {
        let input = LogInput::open(&Source::parse(b)).context("reading the baseline log")?;
        opts.baseline = Some(matcher.baseline(input)?);
    }
    let input = LogInput::open(&Source::parse(&args.log))?;
    let analysis = matcher.analyze_threaded(input, &opts, threads_for(&args))?;
    if !args.no_save {
        let analysis_ms = started.elapsed().as_millis() as u64;
        // A whole-log analysis has all its findings when it ends.
        let meta = SessionMeta {
            command: args.command.clone(),
            analysis_ms,
            first_finding_ms: (!analysis.findings.is_empty()).then_some(analysis_ms),
            passed: None,
        };
        // The report matters more than the record: a store problem is a warning.
        match crate::front::open_store(store_dir)
            .and_then(|mut s| Ok(s.record_session(&analysis, &meta)?))
        {
            Ok(id) if std::io::stderr().is_terminal() && !analysis.findings.is_empty() => {
                eprintln!("cars: recorded session {id}; `cars patch` proposes fixes")
            }
            Ok(_) => {}
            Err(e) => eprintln!("cars: warning: session not recorded: {e:#}"),
        }
    }
    let filter = Filter {
        min_confidence: args.min_confidence,
        categories: args.category.clone(),
        top: args.top,
    };
    let report = Report::new(analysis, &filter).in_project(&root);
    let stdout = std::io::stdout();
    let to_terminal = args.output.is_none() && stdout.is_terminal();
    let format = args.format.map(Format::from).unwrap_or(if to_terminal {
        Format::Table
    } else {
        Format::Text
    });
    let style = Style {
        width: crate::front::table_width(to_terminal),
    };
    match &args.output {
        Some(path) => {
            crate::front::write_atomically(path, |out| report::write(&report, format, style, out))?
        }
        None => {
            let mut out = std::io::BufWriter::new(stdout.lock());
            report::write(&report, format, style, &mut out)?;
            out.flush()?;
        }
    }
    Ok(if report.has_errors() {
        Outcome::Found
    } else {
        Outcome::Clean
    })
}
