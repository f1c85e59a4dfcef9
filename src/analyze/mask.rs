//! Masking for fingerprints and baselines: numbers, hashes, paths, times and quoted
//! temporary names vary between runs, so they are replaced before comparing lines.

use regex::Regex;
use std::hash::Hasher;
use std::sync::OnceLock;

fn variable_parts() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?x)
            (?:[A-Za-z]:)?(?:[\w.~-]*[/\\])+[\w.-]*   # paths (unix or windows)
            | \b[0-9a-fA-F]{7,}\b                      # hashes, addresses
            | \b0x[0-9a-fA-F]+\b
            | \d+(?:[.:]\d+)*                          # numbers, versions, times
            ",
        )
        .expect("mask regex")
    })
}

/// The line with its run-specific parts replaced by `#`.
pub fn mask(text: &str) -> String {
    variable_parts().replace_all(text.trim(), "#").into_owned()
}

/// A stable 64-bit hash (FNV-1a) of the masked text.
pub fn masked_hash(text: &str) -> u64 {
    let mut h = fnv::FnvHasher::default();
    h.write(mask(text).as_bytes());
    h.finish()
}

pub fn hash_str(parts: &[&str]) -> u64 {
    let mut h = fnv::FnvHasher::default();
    for p in parts {
        h.write(p.as_bytes());
        h.write_u8(0);
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_specific_parts_are_masked() {
        assert_eq!(
            mask("/home/runner/work/a/b.rs:12:5 took 3.2s at 2024-01-01 id=deadbeef12"),
            mask("/tmp/x/y/c.rs:99:1 took 10.0s at 2025-12-31 id=0123456789")
        );
        assert_ne!(mask("error: foo"), mask("error: bar"));
    }
}
