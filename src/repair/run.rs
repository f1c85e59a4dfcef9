//! Runs a validation command (`sh -c`) with a timeout, keeping only the tail of its
//! output. The runner is a trait so tests and front ends can substitute their own.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use wait_timeout::ChildExt;

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

pub trait Runner {
    fn run(&self, command: &str, cwd: &Path, timeout: Duration) -> std::io::Result<RunResult>;
}

/// Runs commands through `sh -c` in their own process group, so a timeout kills
/// everything they started.
pub struct ShellRunner;

impl Runner for ShellRunner {
    fn run(&self, command: &str, cwd: &Path, timeout: Duration) -> std::io::Result<RunResult> {
        use std::os::unix::process::CommandExt;
        let start = Instant::now();
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(command)
            .current_dir(cwd)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()?;
        let readers: Vec<_> = [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        ]
        .into_iter()
        .flatten()
        .map(|mut r| {
            std::thread::spawn(move || {
                let mut tail: Vec<u8> = Vec::new();
                let mut buf = [0u8; 8192];
                while let Ok(n) = r.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    tail.extend_from_slice(&buf[..n]);
                    if tail.len() > 2 * KEEP_BYTES {
                        tail.drain(..tail.len() - KEEP_BYTES);
                    }
                }
                tail
            })
        })
        .collect();
        let status = child.wait_timeout(timeout)?;
        let timed_out = status.is_none();
        let status = match status {
            Some(s) => s,
            None => {
                // SAFETY: kill(2) on our own child's process group.
                unsafe {
                    libc::kill(-(child.id() as i32), libc::SIGKILL);
                }
                child.wait()?
            }
        };
        let mut output = Vec::new();
        for r in readers {
            let mut part = r.join().unwrap_or_default();
            if part.len() > KEEP_BYTES {
                part.drain(..part.len() - KEEP_BYTES);
            }
            output.extend(part);
        }
        Ok(RunResult {
            success: status.success() && !timed_out,
            code: status.code(),
            timed_out,
            elapsed: start.elapsed(),
            output: String::from_utf8_lossy(&output).into_owned(),
        })
    }
}
