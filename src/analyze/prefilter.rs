//! The block prefilter: finds lines that may contain a rule keyword or a CI step
//! marker, at SIMD speed. Keywords match case-insensitively, which rules out the
//! fast packed (Teddy) searcher directly, so each block is lowercased into a scratch
//! buffer and searched for a small set of lowercase *anchors*: short substrings
//! chosen so that every keyword contains at least one. A hit only makes a line a
//! candidate; the exact keyword check happens on the candidate line.

use aho_corasick::packed;
use aho_corasick::{AhoCorasick, Input};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::OnceLock;

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
    /// `literals` are lowercase keywords and markers; `automaton` is a case-insensitive
    /// automaton over the same set (in any order), used when no Teddy cover fits, so
    /// the matcher's keyword DFA serves both (one copy in memory, not two).
    pub fn new(literals: &[String], automaton: &AhoCorasick) -> Prefilter {
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
        // Cheap: an automaton shares its tables between clones.
        Prefilter::Automaton(automaton.clone())
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

    /// Whether a hit is the start of a literal itself (the automaton), rather than of
    /// an anchor that a literal contains (a hit line may then hold no literal).
    pub fn hits_are_literals(&self) -> bool {
        matches!(self, Prefilter::Automaton(_))
    }

    pub fn kind(&self) -> String {
        match self {
            Prefilter::Anchored(searchers) => format!("{} Teddy searcher(s)", searchers.len()),
            Prefilter::Automaton(_) => "automaton".to_string(),
        }
    }
}

/// 4-byte fragments too common in real CI logs to be worth a prefilter hit (data
/// measured on the corpus; see scripts/common_fragments.py).
fn common_fragments() -> &'static HashSet<[u8; 4]> {
    static SET: OnceLock<HashSet<[u8; 4]>> = OnceLock::new();
    SET.get_or_init(|| {
        include_str!("common_fragments.txt")
            .lines()
            .filter(|l| !l.starts_with('#') && l.len() == 4)
            .map(|l| <[u8; 4]>::try_from(l.as_bytes()).expect("4 bytes"))
            .collect()
    })
}

fn is_common(fragment: &[u8]) -> bool {
    let common = common_fragments();
    fragment
        .windows(4)
        .any(|w| common.contains(&<[u8; 4]>::try_from(w).expect("4 bytes")))
        || fragment.iter().all(|b| !b.is_ascii_alphanumeric())
}

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
    let limit = MAX_ANCHORS * MAX_SEARCHERS;
    if anchors.len() > limit {
        anchors = merge_through_fragments(anchors, limit)?;
        anchors = minimal(&anchors.into_iter().collect());
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

/// Greedy set cover: replaces groups of literals by a shared fragment (4 to 8 bytes,
/// not a common one) until at most `limit` anchors remain. Counts are kept in a heap
/// with lazy updates, so this stays fast for thousands of literals.
fn merge_through_fragments(literals: Vec<Vec<u8>>, limit: usize) -> Option<Vec<Vec<u8>>> {
    use std::collections::BinaryHeap;
    let mut ids: HashMap<&[u8], usize> = HashMap::new();
    let mut fragments: Vec<&[u8]> = Vec::new();
    let mut holders: Vec<Vec<usize>> = Vec::new(); // fragment -> literals containing it
    let mut held: Vec<Vec<usize>> = vec![Vec::new(); literals.len()]; // literal -> fragments
    for (li, l) in literals.iter().enumerate() {
        for len in 4..=l.len().min(8) {
            for w in l.windows(len) {
                if is_common(w) {
                    continue;
                }
                let id = *ids.entry(w).or_insert_with(|| {
                    fragments.push(w);
                    holders.push(Vec::new());
                    fragments.len() - 1
                });
                if holders[id].last() != Some(&li) {
                    holders[id].push(li);
                    held[li].push(id);
                }
            }
        }
    }
    let mut count: Vec<usize> = holders.iter().map(Vec::len).collect();
    let mut heap: BinaryHeap<(usize, usize, std::cmp::Reverse<usize>)> = count
        .iter()
        .enumerate()
        .filter(|(_, &c)| c >= 2)
        .map(|(id, &c)| (c, fragments[id].len(), std::cmp::Reverse(id)))
        .collect();
    let mut covered = vec![false; literals.len()];
    let mut chosen: Vec<Vec<u8>> = Vec::new();
    let mut remaining = literals.len();
    while remaining + chosen.len() > limit {
        let (c, _, std::cmp::Reverse(id)) = heap.pop()?;
        if c != count[id] {
            if count[id] >= 2 {
                heap.push((count[id], fragments[id].len(), std::cmp::Reverse(id)));
            }
            continue;
        }
        chosen.push(fragments[id].to_vec());
        for &li in &holders[id] {
            if !covered[li] {
                covered[li] = true;
                remaining -= 1;
                for &f in &held[li] {
                    count[f] -= 1;
                }
            }
        }
    }
    chosen.extend(
        literals
            .iter()
            .zip(&covered)
            .filter(|(_, &c)| !c)
            .map(|(l, _)| l.clone()),
    );
    Some(chosen)
}

/// Substring test for short keywords (building a memmem finder would cost more).
fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
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
        let ac = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(&lits)
            .unwrap();
        let p = Prefilter::new(&lits, &ac);
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
