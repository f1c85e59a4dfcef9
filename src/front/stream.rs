//! Running a command through the engine's spawner with its output passed on (tee)
//! and analyzed line by line as it arrives.

use cars::analyze::{Analysis, Analyzer, Matcher, Options};
use std::io::IsTerminal;
use std::path::Path;
use std::time::{Duration, Instant};

/// What a streamed command produced.
pub struct Streamed {
    pub success: bool,
    pub elapsed: Duration,
    pub lines: u64,
    pub analysis: Analysis,
    /// Milliseconds from the start until the analyzer had its first finding.
    pub first_finding_ms: Option<u64>,
}

/// Runs `command` in `dir` through the engine's spawner, feeding each line to the
/// analyzer as it arrives. The command's output is passed on (tee): above a spinner
/// with live counts on a terminal, else its stdout to ours and its stderr to ours.
/// Memory stays bounded by the analyzer's caps, whatever the command prints.
pub fn stream(command: &str, dir: &Path, matcher: &Matcher) -> anyhow::Result<Streamed> {
    use cars::exec::Stream;
    use std::io::Write;
    let started = Instant::now();
    let bar = super::progress::spinner(&format!("running `{command}`"));
    let on_terminal = std::io::stderr().is_terminal();
    let opts = Options::default();
    let mut analyzer = Analyzer::new(matcher, &opts, format!("`{command}`"));
    let (mut lines, mut first_finding_ms) = (0u64, None);
    let (mut stdout, mut stderr) = (std::io::stdout(), std::io::stderr());
    let exit = cars::exec::run(command, dir, &[], None, &mut |stream, line| {
        lines += 1;
        if on_terminal {
            bar.println(String::from_utf8_lossy(line).trim_end());
        } else {
            // A closed pipe downstream must not stop the command or its analysis.
            let _ = match stream {
                Stream::Stdout => stdout.write_all(line),
                Stream::Stderr => stderr.write_all(line),
            };
        }
        if line.ends_with(b"\n") {
            analyzer.feed(line);
        } else {
            analyzer.feed(&[line, b"\n"].concat());
        }
        let found = analyzer.candidates();
        if found > 0 {
            first_finding_ms.get_or_insert(started.elapsed().as_millis() as u64);
        }
        bar.set_message(format!(
            "running `{command}`: {}, {} so far",
            cars::report::plural(lines, "line"),
            cars::report::plural(found as u64, "finding")
        ));
    })
    .map_err(|e| anyhow::anyhow!("cannot run `{command}`: {e}"))?;
    let _ = stdout.flush();
    bar.finish_and_clear();
    Ok(Streamed {
        success: exit.success,
        elapsed: exit.elapsed,
        lines,
        analysis: analyzer.finish(),
        first_finding_ms,
    })
}
