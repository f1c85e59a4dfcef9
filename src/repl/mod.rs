//! `cars session`: an interactive debugging session. On a terminal it is a rustyline
//! REPL (history kept in the store, tab completion of commands, finding and patch ids
//! and paths); otherwise it reads one command per line from stdin, echoing each, so a
//! session can be scripted and its transcript tested. Every command calls the same
//! `Workspace` action as its subcommand.

mod complete;

use crate::front::workspace::Workspace;
use std::io::{BufRead, Write};

/// Commands, their argument synopsis and one line of help.
pub const COMMANDS: &[(&str, &str, &str)] = &[
    (
        "analyze",
        "<file>",
        "analyze a log (file, - for stdin, .gz) and start a session on it",
    ),
    (
        "run",
        "<command>",
        "run a command, stream its output, then analyze it",
    ),
    (
        "list",
        "[category|severity|step]",
        "the findings, root cause first, or grouped",
    ),
    (
        "show",
        "<E#>",
        "a finding's log excerpt and the source lines it points at",
    ),
    ("explain", "<E#>", "what a finding means and the usual fix"),
    (
        "label",
        "<E#> <category>",
        "correct a finding's category (`cars learn train` learns it)",
    ),
    (
        "patch",
        "<E#...|all>",
        "propose fixes for findings (all by default)",
    ),
    ("diff", "<P#>", "a patch's diff, origin and confidence"),
    (
        "approve",
        "<P#> [force]",
        "apply a patch, validate it with the session's command, commit if --commit",
    ),
    (
        "reject",
        "<P#> [reason]",
        "reject a patch, with an optional reason",
    ),
    (
        "rollback",
        "<P#|last>",
        "undo an applied patch, byte for byte",
    ),
    ("stats", "", "success rates by category, rule and strategy"),
    (
        "export",
        "<markdown|json|text> [file]",
        "write a report of this session",
    ),
    ("help", "[command]", "this list, or one command's help"),
    ("quit", "", "leave the session (Ctrl-D works too)"),
];

/// Whether the loop goes on.
#[derive(Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Quit,
}

/// Runs one command line against the workspace, writing its answer to `out`.
/// Errors are the command's own (bad id, no session...): the caller prints them and
/// the session goes on.
pub fn execute(ws: &mut Workspace, line: &str, out: &mut dyn Write) -> anyhow::Result<Flow> {
    let words = split(line);
    let Some((cmd, args)) = words.split_first() else {
        return Ok(Flow::Continue);
    };
    let arg = |i: usize| args.get(i).map(String::as_str);
    let need = |i: usize, what: &str| {
        arg(i).ok_or_else(|| anyhow::anyhow!("`{cmd}` needs {what}; `help {cmd}` shows how"))
    };
    match cmd.as_str() {
        "analyze" => ws.analyze(need(0, "a log file")?, None, out)?,
        "run" => {
            if args.is_empty() {
                anyhow::bail!("`run` needs a command, e.g. `run cargo test`");
            }
            ws.run(&args.join(" "), out)?
        }
        "list" | "ls" => ws.list(arg(0), out)?,
        "show" => ws.show(need(0, "a finding id like E1")?, out)?,
        "explain" => ws.explain(need(0, "a finding id like E1")?, out)?,
        "label" => {
            let id = need(0, "a finding id like E1")?;
            let category = need(1, "a category such as network")?
                .parse()
                .map_err(anyhow::Error::msg)?;
            ws.label(id, category, out)?
        }
        "patch" => {
            let ids: Vec<String> = args.iter().filter(|a| *a != "all").cloned().collect();
            ws.patch(&ids, out)?
        }
        "diff" => ws.diff(need(0, "a patch id like P1")?, out)?,
        "approve" | "apply" => {
            let force = args.iter().any(|a| a == "force" || a == "--force");
            ws.approve(need(0, "a patch id like P1")?, force, out)?;
        }
        "reject" => {
            let reason = args[1.min(args.len())..].join(" ");
            ws.reject(
                need(0, "a patch id like P1")?,
                (!reason.is_empty()).then_some(reason.as_str()),
                out,
            )?
        }
        "rollback" | "undo" => {
            let target = need(0, "a patch id like P1, or `last`")?;
            let force = args.iter().any(|a| a == "force" || a == "--force");
            ws.rollback((target != "last").then_some(target), force, out)?
        }
        "stats" => ws.stats(out)?,
        "export" => {
            let format = need(0, "a format: markdown, json or text")?;
            export(ws, format, arg(1).map(std::path::Path::new), out)?
        }
        "help" | "?" => help(arg(0), out)?,
        "quit" | "exit" | "q" => return Ok(Flow::Quit),
        other => anyhow::bail!("unknown command `{other}`; `help` lists the commands"),
    }
    Ok(Flow::Continue)
}

/// `export <format> [file]`: the session report to a file (atomically) or the output.
fn export(
    ws: &mut Workspace,
    format: &str,
    file: Option<&std::path::Path>,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    use cars::report::session::{self, ExportFormat, SessionReport};
    let format = match format {
        "markdown" | "md" => ExportFormat::Markdown,
        "json" => ExportFormat::Json,
        "text" | "txt" => ExportFormat::Text,
        other => anyhow::bail!("no export format `{other}`: markdown, json or text"),
    };
    let report = SessionReport::load(ws.store(), ws.session()?)?;
    match file {
        Some(path) => {
            crate::front::write_atomically(path, |w| session::write(&report, format, w))?;
            writeln!(out, "wrote {}", path.display())?;
        }
        None => session::write(&report, format, out)?,
    }
    Ok(())
}

fn help(command: Option<&str>, out: &mut dyn Write) -> anyhow::Result<()> {
    match command {
        Some(c) => match COMMANDS.iter().find(|(name, _, _)| *name == c) {
            Some((name, args, text)) => writeln!(out, "{name} {args}\n  {text}")?,
            None => anyhow::bail!("no command `{c}`; `help` lists them"),
        },
        None => {
            for (name, args, text) in COMMANDS {
                writeln!(out, "  {:<34} {text}", format!("{name} {args}"))?;
            }
            writeln!(
                out,
                "A typical fix: list, show E1, patch, diff P1, approve P1. Every command is also `cars <command>`."
            )?;
        }
    }
    Ok(())
}

/// Splits a command line into words; double or single quotes group words.
fn split(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote = None;
    let mut any = false;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                any = true;
            }
            (None, c) if c.is_whitespace() => {
                if any || !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                    any = false;
                }
            }
            (None, c) => word.push(c),
        }
    }
    if any || !word.is_empty() {
        words.push(word);
    }
    words
}

fn prompt(ws: &Workspace) -> String {
    match ws.current() {
        Some(s) => format!("cars[{s}]> "),
        None => "cars> ".to_string(),
    }
}

/// Reads commands from `input` (not a terminal): each is echoed after the prompt,
/// then answered; an error is printed and the script goes on. Returns whether every
/// command succeeded.
pub fn run_script(
    ws: &mut Workspace,
    input: impl BufRead,
    out: &mut dyn Write,
) -> anyhow::Result<bool> {
    let mut ok = true;
    for line in input.lines() {
        let line = line?;
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        writeln!(out, "{}{trimmed}", prompt(ws))?;
        match execute(ws, trimmed, out) {
            Ok(Flow::Quit) => break,
            Ok(Flow::Continue) => {}
            Err(e) => {
                ok = false;
                writeln!(out, "error: {e:#}")?;
            }
        }
    }
    Ok(ok)
}

/// The interactive loop on a terminal.
pub fn run_interactive(
    ws: &mut Workspace,
    history: &std::path::Path,
    continuing: bool,
) -> anyhow::Result<()> {
    use rustyline::error::ReadlineError;
    let config = rustyline::Config::builder()
        .auto_add_history(true)
        .completion_type(rustyline::CompletionType::List)
        .max_history_size(2000)?
        .build();
    let mut editor: rustyline::Editor<complete::Helper, rustyline::history::FileHistory> =
        rustyline::Editor::with_config(config)?;
    editor.set_helper(Some(complete::Helper::new(ws)));
    let _ = editor.load_history(history);
    let mut out = std::io::stdout();
    writeln!(
        out,
        "cars session: `help` lists the commands, Tab completes, Ctrl-D quits."
    )?;
    if let (Some(s), true) = (ws.current(), continuing) {
        writeln!(out, "continuing session {s}; `list` shows its findings.")?;
    }
    loop {
        match editor.readline(&prompt(ws)) {
            Ok(line) => {
                let result = execute(ws, &line, &mut out);
                if let Some(h) = editor.helper_mut() {
                    h.refresh(ws);
                }
                match result {
                    Ok(Flow::Quit) => break,
                    Ok(Flow::Continue) => {}
                    Err(e) => writeln!(out, "\x1b[31merror:\x1b[0m {e:#}")?,
                }
            }
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(e.into()),
        }
    }
    if let Err(e) = editor.save_history(history) {
        eprintln!(
            "cars: warning: history not saved to {}: {e}",
            history.display()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn quotes_group_words() {
        assert_eq!(split("run \"cargo test\" -q"), ["run", "cargo test", "-q"]);
        assert_eq!(
            split("reject P1 'too risky'"),
            ["reject", "P1", "too risky"]
        );
        assert_eq!(split("  list  "), ["list"]);
        assert_eq!(split("x \"\""), ["x", ""]);
    }
}
