//! The keymap as data (`keys.toml`, embedded): which key runs which command, and the
//! help box's rows. `App::key` matches on `Command`, never on a key.

use crossterm::event::KeyCode;
use std::collections::HashMap;

/// What a key asks the TUI to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Down,
    Up,
    First,
    Last,
    Open,
    NextPane,
    Back,
    Propose,
    Approve,
    Reject,
    Undo,
    Heal,
    Filter,
    Search,
    Job(usize),
    PreviousProject,
    NextProject,
    Rerun,
    Pause,
    Help,
    Quit,
}

impl Command {
    fn parse(name: &str) -> Option<Command> {
        Some(match name {
            "down" => Command::Down,
            "up" => Command::Up,
            "first" => Command::First,
            "last" => Command::Last,
            "open" => Command::Open,
            "next-pane" => Command::NextPane,
            "back" => Command::Back,
            "propose" => Command::Propose,
            "approve" => Command::Approve,
            "reject" => Command::Reject,
            "undo" => Command::Undo,
            "heal" => Command::Heal,
            "filter" => Command::Filter,
            "search" => Command::Search,
            "previous-project" => Command::PreviousProject,
            "next-project" => Command::NextProject,
            "rerun" => Command::Rerun,
            "pause" => Command::Pause,
            "help" => Command::Help,
            "quit" => Command::Quit,
            _ => {
                let n: usize = name.strip_prefix("job-")?.parse().ok()?;
                return (1..=9).contains(&n).then_some(Command::Job(n - 1));
            }
        })
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    key: Vec<Entry>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    label: String,
    help: String,
    bind: std::collections::BTreeMap<String, String>,
}

pub struct Keymap {
    bindings: HashMap<KeyCode, Command>,
    /// (label, help) for the `?` box, in file order.
    pub help: Vec<(String, String)>,
}

/// Why a keymap file is wrong.
#[derive(Debug, thiserror::Error)]
pub enum KeymapError {
    #[error("keys.toml: {0}")]
    Parse(#[from] toml::de::Error),
    #[error("keys.toml: `{0}` is not a key (a character, or Up, Down, Home, End, Enter, Esc, Tab, Space, F5)")]
    Key(String),
    #[error("keys.toml: `{0}` is not a command")]
    Command(String),
    #[error("keys.toml: {0} is bound twice")]
    Twice(String),
}

fn key_code(name: &str) -> Option<KeyCode> {
    let mut chars = name.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        return Some(KeyCode::Char(c));
    }
    Some(match name {
        "Up" => KeyCode::Up,
        "Down" => KeyCode::Down,
        "Home" => KeyCode::Home,
        "End" => KeyCode::End,
        "Enter" => KeyCode::Enter,
        "Esc" => KeyCode::Esc,
        "Tab" => KeyCode::Tab,
        "Space" => KeyCode::Char(' '),
        "F5" => KeyCode::F(5),
        _ => return None,
    })
}

impl Keymap {
    pub fn parse(text: &str) -> Result<Keymap, KeymapError> {
        let file: File = toml::from_str(text)?;
        let mut bindings = HashMap::new();
        let mut help = Vec::new();
        for entry in file.key {
            for (key, command) in &entry.bind {
                let code = key_code(key).ok_or_else(|| KeymapError::Key(key.clone()))?;
                let command =
                    Command::parse(command).ok_or_else(|| KeymapError::Command(command.clone()))?;
                if bindings.insert(code, command).is_some() {
                    return Err(KeymapError::Twice(key.clone()));
                }
            }
            help.push((entry.label, entry.help));
        }
        Ok(Keymap { bindings, help })
    }

    /// The built-in keymap.
    pub fn builtin() -> &'static Keymap {
        static PARSED: std::sync::OnceLock<Keymap> = std::sync::OnceLock::new();
        PARSED.get_or_init(|| {
            Keymap::parse(include_str!("keys.toml")).expect("keys.toml is tested to parse")
        })
    }

    pub fn command(&self, code: KeyCode) -> Option<Command> {
        self.bindings.get(&code).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_keymap_parses() {
        let k = Keymap::parse(include_str!("keys.toml")).unwrap();
        assert_eq!(k.command(KeyCode::Char('a')), Some(Command::Approve));
        assert_eq!(k.command(KeyCode::Char('3')), Some(Command::Job(2)));
        assert_eq!(k.command(KeyCode::F(5)), Some(Command::Rerun));
        assert!(k.help.iter().any(|(l, _)| l == "H"));
    }

    #[test]
    fn a_bad_keymap_names_what_is_wrong() {
        let bad = |t: &str| Keymap::parse(t).err().unwrap().to_string();
        let entry =
            |bind: &str| format!("[[key]]\nlabel = \"x\"\nhelp = \"y\"\nbind = {{ {bind} }}\n");
        assert!(bad(&entry("Ctrl = \"quit\"")).contains("`Ctrl` is not a key"));
        assert!(bad(&entry("x = \"explode\"")).contains("`explode` is not a command"));
        assert!(bad(&(entry("x = \"quit\"") + &entry("x = \"help\""))).contains("x is bound twice"));
    }
}
