//! CI's share of fuzzing: every target over all its seeds (the committed
//! corpus, regressions included, and the generated ones) and a fixed,
//! deterministic set of mutations. Long runs use the `rubo-fuzz` binary.

use rubo_fuzz::engine::{Mutator, quiet_panics, run_one};
use rubo_fuzz::{TARGETS, cost, seeds};

/// Mutated inputs per target of cost 1 (divided by a target's cost).
const ITERATIONS: u64 = 20_000;
/// Fixed so that a failure here reproduces exactly.
const SEED: u64 = 0x5275_626f;

#[test]
fn every_target_survives_its_seeds_and_mutations() {
    quiet_panics();
    let mut failures = Vec::new();
    for (name, f) in TARGETS {
        let corpus = seeds::all(name);
        assert!(!corpus.is_empty(), "{name} has no seeds");
        for (i, input) in corpus.iter().enumerate() {
            if let Err(e) = run_one(*f, input) {
                failures.push(format!("{name}: seed {i} ({} bytes): {e}", input.len()));
            }
        }
        let m = Mutator { corpus: &corpus, dict: seeds::dictionary(name), max_len: 64 << 10 };
        for it in 0..ITERATIONS / cost(name) {
            let input = m.input(SEED, name, it);
            if let Err(e) = run_one(*f, &input) {
                failures.push(format!(
                    "{name}: mutation {it}: {e}; replay: cargo run -p rubo-fuzz -- --target {name} --seed {SEED} (input {input:02x?})"
                ));
                break;
            }
        }
    }
    assert!(failures.is_empty(), "fuzz targets failed:\n{}", failures.join("\n"));
}

#[test]
fn regressions_are_in_the_corpus() {
    // Inputs that once crashed a parser stay seeds, so that every run
    // replays them first: removing one must be deliberate.
    for (target, file) in [
        ("types_block", "regress-identity-base-not-utf8"),
        ("repo_flatfs", "regress-non-ascii-shard"),
        ("repo_units", "regress-float-duration"),
        ("dht_store", "regress-expiry-overflow"),
    ] {
        let path = seeds::corpus_dir().join(target).join(file);
        assert!(path.is_file(), "{} is missing", path.display());
    }
}
