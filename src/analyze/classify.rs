//! The fallback category classifier: when no rule explains a failure, the words near
//! it still say what kind of failure it is. Ordered from most to least specific.

use crate::rules::model::Category;

const CUES: &[(Category, &[&str])] = &[
    (
        Category::Timeout,
        &[
            "timed out",
            "timeout",
            "deadline exceeded",
            "exited with 124",
        ],
    ),
    (
        Category::Resource,
        &[
            "out of memory",
            "no space left",
            "oomkilled",
            "killed",
            "cannot allocate memory",
            "too many open files",
        ],
    ),
    (
        Category::Permission,
        &[
            "permission denied",
            "access denied",
            "forbidden",
            "eacces",
            "not permitted",
        ],
    ),
    (
        Category::Network,
        &[
            "connection refused",
            "connection reset",
            "could not resolve host",
            "temporary failure in name resolution",
            "econnrefused",
            "etimedout",
            "network is unreachable",
            "503 service",
            "502 bad gateway",
        ],
    ),
    (
        Category::Security,
        &["vulnerabilit", "cve-", "security advisory"],
    ),
    (
        Category::Dependency,
        &[
            "no module named",
            "cannot find module",
            "could not resolve",
            "unable to resolve",
            "not found in registry",
            "no matching version",
            "could not find a version",
            "dependency",
            "dependencies",
            "package not found",
            "unsatisfiable",
        ],
    ),
    (
        Category::Syntax,
        &[
            "syntax error",
            "syntaxerror",
            "parse error",
            "unexpected token",
            "unexpected end",
        ],
    ),
    (
        Category::Type,
        &[
            "type error",
            "typeerror",
            "mismatched types",
            "incompatible type",
        ],
    ),
    (
        Category::Test,
        &["test", "assert", "expected", "spec", "failures:"],
    ),
    (
        Category::Lint,
        &[
            "lint", "style", "format", "rubocop", "eslint", "flake8", "clippy",
        ],
    ),
    (
        Category::Config,
        &[
            "config",
            "environment variable",
            "not set",
            "missing required",
        ],
    ),
    (Category::Deployment, &["deploy", "release", "publish"]),
    (
        Category::Build,
        &["compil", "build", "make:", "linker", "undefined reference"],
    ),
];

/// The category whose cue words appear first in this list of cues.
pub fn classify(text: &str) -> Category {
    let lower = text.to_ascii_lowercase();
    CUES.iter()
        .find(|(_, cues)| cues.iter().any(|c| lower.contains(c)))
        .map(|(cat, _)| *cat)
        .unwrap_or(Category::Unknown)
}

/// The category of a block no rule explains: the cue words' when they name one, else
/// the naive-Bayes model's when it is at least even odds.
pub fn fallback_category(text: &str) -> Category {
    fallback_category_with(crate::learn::classifier::Classifier::current(), text)
}

pub fn fallback_category_with(
    model: &crate::learn::classifier::Classifier,
    text: &str,
) -> Category {
    fallback_guess_with(model, text).map_or(Category::Unknown, |(c, _)| c)
}

/// `fallback_category` with what decided it: the cue word, or the model's probability.
pub fn fallback_guess(text: &str) -> Option<(Category, String)> {
    fallback_guess_with(crate::learn::classifier::Classifier::current(), text)
}

fn fallback_guess_with(
    model: &crate::learn::classifier::Classifier,
    text: &str,
) -> Option<(Category, String)> {
    let lower = text.to_ascii_lowercase();
    if let Some((cat, cue)) = CUES
        .iter()
        .find_map(|(cat, cues)| cues.iter().find(|c| lower.contains(*c)).map(|c| (*cat, *c)))
    {
        return Some((cat, format!("cue word `{}`", cue.trim())));
    }
    match model.classify(text) {
        Some((c, p)) if p >= 0.5 => Some((c, format!("naive Bayes, p = {p:.2}"))),
        _ => None,
    }
}

/// Words that make a line look like the description of a failure.
pub const ERROR_WORDS: &[&str] = &[
    "error",
    "fail",
    "fatal",
    "exception",
    "abort",
    "cannot",
    "can't",
    "could not",
    "couldn't",
    "unable",
    "not found",
    "denied",
    "undefined",
    "missing",
    "invalid",
    "timed out",
    "killed",
    "panic",
    "refused",
    "no such",
    "expected",
    "traceback",
    "segmentation fault",
    "core dumped",
    "broken",
    "wrong",
    "unsupported",
    "not ok",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cue_words_pick_a_category() {
        assert_eq!(
            classify("curl: (7) Failed to connect: Connection refused"),
            Category::Network
        );
        assert_eq!(
            classify("The command \"ci/build.sh\" exited with 124."),
            Category::Timeout
        );
        assert_eq!(classify("something odd"), Category::Unknown);
    }
}
