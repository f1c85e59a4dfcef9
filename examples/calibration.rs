//! The calibration benchmark: replays simulated outcome streams through three ways of
//! turning a fix source's history into a confidence, and prints side by side the
//! Brier score, the expected calibration error (10 bins) and the share of auto-applies
//! (confidence >= 0.90) that fail.
//!
//!   cargo run --release --example calibration
//!
//! Methods: `fixed` (the source's base confidence, whatever happens); `linear` (seed
//! 002's rule: confidence + (success rate - 0.5) x 20 points); `cars` (learn::calibrate:
//! a Beta prior at the base with a pseudo-count of 10, decayed history, the move of the
//! 5% quantile). Scenarios: sources whose base is right, too high or too low, with short
//! and long histories, and one that stops working halfway (drift). Deterministic: a
//! fixed-seed xorshift generator.

use cars::learn::{calibrate, History};

struct Scenario {
    name: &'static str,
    base: f64,
    /// The true success rate at step t of n.
    truth: fn(usize, usize) -> f64,
    steps: usize,
}

struct Rng(u64);
impl Rng {
    /// SplitMix64 of the seed, so that neighbouring seeds give unrelated streams.
    fn seeded(seed: u64) -> Rng {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng((z ^ (z >> 31)) | 1)
    }

    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[derive(Default, Clone)]
struct Score {
    preds: Vec<(f64, bool)>,
}

impl Score {
    fn brier(&self) -> f64 {
        let n = self.preds.len() as f64;
        self.preds
            .iter()
            .map(|(c, y)| (c - *y as u8 as f64).powi(2))
            .sum::<f64>()
            / n
    }
    fn ece(&self) -> f64 {
        let n = self.preds.len() as f64;
        let mut bins = [(0.0f64, 0.0f64, 0usize); 10];
        for (c, y) in &self.preds {
            let b = ((c * 10.0) as usize).min(9);
            bins[b].0 += c;
            bins[b].1 += *y as u8 as f64;
            bins[b].2 += 1;
        }
        bins.iter()
            .filter(|b| b.2 > 0)
            .map(|(c, y, k)| (*k as f64 / n) * ((y - c) / *k as f64).abs())
            .sum()
    }
    fn wrong_auto(&self) -> (usize, usize) {
        let auto: Vec<_> = self.preds.iter().filter(|(c, _)| *c >= 0.90).collect();
        (auto.iter().filter(|(_, y)| !y).count(), auto.len())
    }
}

fn linear(base: f64, history: &[bool]) -> f64 {
    if history.is_empty() {
        return base;
    }
    let rate = history.iter().filter(|&&y| y).count() as f64 / history.len() as f64;
    (base + (rate - 0.5) * 0.20).clamp(0.0, 1.0)
}

fn main() {
    let scenarios = [
        Scenario {
            name: "right (0.95 / 0.95)",
            base: 0.95,
            truth: |_, _| 0.95,
            steps: 200,
        },
        Scenario {
            name: "too high (0.95 / 0.60)",
            base: 0.95,
            truth: |_, _| 0.60,
            steps: 200,
        },
        Scenario {
            name: "too high, short (0.92 / 0.50)",
            base: 0.92,
            truth: |_, _| 0.50,
            steps: 8,
        },
        Scenario {
            name: "too low (0.80 / 0.98)",
            base: 0.80,
            truth: |_, _| 0.98,
            steps: 200,
        },
        Scenario {
            name: "bad source (0.85 / 0.30)",
            base: 0.85,
            truth: |_, _| 0.30,
            steps: 100,
        },
        Scenario {
            name: "drift (0.95, 0.97 -> 0.20)",
            base: 0.95,
            truth: |t, n| if t < n / 2 { 0.97 } else { 0.20 },
            steps: 200,
        },
    ];
    let names = ["fixed", "linear", "cars"];
    let mut total = vec![Score::default(); 3];
    println!(
        "{:32} {:>8} {:>7} {:>7} {:>7}  {:>10}",
        "scenario", "method", "Brier", "ECE", "", "bad auto"
    );
    for (i, sc) in scenarios.iter().enumerate() {
        // Each scenario is replayed 50 times with different draws.
        let mut scores = vec![Score::default(); 3];
        for rep in 0..50u64 {
            let mut rng = Rng::seeded((i as u64) << 32 | rep);
            let mut history: Vec<bool> = Vec::new();
            for t in 0..sc.steps {
                let y = rng.next() < (sc.truth)(t, sc.steps);
                let newest_first: Vec<bool> = history.iter().rev().copied().collect();
                let preds = [
                    sc.base,
                    linear(sc.base, &history),
                    calibrate(sc.base, &History::of(newest_first)).result,
                ];
                for (m, c) in preds.iter().enumerate() {
                    scores[m].preds.push((*c, y));
                }
                history.push(y);
            }
        }
        for (m, s) in scores.iter().enumerate() {
            let (bad, auto) = s.wrong_auto();
            let share = if auto == 0 {
                0.0
            } else {
                bad as f64 / auto as f64
            };
            println!(
                "{:32} {:>8} {:>7.4} {:>7.4} {:>7}  {:>5.1}% of {}",
                if m == 0 { sc.name } else { "" },
                names[m],
                s.brier(),
                s.ece(),
                "",
                100.0 * share,
                auto
            );
            total[m].preds.extend_from_slice(&s.preds);
        }
    }
    println!();
    for (m, s) in total.iter().enumerate() {
        let (bad, auto) = s.wrong_auto();
        println!(
            "all scenarios {:>8}: Brier {:.4}  ECE {:.4}  wrong auto-applies {:.1}% ({bad} of {auto})",
            names[m],
            s.brier(),
            s.ece(),
            100.0 * bad as f64 / auto.max(1) as f64
        );
    }
}
