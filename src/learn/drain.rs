//! Clusters of unknown error lines, Drain-style: lines are split into tokens, the
//! tokens that vary (numbers, paths, hashes, quoted names) are masked, lines of the
//! same length and first token are compared position by position, and a line joins
//! the first cluster it shares at least half of its tokens with; where members
//! differ, the cluster's template has `<*>`. Feeds `cars rules suggest`.

use serde::Serialize;

/// The mask for a token that varies.
pub const WILD: &str = "<*>";
/// A line joins a cluster when at least this share of its tokens equal the template's.
const SIMILARITY: f64 = 0.5;

#[derive(Debug, Clone, Serialize)]
pub struct Cluster {
    pub template: Vec<String>,
    pub count: usize,
    /// Up to three distinct member lines, as they appeared.
    pub examples: Vec<String>,
    /// How many different sessions it appeared in.
    pub sessions: usize,
    #[serde(skip)]
    session_ids: Vec<i64>,
}

impl Cluster {
    pub fn template_text(&self) -> String {
        self.template.join(" ")
    }

    /// A regex for the template: literal tokens escaped, `<*>` one or more non-blank
    /// characters, tokens separated by blanks; the whole line is the message.
    pub fn regex(&self) -> String {
        let body: Vec<String> = self
            .template
            .iter()
            .map(|t| {
                if t == WILD {
                    r"\S+".to_string()
                } else {
                    regex::escape(t)
                }
            })
            .collect();
        format!(r"^\s*(?P<message>{})\s*$", body.join(r"\s+"))
    }

    /// The longest literal token with a letter: the rule's keyword.
    pub fn keyword(&self) -> Option<String> {
        self.template
            .iter()
            .filter(|t| *t != WILD && t.chars().any(char::is_alphabetic))
            .map(|t| t.trim_matches(|c: char| !c.is_alphanumeric()).to_string())
            .filter(|t| t.len() >= 4)
            .max_by_key(|t| t.len())
    }
}

/// Whether a token varies between occurrences of the same message.
fn varies(token: &str) -> bool {
    let t =
        token.trim_matches(|c: char| matches!(c, ',' | ';' | ':' | '(' | ')' | '[' | ']' | '.'));
    t.is_empty()
        || t.chars().any(|c| c.is_ascii_digit())
        || t.contains('/')
        || t.contains('\\')
        || (t.len() >= 2
            && ["'", "\"", "`"]
                .iter()
                .any(|q| t.starts_with(q) && t.ends_with(q)))
        || t.contains("://")
}

pub fn mask(line: &str) -> Vec<String> {
    line.split_whitespace()
        .map(|t| {
            if varies(t) {
                WILD.to_string()
            } else {
                t.to_string()
            }
        })
        .collect()
}

/// Clusters `lines` (session id, line), most frequent first.
pub fn cluster<'a>(lines: impl IntoIterator<Item = (i64, &'a str)>) -> Vec<Cluster> {
    let mut clusters: Vec<Cluster> = Vec::new();
    for (session, line) in lines {
        let tokens = mask(line);
        if tokens.is_empty() {
            continue;
        }
        let found = clusters.iter_mut().find(|c| {
            c.template.len() == tokens.len() && c.template[0] == tokens[0] && {
                let same = c
                    .template
                    .iter()
                    .zip(&tokens)
                    .filter(|(a, b)| a == b)
                    .count();
                same as f64 / tokens.len() as f64 >= SIMILARITY
            }
        });
        match found {
            Some(c) => {
                for (t, n) in c.template.iter_mut().zip(&tokens) {
                    if t != n {
                        *t = WILD.to_string();
                    }
                }
                c.count += 1;
                if c.examples.len() < 3 && !c.examples.iter().any(|e| e == line) {
                    c.examples.push(line.to_string());
                }
                if !c.session_ids.contains(&session) {
                    c.session_ids.push(session);
                }
                c.sessions = c.session_ids.len();
            }
            None => clusters.push(Cluster {
                template: tokens,
                count: 1,
                examples: vec![line.to_string()],
                sessions: 1,
                session_ids: vec![session],
            }),
        }
    }
    clusters.sort_by(|a, b| b.count.cmp(&a.count).then(b.sessions.cmp(&a.sessions)));
    clusters
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_that_differ_in_numbers_paths_and_names_share_a_template() {
        let lines = [
            (1, "Segfault in worker 3 while reading /var/data/a.bin"),
            (1, "Segfault in worker 12 while reading /var/data/b.bin"),
            (2, "Segfault in worker 7 while writing /tmp/c.bin"),
            (2, "Quota exceeded for bucket 'logs'"),
        ];
        let c = cluster(lines);
        assert_eq!(c[0].count, 3);
        assert_eq!(c[0].sessions, 2);
        assert_eq!(c[0].template_text(), "Segfault in worker <*> while <*> <*>");
        assert_eq!(c[0].keyword().as_deref(), Some("Segfault"));
        let re = regex::Regex::new(&c[0].regex()).unwrap();
        assert!(re.is_match("Segfault in worker 99 while reading /x"));
        assert!(!re.is_match("Quota exceeded for bucket 'x'"));
        assert_eq!(c[1].count, 1);
    }
}
