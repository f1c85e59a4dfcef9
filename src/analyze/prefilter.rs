//! The block prefilter: finds lines that may contain a rule keyword or a CI step
//! marker, at SIMD speed. Keywords match case-insensitively, which rules out the
//! fast packed (Teddy) searcher directly, so each block is lowercased into a scratch
//! buffer and searched for a small set of lowercase *anchors*: short substrings
//! chosen so that every keyword contains at least one. A hit only makes a line a
//! candidate; the exact keyword check happens on the candidate line.

use aho_corasick::packed;
use aho_corasick::{AhoCorasick, AhoCorasickKind, Input};
use std::collections::{BTreeSet, HashMap};

/// Teddy is fast up to this many patterns; more literals use several searchers.
const MAX_ANCHORS: usize = 64;
/// Beyond this many searchers a single automaton is cheaper.
const MAX_SEARCHERS: usize = 4;

/// The compiled prefilter, built once per rule set.
pub enum Prefilter {
    /// Lowercase the block, then search it for anchors with Teddy searchers.
    Anchored(Vec<packed::Searcher>),
    /// No compact cover: a case-insensitive automaton over the literals.
    Automaton(AhoCorasick),
}

/// Per-analysis scan state: the lowercased block and each searcher's next hit.
#[derive(Default)]
pub struct Scan {
    scratch: Vec<u8>,
    next: Vec<Option<usize>>,
    from: Option<usize>,
}

impl Prefilter {
    /// `literals` are lowercase keywords and markers.
    pub fn new(literals: &[String]) -> Prefilter {
        if let Some(groups) = choose_anchors(literals) {
            let searchers: Option<Vec<packed::Searcher>> = groups
                .iter()
                .map(|g| {
                    let mut b = packed::Config::new().builder();
                    for a in g {
                        b.add(a);
                    }
                    b.build()
                })
                .collect();
            if let Some(searchers) = searchers {
                return Prefilter::Anchored(searchers);
            }
        }
        let ac = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .kind(Some(AhoCorasickKind::DFA))
            .build(literals)
            .or_else(|_| {
                AhoCorasick::builder()
                    .ascii_case_insensitive(true)
                    .build(literals)
            })
            .expect("keyword prefilter");
        Prefilter::Automaton(ac)
    }

    /// Prepares `scan` for searching a new block.
    pub fn load(&self, scan: &mut Scan, block: &[u8]) {
        if let Prefilter::Anchored(searchers) = self {
            scan.scratch.clear();
            scan.scratch
                .extend(block.iter().map(u8::to_ascii_lowercase));
            scan.next.clear();
            scan.next.resize(searchers.len(), None);
            scan.from = None;
        }
    }

    /// The start of the next hit at or after `from` in the loaded `block`. Calls on
    /// one block must ask for non-decreasing positions.
    pub fn next_hit(&self, scan: &mut Scan, block: &[u8], from: usize) -> Option<usize> {
        match self {
            Prefilter::Anchored(searchers) => {
                let fresh = scan.from.is_none_or(|last| from < last);
                scan.from = Some(from);
                let mut best: Option<usize> = None;
                for (s, n) in searchers.iter().zip(scan.next.iter_mut()) {
                    // A cached hit before `from` is stale; one after it still holds.
                    if fresh || n.is_some_and(|h| h < from) {
                        *n = s
                            .find_in(
                                &scan.scratch[..],
                                aho_corasick::Span::from(from..scan.scratch.len()),
                            )
                            .map(|m| m.start());
                    }
                    if let Some(h) = *n {
                        best = Some(best.map_or(h, |b: usize| b.min(h)));
                    }
                }
                best
            }
            Prefilter::Automaton(ac) => ac
                .find(Input::new(block).span(from..block.len()))
                .map(|m| m.start()),
        }
    }

    pub fn kind(&self) -> String {
        match self {
            Prefilter::Anchored(searchers) => format!("{} Teddy searcher(s)", searchers.len()),
            Prefilter::Automaton(_) => "automaton".to_string(),
        }
    }
}

/// Fragments too common in ordinary log text to be worth a prefilter hit.
const COMMON: &[&str] = &[
    "ing ", " the", "the ", "tion", "ion ", "and ", " and", "for ", " for", "with", "ment", "that",
    "this", "from", "http", ".com", "/usr", "ould", "ted ", " to ", "est ", "ers ", "ate ", "ent ",
    "   ",
];

/// Chooses at most `MAX_ANCHORS` lowercase anchors such that every literal contains
/// one. The literals themselves are the most precise anchors, so they are kept where
/// possible (a literal containing another is dropped); while there are too many,
/// the substring of four or more bytes shared by the most literals replaces them.
/// `None` when no cover within the limit is found.
pub fn choose_anchors(literals: &[String]) -> Option<Vec<Vec<Vec<u8>>>> {
    let mut set: BTreeSet<Vec<u8>> = literals
        .iter()
        .map(|l| l.as_bytes().to_ascii_lowercase())
        .collect();
    set.retain(|l| !l.is_empty());
    // Drops every literal that contains a shorter one (shortest first, so each is
    // only compared with those already kept).
    let minimal = |set: &BTreeSet<Vec<u8>>| -> Vec<Vec<u8>> {
        let mut by_len: Vec<&Vec<u8>> = set.iter().collect();
        by_len.sort_by_key(|l| l.len());
        let mut kept: Vec<Vec<u8>> = Vec::new();
        for l in by_len {
            if !kept.iter().any(|k| contains(l, k)) {
                kept.push(l.clone());
            }
        }
        kept
    };
    let mut anchors = minimal(&set);
    while anchors.len() > MAX_ANCHORS * MAX_SEARCHERS {
        let mut score: HashMap<&[u8], usize> = HashMap::new();
        for l in &anchors {
            let mut seen: BTreeSet<&[u8]> = BTreeSet::new();
            for len in 4..=l.len().min(8) {
                for w in l.windows(len) {
                    let text = String::from_utf8_lossy(w);
                    if COMMON.iter().any(|c| text.contains(c))
                        || w.iter().all(|b| !b.is_ascii_alphanumeric())
                    {
                        continue;
                    }
                    if seen.insert(w) {
                        *score.entry(w).or_default() += 1;
                    }
                }
            }
        }
        // Most literals covered, then the longest (most specific) fragment.
        let best = score
            .into_iter()
            .filter(|(_, n)| *n >= 2)
            .max_by(|(a, ca), (b, cb)| ca.cmp(cb).then(a.len().cmp(&b.len())).then(b.cmp(a)))
            .map(|(w, _)| w.to_vec())?;
        let mut next: BTreeSet<Vec<u8>> = anchors
            .into_iter()
            .filter(|l| !contains(l, &best))
            .collect();
        next.insert(best);
        anchors = minimal(&next);
    }
    // Teddy fingerprints the first bytes of each pattern, so short anchors get a
    // group of their own where they cannot blunt the others.
    anchors.sort_by_key(|a| (a.len() >= 3, a.clone()));
    let short = anchors.iter().filter(|a| a.len() < 3).count();
    let (short, long) = anchors.split_at(short);
    let mut groups: Vec<Vec<Vec<u8>>> = Vec::new();
    if !short.is_empty() {
        groups.push(short.to_vec());
    }
    groups.extend(long.chunks(MAX_ANCHORS).map(|c| c.to_vec()));
    (groups.len() <= MAX_SEARCHERS).then_some(groups)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(hay, needle).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_literal_contains_an_anchor() {
        let lits: Vec<String> = [
            "error[",
            "error:",
            "errors",
            "traceback",
            "npm err!",
            "failed",
            "fail:",
            "\n$ ",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let anchors: Vec<Vec<u8>> = choose_anchors(&lits).unwrap().concat();
        assert!(anchors.len() <= lits.len());
        for l in &lits {
            assert!(
                anchors.iter().any(|a| contains(l.as_bytes(), a)),
                "{l} uncovered by {anchors:?}"
            );
        }
    }

    #[test]
    fn too_many_literals_are_merged_through_shared_fragments() {
        let lits: Vec<String> = (0..600).map(|i| format!("zebra failure {i:03}")).collect();
        let groups = choose_anchors(&lits).unwrap();
        let anchors = groups.concat();
        assert!(anchors.len() <= MAX_ANCHORS * MAX_SEARCHERS);
        assert!(groups.iter().all(|g| g.len() <= MAX_ANCHORS));
        for l in &lits {
            assert!(anchors.iter().any(|a| contains(l.as_bytes(), a)));
        }
    }

    #[test]
    fn search_is_case_insensitive() {
        let lits = vec!["traceback".to_string(), "panicked at".to_string()];
        let p = Prefilter::new(&lits);
        let mut scan = Scan::default();
        let block = b"fine\nTRACEBACK (most recent call last):\nthread 'main' Panicked at x\n";
        p.load(&mut scan, block);
        let first = p.next_hit(&mut scan, block, 0).unwrap();
        assert!((5..14).contains(&first));
        let second = p.next_hit(&mut scan, block, 40).unwrap();
        assert!(second > 40);
        assert_eq!(p.next_hit(&mut scan, block, block.len() - 3), None);
    }
}
