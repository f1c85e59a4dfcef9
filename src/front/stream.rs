//! How the terminal front ends show a command the engine runs (`Session::run`): its
//! output passed on (tee), above a spinner with live counts on a terminal, else its
//! stdout to ours and its stderr to ours.

use cars::exec::Stream;
use std::io::{IsTerminal, Write};

/// A line handler for `Session::run` that tees the output; `finish` clears the spinner.
pub struct Tee {
    command: String,
    bar: indicatif::ProgressBar,
    on_terminal: bool,
    lines: u64,
}

impl Tee {
    pub fn new(command: &str) -> Tee {
        Tee {
            command: command.to_string(),
            bar: super::progress::spinner(&format!("running `{command}`")),
            on_terminal: std::io::stderr().is_terminal(),
            lines: 0,
        }
    }

    pub fn line(&mut self, stream: Stream, line: &[u8], found: usize) {
        self.lines += 1;
        if self.on_terminal {
            self.bar.println(String::from_utf8_lossy(line).trim_end());
        } else {
            // A closed pipe downstream must not stop the command or its analysis.
            let _ = match stream {
                Stream::Stdout => std::io::stdout().write_all(line),
                Stream::Stderr => std::io::stderr().write_all(line),
            };
        }
        self.bar.set_message(format!(
            "running `{}`: {}, {} so far",
            self.command,
            cars::report::plural(self.lines, "line"),
            cars::report::plural(found as u64, "finding")
        ));
    }

    pub fn finish(self) {
        let _ = std::io::stdout().flush();
        self.bar.finish_and_clear();
    }
}
