//! The one process spawner for commands cars runs to completion (validation, `cars
//! run`, commit hooks): `sh -c` in its own process group, its lines streamed to the
//! caller as they arrive, a timeout, and a group kill (TERM, a grace period, KILL) so
//! nothing it started outlives it. The wait for its pipes is bounded, so a background
//! child that keeps them open cannot hang cars. Depends on nothing in the engine.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Which pipe a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// How a command ended.
#[derive(Debug, Clone)]
pub struct Exit {
    pub success: bool,
    pub code: Option<i32>,
    pub timed_out: bool,
    pub elapsed: Duration,
}

/// After TERM, how long the group has before KILL.
const GRACE: Duration = Duration::from_millis(500);
/// After the command exited, how long its pipes may stay open.
const PIPE_GRACE: Duration = Duration::from_secs(1);
/// Lines longer than this are cut (the rest of the line is dropped).
pub const MAX_LINE: usize = 1 << 20;

/// Runs `command` with `sh -c` in `cwd` and calls `on_line` for each line (with its
/// `\n`, if it had one) in arrival order. `timeout`: kill the group when it passes.
pub fn run(
    command: &str,
    cwd: &Path,
    env: &[(String, String)],
    timeout: Option<Duration>,
    on_line: &mut dyn FnMut(Stream, &[u8]),
) -> std::io::Result<Exit> {
    use std::os::unix::process::CommandExt;
    let start = Instant::now();
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .current_dir(cwd)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()?;
    let pgid = child.id() as i32;
    let (tx, rx) = mpsc::channel::<(Stream, Vec<u8>)>();
    let pipes: [(Stream, Option<Box<dyn Read + Send>>); 2] = [
        (
            Stream::Stdout,
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        ),
        (
            Stream::Stderr,
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        ),
    ];
    for (stream, pipe) in pipes {
        let Some(pipe) = pipe else { continue };
        let tx = tx.clone();
        std::thread::spawn(move || {
            let mut r = BufReader::with_capacity(64 << 10, pipe);
            let mut line = Vec::new();
            loop {
                line.clear();
                match r
                    .by_ref()
                    .take(MAX_LINE as u64)
                    .read_until(b'\n', &mut line)
                {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
                if line.len() >= MAX_LINE && !line.ends_with(b"\n") {
                    // Skip the rest of an over-long line.
                    let mut rest = Vec::new();
                    let _ = r.read_until(b'\n', &mut rest);
                    line.push(b'\n');
                }
                if tx.send((stream, std::mem::take(&mut line))).is_err() {
                    break;
                }
            }
        });
    }
    drop(tx);
    let deadline = timeout.map(|t| start + t);
    let mut status: Option<ExitStatus> = None;
    let mut timed_out = false;
    let mut pipes_until = None;
    loop {
        match rx.recv_timeout(Duration::from_millis(20)) {
            Ok((stream, line)) => {
                on_line(stream, &line);
                continue;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) if status.is_some() => break,
            Err(_) => {}
        }
        if status.is_none() {
            if let Some(s) = child.try_wait()? {
                // The command is done: nothing it started may outlive it.
                kill_group(pgid, libc::SIGKILL);
                status = Some(s);
                pipes_until = Some(Instant::now() + PIPE_GRACE);
            } else if deadline.is_some_and(|d| Instant::now() >= d) {
                timed_out = true;
                kill_group(pgid, libc::SIGTERM);
                let until = Instant::now() + GRACE;
                while Instant::now() < until && child.try_wait()?.is_none() {
                    std::thread::sleep(Duration::from_millis(10));
                }
                kill_group(pgid, libc::SIGKILL);
                status = Some(child.wait()?);
                pipes_until = Some(Instant::now() + PIPE_GRACE);
            }
        }
        if pipes_until.is_some_and(|u| Instant::now() >= u) {
            break;
        }
    }
    while let Ok((stream, line)) = rx.try_recv() {
        on_line(stream, &line);
    }
    let status = status.expect("the loop ends only once the command has exited");
    Ok(Exit {
        success: status.success() && !timed_out,
        code: status.code(),
        timed_out,
        elapsed: start.elapsed(),
    })
}

fn kill_group(pgid: i32, signal: i32) {
    // SAFETY: kill(2) on the process group of our own child; ESRCH (the group is
    // already gone) is harmless.
    unsafe {
        libc::kill(-pgid, signal);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(cmd: &str, timeout: Option<Duration>) -> (Vec<(Stream, String)>, Exit) {
        let mut out = Vec::new();
        let exit = run(cmd, Path::new("."), &[], timeout, &mut |s, l| {
            out.push((s, String::from_utf8_lossy(l).into_owned()))
        })
        .unwrap();
        (out, exit)
    }

    #[test]
    fn lines_of_both_streams_arrive_and_the_exit_code_is_kept() {
        let (out, exit) = lines("echo a; echo b >&2; printf c; exit 3", None);
        assert!(out.contains(&(Stream::Stdout, "a\n".into())));
        assert!(out.contains(&(Stream::Stderr, "b\n".into())));
        assert!(out.contains(&(Stream::Stdout, "c".into())));
        assert_eq!(
            (exit.success, exit.code, exit.timed_out),
            (false, Some(3), false)
        );
    }

    #[test]
    fn a_background_child_holding_the_pipe_does_not_hang_the_run() {
        let started = Instant::now();
        let (_, exit) = lines("sleep 30 & echo started", Some(Duration::from_secs(20)));
        assert!(exit.success);
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn a_timeout_kills_the_whole_group() {
        let started = Instant::now();
        let (_, exit) = lines("sleep 30; echo never", Some(Duration::from_millis(300)));
        assert!(exit.timed_out && !exit.success);
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}
