//! The mutation fuzzer as a bounded property test: mutants of every fixture (see
//! `tests/fuzz/mutate.rs`) load without panicking. `examples/fuzz.rs` runs the same for
//! longer; this keeps a small, deterministic slice of it in CI.

#[path = "fuzz/mutate.rs"]
mod mutate;

use mutate::{exercise, mutate, seeds, Limits, Rng, Seed, SeedKind};
use proptest::prelude::*;
use std::path::Path;
use std::sync::OnceLock;

fn corpus() -> &'static [Seed] {
    static CORPUS: OnceLock<Vec<Seed>> = OnceLock::new();
    CORPUS.get_or_init(|| seeds(Path::new(env!("CARGO_MANIFEST_DIR")), &[], 16 << 10))
}

const LIMITS: Limits = Limits { huge_field: 64 << 10, max_len: 1 << 20 };

#[test]
fn the_corpus_holds_every_format() {
    let c = corpus();
    for ext in [".csv", ".json", ".jsonl", ".ndjson", ".txt", ".mmdb"] {
        assert!(c.iter().any(|s| s.name.ends_with(ext)), "no {ext} seed");
    }
    assert!(c.iter().any(|s| s.kind == SeedKind::Mmdb && s.name == "generated.mmdb"));
    // Every seed loads unmutated, too.
    for s in c {
        for variant in 0..8 {
            exercise(s, &s.bytes, variant);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_inputs_of_every_format_load_without_panicking(pick in any::<usize>(), rng_seed in any::<u64>()) {
        let c = corpus();
        let seed = &c[pick % c.len()];
        let mut rng = Rng::new(rng_seed);
        let (bytes, names) = mutate(&mut rng, seed, c, LIMITS);
        let variant = rng.next();
        let r = std::panic::catch_unwind(|| exercise(seed, &bytes, variant));
        prop_assert!(r.is_ok(), "{} mutated by {:?} panicked", seed.name, names);
    }
}
