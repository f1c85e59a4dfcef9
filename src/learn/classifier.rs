//! A category for what no rule names: multinomial naive Bayes over masked tokens of
//! an error block. It ships trained (`classifier.json`, made by `cargo run --release
//! --example train_classifier` from the rule library's samples and the real-tool
//! corpus); `cars label` corrections are added to it by `cars learn train`, which
//! writes the user's model to the data dir. Deterministic and explainable: the
//! tokens that weighed most for the chosen category can be listed.

use crate::rules::model::Category;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Additive smoothing.
const ALPHA: f64 = 0.5;
/// A user correction counts as this many training examples.
pub const LABEL_WEIGHT: f64 = 3.0;

/// Token counts per category.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Classifier {
    /// Training examples per category.
    pub docs: BTreeMap<Category, f64>,
    /// Token counts per category.
    pub tokens: BTreeMap<Category, BTreeMap<String, f64>>,
}

/// The tokens of a text: lower-case words of letters, digits and `_`; a word with a
/// digit becomes `<num>`; one-letter words are dropped.
pub fn tokens(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| w.chars().count() >= 2)
        .map(|w| {
            if w.chars().any(|c| c.is_ascii_digit()) {
                "<num>".to_string()
            } else {
                w.to_lowercase()
            }
        })
        .collect()
}

impl Classifier {
    pub fn add(&mut self, text: &str, category: Category, weight: f64) {
        *self.docs.entry(category).or_default() += weight;
        let counts = self.tokens.entry(category).or_default();
        for t in tokens(text) {
            *counts.entry(t).or_default() += weight;
        }
    }

    /// The most likely category and its posterior probability; `None` untrained or
    /// when the text has no known token.
    pub fn classify(&self, text: &str) -> Option<(Category, f64)> {
        let words = tokens(text);
        let vocab: std::collections::HashSet<&String> =
            self.tokens.values().flat_map(|m| m.keys()).collect();
        if vocab.is_empty() || !words.iter().any(|w| vocab.contains(w)) {
            return None;
        }
        let total_docs: f64 = self.docs.values().sum();
        let v = vocab.len() as f64;
        let scores: Vec<(Category, f64)> = self
            .docs
            .iter()
            .map(|(c, n)| {
                let counts = &self.tokens[c];
                let total: f64 = counts.values().sum();
                let mut s = (n / total_docs).ln();
                for w in words.iter().filter(|w| vocab.contains(w)) {
                    s += ((counts.get(w).copied().unwrap_or(0.0) + ALPHA) / (total + ALPHA * v))
                        .ln();
                }
                (*c, s)
            })
            .collect();
        let best = scores.iter().cloned().max_by(|a, b| a.1.total_cmp(&b.1))?;
        let z: f64 = scores.iter().map(|(_, s)| (s - best.1).exp()).sum();
        Some((best.0, 1.0 / z))
    }

    /// The shipped model.
    pub fn builtin() -> &'static Classifier {
        static MODEL: std::sync::OnceLock<Classifier> = std::sync::OnceLock::new();
        MODEL.get_or_init(|| {
            serde_json::from_str(include_str!("classifier.json"))
                .expect("classifier.json is tested to parse")
        })
    }

    /// The user's model (`cars learn train`) if there is one, else the shipped one.
    pub fn current() -> &'static Classifier {
        static MODEL: std::sync::OnceLock<Option<Classifier>> = std::sync::OnceLock::new();
        MODEL
            .get_or_init(|| {
                std::fs::read_to_string(user_model_path())
                    .ok()
                    .and_then(|t| serde_json::from_str(&t).ok())
            })
            .as_ref()
            .unwrap_or_else(|| Classifier::builtin())
    }
}

/// Where `cars learn train` writes the user's model.
pub fn user_model_path() -> PathBuf {
    crate::config::data_dir().join("classifier.json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_learns_words_of_a_category_and_is_unsure_without_them() {
        let mut c = Classifier::default();
        c.add("connection refused by host", Category::Network, 1.0);
        c.add("could not resolve host name", Category::Network, 1.0);
        c.add("permission denied opening file", Category::Permission, 1.0);
        let (cat, p) = c
            .classify("error: connection refused (os error 111)")
            .unwrap();
        assert_eq!(cat, Category::Network);
        assert!(p > 0.5, "{p}");
        assert_eq!(c.classify("zzz qqq"), None);
    }

    #[test]
    fn the_shipped_model_parses() {
        assert!(!Classifier::builtin().docs.is_empty());
    }
}
