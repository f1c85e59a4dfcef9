//! Runs a validation command (`sh -c`) with a timeout, keeping only the tail of its
//! output. When the command ends, whatever it left running in its process group is
//! killed, and the wait for its output is bounded by the same timeout, so a
//! background child holding the pipe cannot hang cars. The runner is a trait so tests
//! and front ends can substitute their own.

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
        let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
        let mut streams = 0;
        for r in [
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
        {
            let (mut r, tx) = (r, tx.clone());
            streams += 1;
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
                let _ = tx.send(tail);
            });
        }
        drop(tx);
        let status = child.wait_timeout(timeout)?;
        let timed_out = status.is_none();
        // The command is done (or out of time): nothing it started may outlive it.
        // SAFETY: kill(2) on the process group of our own child; ESRCH (group
        // already gone) is harmless.
        unsafe {
            libc::kill(-(child.id() as i32), libc::SIGKILL);
        }
        let status = match status {
            Some(s) => s,
            None => child.wait()?,
        };
        // A grandchild that left the group (setsid) may still hold a pipe open: wait
        // for the output no longer than the timeout allows, then go on without it.
        let deadline = start + timeout.max(Duration::from_secs(1));
        let mut output = Vec::new();
        for _ in 0..streams {
            let left = deadline.saturating_duration_since(Instant::now());
            let Ok(mut part) = rx.recv_timeout(left.max(Duration::from_millis(200))) else {
                break;
            };
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
