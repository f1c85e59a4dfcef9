//! Runs a validation command with a timeout through `crate::exec`, keeping only the
//! tail of its output. The runner is a trait so tests and front ends can substitute
//! their own.

use crate::exec::Stream;
use std::path::Path;
use std::time::Duration;

/// How a command ended.
#[derive(Debug, Clone)]
pub struct RunResult {
    pub success: bool,
    pub code: Option<i32>,
    pub timed_out: bool,
    pub elapsed: Duration,
    /// The last `KEEP_BYTES` of stdout, then of stderr.
    pub output: String,
}

/// Output kept per stream: enough for the analyzer to judge a validation run.
const KEEP_BYTES: usize = 4 << 20;

pub trait CommandRunner {
    fn run(&self, command: &str, cwd: &Path, timeout: Duration) -> std::io::Result<RunResult>;
}

/// Runs commands through `crate::exec`: `sh -c` in their own process group, the
/// group killed when the command ends or times out.
pub struct ShellRunner;

impl CommandRunner for ShellRunner {
    fn run(&self, command: &str, cwd: &Path, timeout: Duration) -> std::io::Result<RunResult> {
        let mut tails: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
        let exit = crate::exec::run(command, cwd, &[], Some(timeout), &mut |stream, line| {
            let tail = &mut tails[(stream == Stream::Stderr) as usize];
            tail.extend_from_slice(line);
            if tail.len() > 2 * KEEP_BYTES {
                tail.drain(..tail.len() - KEEP_BYTES);
            }
        })?;
        let mut output = Vec::new();
        for mut part in tails {
            if part.len() > KEEP_BYTES {
                part.drain(..part.len() - KEEP_BYTES);
            }
            output.extend(part);
        }
        Ok(RunResult {
            success: exit.success,
            code: exit.code,
            timed_out: exit.timed_out,
            elapsed: exit.elapsed,
            output: String::from_utf8_lossy(&output).into_owned(),
        })
    }
}
