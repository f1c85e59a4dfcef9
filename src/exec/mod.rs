//! The one process spawner: how cars starts a command (`shell`: `sh -c` in its own
//! process group, no stdin, piped output) and ends it (`signal_group`, `group_alive`:
//! TERM, a grace period, KILL of the whole group, zombies not counted). `run` drives
//! it to completion for validation, `cars run`, `cars heal` and commit hooks: lines
//! streamed as they arrive, a timeout, and a bounded wait for pipes a background
//! child keeps open. `cars watch`'s runner drives the same command asynchronously,
//! because a watch run is cancelled by the next file change. Depends on nothing in
//! the engine.

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
pub const GRACE: Duration = Duration::from_millis(500);
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
    let start = Instant::now();
    let mut child = shell(
        command,
        cwd,
        env.iter().map(|(k, v)| (k.as_str(), v.as_str())),
    )
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
                signal_group(pgid, libc::SIGKILL);
                status = Some(s);
                pipes_until = Some(Instant::now() + PIPE_GRACE);
            } else if deadline.is_some_and(|d| Instant::now() >= d) {
                timed_out = true;
                signal_group(pgid, libc::SIGTERM);
                let until = Instant::now() + GRACE;
                let mut reaped = None;
                while Instant::now() < until {
                    reaped = child.try_wait()?;
                    // With sh reaped, the group holds only what it started.
                    if reaped.is_some() && !group_alive(pgid) {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
                signal_group(pgid, libc::SIGKILL);
                status = Some(match reaped {
                    Some(s) => s,
                    None => child.wait()?,
                });
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

/// `sh -c command` in `cwd`, in a process group of its own (its id is sh's pid), with
/// no stdin and both outputs piped: how every command cars runs is started.
pub fn shell<'a>(
    command: &str,
    cwd: &Path,
    env: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Command {
    use std::os::unix::process::CommandExt;
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg(command)
        .current_dir(cwd)
        .envs(env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    c
}

/// Sends `signal` to the process group `pgid` (a group `shell` made).
pub fn signal_group(pgid: i32, signal: i32) {
    // SAFETY: kill(2) on the process group of our own child; ESRCH (the group is
    // already gone) is harmless.
    unsafe {
        libc::kill(-pgid, signal);
    }
}

/// Whether any process of the group is still running. Zombies do not count: an
/// orphan is reaped by PID 1, which in containers and VMs can take seconds, or never
/// happen when PID 1 does not reap at all.
pub fn group_alive(pgid: i32) -> bool {
    // SAFETY: signal 0 only checks whether the group exists.
    if unsafe { libc::kill(-pgid, 0) } != 0 {
        return false;
    }
    live_member(pgid).unwrap_or(true)
}

/// Scans /proc for a process of group `pgid` that is not a zombie; `None` where
/// /proc cannot tell.
#[cfg(target_os = "linux")]
fn live_member(pgid: i32) -> Option<bool> {
    let entries = std::fs::read_dir("/proc").ok()?;
    Some(entries.flatten().any(|entry| {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        else {
            return false;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            return false;
        };
        // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            return false;
        };
        let mut fields = rest.split_whitespace();
        let state = fields.next();
        let pgrp = fields.nth(1).and_then(|f| f.parse::<i32>().ok());
        pgrp == Some(pgid) && !matches!(state, Some("Z" | "X"))
    }))
}

#[cfg(not(target_os = "linux"))]
fn live_member(_pgid: i32) -> Option<bool> {
    None
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
