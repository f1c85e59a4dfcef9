//! The `cars` binary: parses arguments, dispatches to a subcommand, and maps errors
//! to exit codes (0 clean, 1 errors found, 2 usage or input error).

mod cli;
mod front;
mod repl;
#[cfg(feature = "serve")]
mod serve;
mod tui;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::run()
}
