//! Every shipped fix template parses, names rules that exist, and does what its
//! samples say: the sample files are written to a temp project, the sample log runs
//! through the real analyzer, and the template's patch must turn the files into the
//! expected ones (or make no patch when `expect` is empty).

use cars::analyze::{Matcher, Options};
use cars::fix::template::Templates;
use cars::log::LogInput;
use cars::rules::RuleSet;

#[test]
fn templates_name_existing_rules() {
    let rules = RuleSet::builtin().unwrap();
    let templates = Templates::load(&[]).unwrap();
    assert!(
        templates.list.len() >= 10,
        "only {} templates",
        templates.list.len()
    );
    for t in &templates.list {
        for r in &t.spec.rules {
            let known = match r.strip_suffix('*') {
                Some(prefix) => rules.rules.iter().any(|x| x.spec.id.starts_with(prefix)),
                None => rules.get(r).is_some(),
            };
            assert!(
                known,
                "{}: template {} names unknown rule {r}",
                t.file, t.spec.id
            );
        }
    }
}

#[test]
fn template_samples_produce_their_expected_files() {
    let rules = RuleSet::builtin().unwrap();
    let matcher = Matcher::new(&rules);
    let templates = Templates::load(&[]).unwrap();
    let mut checked = 0;
    let mut failures = Vec::new();
    for t in &templates.list {
        for (i, sample) in t.spec.samples.iter().enumerate() {
            checked += 1;
            let name = format!("{} sample {}", t.spec.id, i + 1);
            let dir = tempfile::tempdir().unwrap();
            for (path, text) in &sample.files {
                let full = dir.path().join(path);
                std::fs::create_dir_all(full.parent().unwrap()).unwrap();
                std::fs::write(&full, text).unwrap();
            }
            let input = LogInput::from_reader(
                "sample.log".into(),
                Box::new(std::io::Cursor::new(sample.log.clone().into_bytes())),
            )
            .unwrap();
            let analysis = matcher.analyze(input, &Options::default()).unwrap();
            let policy = cars::policy::PathPolicy::new(dir.path(), None).unwrap();
            let patches: Vec<_> = analysis
                .findings
                .iter()
                .filter(|f| templates.for_rule(&f.rule).any(|x| x.spec.id == t.spec.id))
                .filter_map(|f| t.apply(f, &policy).ok())
                .collect();
            if sample.expect.is_empty() {
                if !patches.is_empty() {
                    failures.push(format!(
                        "{name}: expected no patch, got {:?}",
                        patches[0].files
                    ));
                }
                continue;
            }
            let Some(patch) = patches.first() else {
                let seen: Vec<String> = analysis
                    .findings
                    .iter()
                    .map(|f| {
                        let why = t.apply(f, &policy).err().map(|e| e.0).unwrap_or_default();
                        format!("{} {:?} ({why})", f.rule, f.message)
                    })
                    .collect();
                failures.push(format!("{name}: no patch; findings: {seen:?}"));
                continue;
            };
            for (path, want) in &sample.expect {
                match patch.files.iter().find(|f| &f.path == path) {
                    Some(f) if &f.after == want => {}
                    Some(f) => failures.push(format!(
                        "{name}: {path} differs:\n{}",
                        cars::fix::file_diff(&cars::fix::FileChange {
                            path: path.clone(),
                            before: Some(want.clone()),
                            after: f.after.clone(),
                            mode: None,
                        })
                    )),
                    None => failures.push(format!("{name}: {path} not changed")),
                }
            }
            for (path, want) in &sample.modes {
                let got = patch
                    .files
                    .iter()
                    .find(|f| &f.path == path)
                    .and_then(|f| f.mode);
                if got != Some(*want) {
                    failures.push(format!(
                        "{name}: {path} gets mode {:?}, not {want:o}",
                        got.map(|m| format!("{m:o}"))
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(checked >= 15, "only {checked} samples");
}
