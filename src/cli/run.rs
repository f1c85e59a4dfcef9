//! `cars run CMD`: run a command, stream its output with a live count, then analyze
//! it and record the session with the command (so `cars apply` validates with it).

use super::workspace::Workspace;
use super::Outcome;
use cars::analyze::{Analysis, Analyzer, Matcher, Options};
use clap::Args;
use std::io::{BufRead, BufReader, IsTerminal, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  cars run cargo test\n  cars run -- npm test -- --ci\n  \
cars run \"make -j4 check\"\n\nThe output is analyzed line by line while the command runs; the \
session records the command, so `cars apply` re-runs it to validate a fix."
)]
pub struct RunArgs {
    /// The command and its arguments (run with `sh -c`)
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

pub fn run(args: RunArgs, store_dir: Option<&Path>) -> anyhow::Result<Outcome> {
    let command = args.command.join(" ");
    let mut ws = Workspace::open(store_dir, None, std::io::stdout().is_terminal())?;
    let mut out = std::io::stdout().lock();
    ws.run(&command, &mut out)?;
    let errors = ws
        .findings()?
        .iter()
        .any(|f| f.level == cars::rules::model::Level::Error);
    Ok(if errors {
        Outcome::Found
    } else {
        Outcome::Clean
    })
}

/// What a streamed command produced.
pub struct Streamed {
    pub success: bool,
    pub elapsed: Duration,
    pub lines: u64,
    pub analysis: Analysis,
    /// Milliseconds from the start until the analyzer had its first finding.
    pub first_finding_ms: Option<u64>,
}

/// Runs `command` in `dir`, feeding each line to the analyzer as it arrives and
/// echoing it above a spinner with live counts (on a terminal). Memory stays bounded
/// by the analyzer's caps, whatever the command prints.
pub fn stream(command: &str, dir: &Path, matcher: &Matcher) -> anyhow::Result<Streamed> {
    let started = Instant::now();
    let mut child = Command::new("sh")
        .args(["-c", command])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| anyhow::anyhow!("cannot run `{command}`: {e}"))?;
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    let pipes: Vec<Box<dyn Read + Send>> = vec![
        Box::new(child.stdout.take().expect("piped stdout")),
        Box::new(child.stderr.take().expect("piped stderr")),
    ];
    let readers: Vec<_> = pipes
        .into_iter()
        .map(|pipe| {
            let tx = tx.clone();
            std::thread::spawn(move || {
                let mut r = BufReader::new(pipe);
                let mut line = Vec::new();
                while r.read_until(b'\n', &mut line).unwrap_or(0) > 0 {
                    if tx.send(std::mem::take(&mut line)).is_err() {
                        break;
                    }
                }
            })
        })
        .collect();
    drop(tx);
    let bar = super::progress::spinner(&format!("running `{command}`"));
    let echo = std::io::stderr().is_terminal();
    let opts = Options::default();
    let mut analyzer = Analyzer::new(matcher, &opts, format!("`{command}`"));
    let (mut lines, mut first_finding_ms) = (0u64, None);
    for mut line in rx {
        lines += 1;
        if echo {
            bar.println(String::from_utf8_lossy(&line).trim_end());
        }
        if !line.ends_with(b"\n") {
            line.push(b'\n');
        }
        analyzer.feed(&line);
        let found = analyzer.candidates();
        if found > 0 {
            first_finding_ms.get_or_insert(started.elapsed().as_millis() as u64);
        }
        bar.set_message(format!(
            "running `{command}`: {}, {} so far",
            cars::report::plural(lines, "line"),
            cars::report::plural(found as u64, "finding")
        ));
    }
    for r in readers {
        let _ = r.join();
    }
    let status = child.wait()?;
    bar.finish_and_clear();
    Ok(Streamed {
        success: status.success(),
        elapsed: started.elapsed(),
        lines,
        analysis: analyzer.finish(),
        first_finding_ms,
    })
}
