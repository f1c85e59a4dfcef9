//! Trains the naive-Bayes category classifier shipped in src/learn/classifier.json and
//! prints how well it does on held-out groups, next to the cue-word classifier it
//! backs up.
//!
//!   cargo run --release --example train_classifier            # evaluate, then write the model
//!   cargo run --release --example train_classifier -- --check  # evaluate only
//!
//! Training data: every sample line of every non-generic rule (labelled with the
//! rule's category) and every labelled error of the real-tool corpus (the output lines
//! holding its `message_contains`, labelled with its category). Accuracy is by group:
//! the examples of one tool (rule samples) or one tool's cases (real-tool corpus) are
//! scored by a model trained on all the others. "Unmatched" is the real-tool errors
//! that only a generic rule or the fallback finds: the category analysis gives them
//! (cue words) against the model's.

use cars::analyze::{classify, Matcher, Options};
use cars::learn::classifier::Classifier;
use cars::log::{LogInput, Source};
use cars::rules::model::Category;
use cars::rules::RuleSet;
use std::path::Path;

struct Example {
    group: String,
    text: String,
    category: Category,
}

const GENERIC: &[&str] = &[
    "generic.error",
    "generic.shouted-summary",
    "cars.failure-context",
];

fn realtool(root: &Path) -> Vec<(Example, String)> {
    let mut out = Vec::new();
    let mut cases: Vec<_> = std::fs::read_dir(root)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    cases.sort();
    for case in cases {
        let Ok(label) = std::fs::read_to_string(case.join("label.json")) else {
            continue;
        };
        let label: serde_json::Value = serde_json::from_str(&label).unwrap();
        let log = std::fs::read_to_string(case.join("output.log")).unwrap_or_default();
        let errors = label["errors"]
            .as_array()
            .cloned()
            .unwrap_or_else(|| vec![label.clone()]);
        for e in errors {
            let (Some(cat), Some(needle)) =
                (e["category"].as_str(), e["message_contains"].as_str())
            else {
                continue;
            };
            let Ok(category) = cat.parse::<Category>() else {
                continue;
            };
            let tool = e["tool"]
                .as_str()
                .or(label["tool"].as_str())
                .unwrap_or("?")
                .to_string();
            if let Some(line) = log.lines().find(|l| l.contains(needle)) {
                out.push((
                    Example {
                        group: format!("realtool:{tool}"),
                        text: line.to_string(),
                        category,
                    },
                    case.join("output.log").display().to_string(),
                ));
            }
        }
    }
    out
}

/// What analysis does: the cue words' category, else the model's when it is at
/// least even odds (see `analyze::classify::fallback_category`).
fn combined(m: &Classifier, text: &str) -> Category {
    classify::fallback_category_with(m, text)
}

fn main() {
    let check = std::env::args().any(|a| a == "--check");
    let rules = RuleSet::builtin().unwrap();
    let mut examples: Vec<Example> = Vec::new();
    for r in &rules.rules {
        if GENERIC.contains(&r.spec.id.as_str()) || r.spec.category == Category::Unknown {
            continue;
        }
        for s in &r.spec.samples {
            examples.push(Example {
                group: format!("rules:{}", r.spec.tool),
                text: s.line.clone(),
                category: r.spec.category,
            });
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/realtool");
    let real = realtool(&root);
    let n_rules = examples.len();
    let logs: Vec<String> = real.iter().map(|(_, l)| l.clone()).collect();
    examples.extend(real.into_iter().map(|(e, _)| e));

    // Leave one group out.
    let mut groups: Vec<&str> = examples.iter().map(|e| e.group.as_str()).collect();
    groups.sort();
    groups.dedup();
    let (mut right, mut cue_right, mut both_right) = ([0usize; 2], [0usize; 2], [0usize; 2]);
    let mut total = [0usize; 2];
    let mut held_out: std::collections::HashMap<&str, Classifier> = Default::default();
    for g in &groups {
        let mut m = Classifier::default();
        for e in examples.iter().filter(|e| e.group != *g) {
            m.add(&e.text, e.category, 1.0);
        }
        for e in examples.iter().filter(|e| e.group == *g) {
            let k = usize::from(e.group.starts_with("realtool:"));
            total[k] += 1;
            right[k] += usize::from(m.classify(&e.text).map(|(c, _)| c) == Some(e.category));
            cue_right[k] += usize::from(classify::classify(&e.text) == e.category);
            both_right[k] += usize::from(combined(&m, &e.text) == e.category);
        }
        held_out.insert(g, m);
    }
    println!(
        "held-out groups (each tool's examples scored by a model trained on the other tools):"
    );
    for (k, name) in ["rule samples", "real-tool corpus errors"]
        .iter()
        .enumerate()
    {
        println!(
            "  {name:26} n={:4}  naive Bayes {:.3}  cue words {:.3}  cue words, else naive Bayes {:.3}",
            total[k],
            right[k] as f64 / total[k].max(1) as f64,
            cue_right[k] as f64 / total[k].max(1) as f64,
            both_right[k] as f64 / total[k].max(1) as f64
        );
    }

    // The errors only the fallback or a generic rule finds.
    let matcher = Matcher::new(&rules);
    let (mut n, mut before, mut after) = (0usize, 0usize, 0usize);
    for (e, log) in examples[n_rules..].iter().zip(&logs) {
        let Ok(input) = LogInput::open(&Source::parse(log)) else {
            continue;
        };
        let Ok(analysis) = matcher.analyze(input, &Options::default()) else {
            continue;
        };
        let hit = analysis.findings.iter().find(|f| {
            GENERIC.contains(&f.rule.as_str())
                && f.excerpt.iter().any(|l| l.contains(e.text.trim()))
        });
        if let Some(f) = hit {
            n += 1;
            let text = f.excerpt.join("\n");
            before += usize::from(classify::classify(&text) == e.category);
            after += usize::from(combined(&held_out[e.group.as_str()], &text) == e.category);
        }
    }
    println!(
        "real-tool errors no specific rule matched: n={n}  category right by cue words alone {:.3}, with the held-out model behind them {:.3}",
        before as f64 / n.max(1) as f64,
        after as f64 / n.max(1) as f64
    );
    println!("(the dev corpus has no category labels, so it is not scored here)");

    if !check {
        let mut model = Classifier::default();
        for e in &examples {
            model.add(&e.text, e.category, 1.0);
        }
        // Tokens seen once say little and cost space.
        for counts in model.tokens.values_mut() {
            counts.retain(|_, n| *n >= 2.0);
        }
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/learn/classifier.json");
        std::fs::write(&path, serde_json::to_string(&model).unwrap()).unwrap();
        println!("wrote {} ({} examples)", path.display(), examples.len());
    }
}
