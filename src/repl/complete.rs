//! Tab completion for the session REPL: command names, then per command the finding
//! ids, patch ids, choices or file paths it takes. Ids come from a snapshot of the
//! session, refreshed after every command.

use crate::front::workspace::Workspace;
use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::Context;

pub struct Helper {
    findings: Vec<String>,
    patches: Vec<String>,
    files: FilenameCompleter,
}

impl Helper {
    pub fn new(ws: &mut Workspace) -> Helper {
        let mut h = Helper {
            findings: Vec::new(),
            patches: Vec::new(),
            files: FilenameCompleter::new(),
        };
        h.refresh(ws);
        h
    }

    /// Re-reads the ids of the current session.
    pub fn refresh(&mut self, ws: &mut Workspace) {
        self.findings = ws
            .findings()
            .map(|f| f.iter().map(|f| f.id.clone()).collect())
            .unwrap_or_default();
        self.patches = ws
            .current()
            .and_then(|s| ws.store().patches(s).ok())
            .map(|p| p.into_iter().map(|p| p.id).collect())
            .unwrap_or_default();
    }

    /// Candidates for the word at `pos` in `line`: (start of the word, candidates).
    pub fn candidates(&self, line: &str, pos: usize) -> (usize, Vec<String>) {
        let before = &line[..pos];
        let start = before
            .rfind(char::is_whitespace)
            .map(|i| i + 1)
            .unwrap_or(0);
        let word = &before[start..];
        let words: Vec<&str> = before[..start].split_whitespace().collect();
        let choices: Vec<String> = match words.first() {
            None => super::COMMANDS
                .iter()
                .map(|(c, _, _)| c.to_string())
                .collect(),
            Some(&("show" | "explain" | "label")) if words.len() == 1 => self.findings.clone(),
            Some(&"patch") => self
                .findings
                .iter()
                .cloned()
                .chain(std::iter::once("all".to_string()))
                .collect(),
            Some(&("diff" | "approve" | "reject")) if words.len() == 1 => self.patches.clone(),
            Some(&"approve") => vec!["force".into()],
            Some(&"rollback") if words.len() == 1 => self
                .patches
                .iter()
                .cloned()
                .chain(std::iter::once("last".to_string()))
                .collect(),
            Some(&"list") => ["category", "severity", "step"].map(String::from).to_vec(),
            Some(&"export") if words.len() == 1 => {
                ["markdown", "json", "text"].map(String::from).to_vec()
            }
            Some(&"help") => super::COMMANDS
                .iter()
                .map(|(c, _, _)| c.to_string())
                .collect(),
            _ => Vec::new(),
        };
        let lower = word.to_ascii_lowercase();
        let mut out: Vec<String> = choices
            .into_iter()
            .filter(|c| c.to_ascii_lowercase().starts_with(&lower))
            .collect();
        out.dedup();
        (start, out)
    }

    /// Whether the word at `pos` is a file path (analyze's log, export's file).
    fn wants_path(line: &str, pos: usize) -> bool {
        let words: Vec<&str> = line[..pos].split_whitespace().collect();
        let completing_new = line[..pos].ends_with(char::is_whitespace);
        let index = if completing_new {
            words.len()
        } else {
            words.len().saturating_sub(1)
        };
        matches!(
            (words.first().copied(), index),
            (Some("analyze"), 1) | (Some("export"), 2)
        )
    }
}

impl Completer for Helper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        if Helper::wants_path(line, pos) {
            return self.files.complete(line, pos, ctx);
        }
        let (start, words) = self.candidates(line, pos);
        let pairs = words
            .into_iter()
            .map(|w| Pair {
                display: w.clone(),
                replacement: format!("{w} "),
            })
            .collect();
        Ok((start, pairs))
    }
}

impl Hinter for Helper {
    type Hint = String;
}
impl Highlighter for Helper {}
impl Validator for Helper {}
impl rustyline::Helper for Helper {}

#[cfg(test)]
mod tests {
    use super::Helper;

    fn helper() -> Helper {
        Helper {
            findings: vec!["E1".into(), "E2".into(), "E10".into()],
            patches: vec!["P1".into(), "P2".into()],
            files: rustyline::completion::FilenameCompleter::new(),
        }
    }

    #[test]
    fn completes_commands_then_their_arguments() {
        let h = helper();
        assert_eq!(
            h.candidates("ex", 2),
            (0, vec!["explain".into(), "export".into()])
        );
        assert_eq!(
            h.candidates("show E1", 7),
            (5, vec!["E1".into(), "E10".into()])
        );
        assert_eq!(h.candidates("show e", 6).1, ["E1", "E2", "E10"]);
        assert_eq!(h.candidates("approve ", 8).1, ["P1", "P2"]);
        assert_eq!(h.candidates("approve P1 f", 12).1, ["force"]);
        assert_eq!(h.candidates("rollback ", 9).1, ["P1", "P2", "last"]);
        assert_eq!(h.candidates("list s", 6).1, ["severity", "step"]);
        assert_eq!(h.candidates("export ", 7).1, ["markdown", "json", "text"]);
        assert!(h.candidates("quit ", 5).1.is_empty());
    }

    #[test]
    fn log_and_report_arguments_complete_as_paths() {
        assert!(Helper::wants_path("analyze ", 8));
        assert!(Helper::wants_path("analyze ci.l", 12));
        assert!(Helper::wants_path("export markdown rep", 19));
        assert!(!Helper::wants_path("export mark", 11));
        assert!(!Helper::wants_path("show E", 6));
    }

    #[test]
    fn paths_complete_through_the_completer_api() {
        use rustyline::completion::Completer;
        use rustyline::history::DefaultHistory;
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("build-output.log"), "x").unwrap();
        let line = format!("analyze {}/build-o", dir.path().display());
        let history = DefaultHistory::new();
        let ctx = rustyline::Context::new(&history);
        let (_, pairs) = helper().complete(&line, line.len(), &ctx).unwrap();
        assert_eq!(pairs.len(), 1);
        assert!(
            pairs[0].replacement.ends_with("build-output.log"),
            "{:?}",
            pairs[0].replacement
        );
    }
}
