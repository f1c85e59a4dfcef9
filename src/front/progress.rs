//! Progress for long work: a spinner on stderr that appears only when the work takes
//! longer than a second and stderr is a terminal.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::mpsc;
use std::time::Duration;

const DELAY: Duration = Duration::from_secs(1);

/// Runs `work`, showing a spinner labelled `what` if it is still running after a
/// second.
pub fn while_running<T>(what: &str, work: impl FnOnce() -> T) -> T {
    if !std::io::stderr().is_terminal() {
        return work();
    }
    let (done, wait) = mpsc::channel::<()>();
    let label = what.to_string();
    let spinner = std::thread::spawn(move || {
        if wait.recv_timeout(DELAY).is_ok() {
            return;
        }
        let bar = spinner(&label);
        let _ = wait.recv();
        bar.finish_and_clear();
    });
    let result = work();
    let _ = done.send(());
    let _ = spinner.join();
    result
}

/// A ticking spinner on stderr (hidden when stderr is not a terminal).
pub fn spinner(message: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_message(message.to_string());
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}
