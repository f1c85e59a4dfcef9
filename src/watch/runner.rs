//! Runs jobs on a private tokio runtime and streams their output as `RunEvent`s over
//! a std channel, so the UI thread only receives. Each job is started and ended the
//! way `exec` starts and ends every command (`exec::shell`, `exec::signal_group`,
//! `exec::group_alive`); this runner only adds what watching needs: a run cancelled
//! at any moment by the next file change, and backpressure to the screen.

use super::jobs::Job;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Sender, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// What a run did. `run` ids are unique across all jobs of a `Runner`, starting at 1.
#[derive(Debug, Clone, PartialEq)]
pub enum RunEvent {
    Started {
        job: usize,
        run: u64,
    },
    /// One line of output, without its `\n` (and `\r`), decoded lossily, at most
    /// `MAX_LINE` bytes (the rest of a longer line is dropped).
    Line {
        job: usize,
        run: u64,
        text: String,
        stderr: bool,
    },
    /// After every `Line` of the run. `code` is `None` when a signal ended it. A
    /// command `sh` cannot find ends here with code 127 (126: not executable) after
    /// sh's own "not found" line on stderr.
    Finished {
        job: usize,
        run: u64,
        success: bool,
        code: Option<i32>,
        elapsed: Duration,
    },
    /// `sh` could not be started at all, or the job's directory does not exist.
    FailedToStart {
        job: usize,
        run: u64,
        error: String,
    },
}

/// Where events go. A `SyncSender` (`sync_channel(n)`) gives backpressure all the
/// way to the job: when the receiver falls `n` events behind, the runner stops
/// reading the job's output until it catches up. With a `Sender` the channel itself
/// is unbounded, so the receiver must keep draining it.
pub enum EventSink {
    Unbounded(Sender<RunEvent>),
    Bounded(SyncSender<RunEvent>),
}

impl From<Sender<RunEvent>> for EventSink {
    fn from(tx: Sender<RunEvent>) -> Self {
        EventSink::Unbounded(tx)
    }
}

impl From<SyncSender<RunEvent>> for EventSink {
    fn from(tx: SyncSender<RunEvent>) -> Self {
        EventSink::Bounded(tx)
    }
}

/// The longest line delivered; a longer one is cut.
pub const MAX_LINE: usize = 64 * 1024;

use crate::exec::{group_alive, signal_group, GRACE};

/// How long a full bounded channel is left alone before delivery is tried again.
const FULL_RETRY: Duration = Duration::from_millis(2);

#[derive(Default)]
struct Slot {
    /// The run whose events are delivered; `None` once killed.
    run: Option<u64>,
    /// Tells the run's task to terminate its process group.
    cancel: Option<oneshot::Sender<()>>,
    /// The newest run's task, so the next run can wait for it to be gone.
    task: Option<JoinHandle<()>>,
}

struct Shared {
    slots: Mutex<HashMap<usize, Slot>>,
    sink: EventSink,
}

impl Shared {
    fn slots(&self) -> MutexGuard<'_, HashMap<usize, Slot>> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sends `events` of `run` in order, unless the run has been killed or restarted.
    /// The check and the send happen under the slots lock, so once `Runner::kill`
    /// has returned nothing more of that run is sent.
    async fn deliver(&self, job: usize, run: u64, events: impl IntoIterator<Item = RunEvent>) {
        let mut queue: VecDeque<RunEvent> = events.into_iter().collect();
        while !queue.is_empty() {
            {
                let slots = self.slots();
                if slots.get(&job).and_then(|s| s.run) != Some(run) {
                    return;
                }
                while let Some(event) = queue.pop_front() {
                    match &self.sink {
                        EventSink::Unbounded(tx) => {
                            if tx.send(event).is_err() {
                                return;
                            }
                        }
                        EventSink::Bounded(tx) => match tx.try_send(event) {
                            Ok(()) => {}
                            Err(TrySendError::Disconnected(_)) => return,
                            Err(TrySendError::Full(event)) => {
                                queue.push_front(event);
                                break;
                            }
                        },
                    }
                }
            }
            if !queue.is_empty() {
                tokio::time::sleep(FULL_RETRY).await;
            }
        }
    }
}

/// Runs jobs and reports what they do. Dropping it kills every run (SIGTERM, then
/// SIGKILL after 500 ms) and waits for them to be gone, so no job outlives it.
pub struct Runner {
    shared: Arc<Shared>,
    handle: tokio::runtime::Handle,
    next_run: AtomicU64,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Runner {
    /// Starts the runner's thread. Accepts a `Sender<RunEvent>` or a
    /// `SyncSender<RunEvent>` (see `EventSink`).
    ///
    /// # Panics
    /// When the OS refuses the runtime's thread or event loop (out of threads or
    /// file descriptors).
    pub fn new(events: impl Into<EventSink>) -> Runner {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .expect("cannot create the job runner's event loop");
        let handle = runtime.handle().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("cars-watch-runner".into())
            .spawn(move || {
                runtime.block_on(async {
                    let _ = stopped.await;
                });
            })
            .expect("cannot start the job runner's thread");
        Runner {
            shared: Arc::new(Shared {
                slots: Mutex::new(HashMap::new()),
                sink: events.into(),
            }),
            handle,
            next_run: AtomicU64::new(1),
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Starts (or restarts: kills the previous run of that job first) a job; returns
    /// its run id. Events of the previous run stop at once; the new process starts
    /// once the previous one's process group is gone (at most about 500 ms), so two
    /// runs of a job never compete for locks such as cargo's build directory.
    pub fn start(&self, job_index: usize, job: &Job, root: &Path) -> u64 {
        let run = self.next_run.fetch_add(1, Ordering::Relaxed);
        let spec = Spec {
            command: job.command.clone(),
            dir: job.dir(root),
            env: job.env.clone(),
        };
        let (cancel, cancelled) = oneshot::channel();
        let mut slots = self.shared.slots();
        let slot = slots.entry(job_index).or_default();
        if let Some(previous) = slot.cancel.take() {
            let _ = previous.send(());
        }
        let previous = slot.task.take();
        slot.run = Some(run);
        slot.cancel = Some(cancel);
        slot.task = Some(self.handle.spawn(run_job(
            self.shared.clone(),
            job_index,
            run,
            spec,
            previous,
            cancelled,
        )));
        run
    }

    /// Kills the job's current run (its whole process group: SIGTERM, then SIGKILL
    /// after 500 ms). Returns at once; no event of that run is sent after it returns,
    /// not even `Finished`.
    pub fn kill(&self, job_index: usize) {
        if let Some(slot) = self.shared.slots().get_mut(&job_index) {
            kill_slot(slot);
        }
    }

    pub fn kill_all(&self) {
        for slot in self.shared.slots().values_mut() {
            kill_slot(slot);
        }
    }
}

fn kill_slot(slot: &mut Slot) {
    slot.run = None;
    if let Some(cancel) = slot.cancel.take() {
        let _ = cancel.send(());
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        self.kill_all();
        // The tasks do the killing; wait for them (on our thread, the runtime keeps
        // running on its own) so that no job outlives the runner.
        let deadline = Instant::now() + GRACE + Duration::from_millis(1500);
        while Instant::now() < deadline
            && self
                .shared
                .slots()
                .values()
                .any(|s| s.task.as_ref().is_some_and(|t| !t.is_finished()))
        {
            std::thread::sleep(Duration::from_millis(5));
        }
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

struct Spec {
    command: String,
    dir: PathBuf,
    env: BTreeMap<String, String>,
}

async fn run_job(
    shared: Arc<Shared>,
    job: usize,
    run: u64,
    spec: Spec,
    previous: Option<JoinHandle<()>>,
    mut cancelled: oneshot::Receiver<()>,
) {
    if let Some(previous) = previous {
        let _ = previous.await;
    }
    // A closed channel counts too: the runner is gone.
    if !matches!(
        cancelled.try_recv(),
        Err(oneshot::error::TryRecvError::Empty)
    ) {
        return;
    }
    let failed = |error: String| RunEvent::FailedToStart { job, run, error };
    if !spec.dir.is_dir() {
        let error = format!("working directory {} does not exist", spec.dir.display());
        shared.deliver(job, run, [failed(error)]).await;
        return;
    }
    let env = spec.env.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    let mut command =
        tokio::process::Command::from(crate::exec::shell(&spec.command, &spec.dir, env));
    command.kill_on_drop(true);
    let start = Instant::now();
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            let error = format!("cannot start `sh -c {}`: {e}", spec.command);
            shared.deliver(job, run, [failed(error)]).await;
            return;
        }
    };
    // The group's id is sh's pid, valid until we reap sh.
    let pgid = child.id().map(|id| id as i32);
    shared
        .deliver(job, run, [RunEvent::Started { job, run }])
        .await;
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let outcome = {
        let work = async {
            tokio::join!(
                pump(&shared, job, run, stdout, false),
                pump(&shared, job, run, stderr, true)
            );
            child.wait().await
        };
        tokio::select! {
            status = work => Some(status),
            _ = &mut cancelled => None,
        }
    };
    let finished = |success, code| RunEvent::Finished {
        job,
        run,
        success,
        code,
        elapsed: start.elapsed(),
    };
    match outcome {
        Some(Ok(status)) => {
            let event = finished(status.success(), status.code());
            shared.deliver(job, run, [event]).await;
        }
        Some(Err(_)) => shared.deliver(job, run, [finished(false, None)]).await,
        None => terminate(&mut child, pgid).await,
    }
}

/// SIGTERM to the group; SIGKILL to whatever of it is left after `GRACE`.
async fn terminate(child: &mut tokio::process::Child, pgid: Option<i32>) {
    let Some(pgid) = pgid else {
        let _ = child.kill().await;
        return;
    };
    signal_group(pgid, libc::SIGTERM);
    let deadline = tokio::time::Instant::now() + GRACE;
    let reaped = tokio::time::timeout_at(deadline, child.wait())
        .await
        .is_ok();
    // With sh reaped, the group holds only what it started.
    while reaped && group_alive(pgid) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    if !reaped || group_alive(pgid) {
        signal_group(pgid, libc::SIGKILL);
    }
    let _ = child.wait().await;
}

/// Reads one stream to its end, delivering each chunk's complete lines at once.
async fn pump<R: AsyncRead + Unpin>(
    shared: &Shared,
    job: usize,
    run: u64,
    stream: Option<R>,
    stderr: bool,
) {
    let Some(mut stream) = stream else {
        return;
    };
    let mut buf = vec![0u8; 64 * 1024];
    let mut splitter = LineSplitter::default();
    let line = |text| RunEvent::Line {
        job,
        run,
        text,
        stderr,
    };
    loop {
        let n = match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let lines = splitter.push(&buf[..n]);
        if !lines.is_empty() {
            shared.deliver(job, run, lines.into_iter().map(line)).await;
        }
    }
    if let Some(last) = splitter.finish() {
        shared.deliver(job, run, [line(last)]).await;
    }
}

/// Splits a byte stream into lines: `\n` ends a line, one trailing `\r` is
/// dropped, bytes past `MAX_LINE` are dropped, invalid UTF-8 becomes U+FFFD.
#[derive(Default)]
struct LineSplitter {
    partial: Vec<u8>,
}

impl LineSplitter {
    fn push(&mut self, mut data: &[u8]) -> Vec<String> {
        let mut lines = Vec::new();
        while let Some(end) = memchr::memchr(b'\n', data) {
            self.keep(&data[..end]);
            lines.push(self.take());
            data = &data[end + 1..];
        }
        self.keep(data);
        lines
    }

    /// The last line when the stream did not end with `\n`.
    fn finish(&mut self) -> Option<String> {
        (!self.partial.is_empty()).then(|| self.take())
    }

    fn keep(&mut self, bytes: &[u8]) {
        let room = MAX_LINE.saturating_sub(self.partial.len());
        self.partial
            .extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    fn take(&mut self) -> String {
        let mut line = std::mem::take(&mut self.partial);
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        match String::from_utf8(line) {
            Ok(text) => text,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_lines_across_chunks() {
        let mut s = LineSplitter::default();
        assert_eq!(s.push(b"ab"), Vec::<String>::new());
        assert_eq!(s.push(b"c\r\nd\n\ne"), ["abc", "d", ""]);
        assert_eq!(s.push(b"f\r"), Vec::<String>::new());
        assert_eq!(s.finish().as_deref(), Some("ef"));
        assert_eq!(s.finish(), None);
    }

    #[test]
    fn keeps_inner_carriage_returns_and_decodes_lossily() {
        let mut s = LineSplitter::default();
        assert_eq!(s.push(b"10%\r20%\r\n"), ["10%\r20%"]);
        assert_eq!(s.push(b"caf\xc3\xa9 \xff\n"), ["caf\u{e9} \u{fffd}"]);
    }

    #[test]
    fn caps_long_lines() {
        let mut s = LineSplitter::default();
        let long = vec![b'x'; MAX_LINE + 10];
        assert!(s.push(&long).is_empty());
        assert!(s.push(&long).is_empty());
        let lines = s.push(b"yy\nnext\n");
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].len(), MAX_LINE);
        assert!(lines[0].bytes().all(|b| b == b'x'));
        assert_eq!(lines[1], "next");
    }
}
