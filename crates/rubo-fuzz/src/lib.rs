//! Fuzz targets for every parser in rubo, and a driver that runs them on the
//! stable toolchain.
//!
//! # Targets
//!
//! A target is a `fn(&[u8])` that feeds arbitrary bytes to one parser and
//! asserts what must hold whatever the input: no panic, no hang, no
//! allocation beyond what the input justifies; a decoded value re-encodes to
//! bytes that decode to the same value (or, where the format is not
//! canonical, an encoding that is stable from then on); a decoded CID
//! re-encodes to bytes and text that parse to the same CID; two decoders of
//! one format agree where their rules overlap. [`TARGETS`] lists them all,
//! named `<crate>_<parser>`; their seed inputs are under `corpus/<target>/`
//! plus those [`seeds::generated`] builds with rubo's own encoders.
//!
//! Targets that follow links (HAMT directories, file DAGs, paths across
//! blocks, MFS over a hostile DAG) take several blocks in one input: see
//! [`bundle`]. `mfs_write_read` decodes its input as a sequence of MFS
//! operations and checks every read against a plain byte vector.
//!
//! # Running
//!
//! `cargo run --release -p rubo-fuzz -- --target all --seconds 600` mutates
//! the seeds with the engine in [`engine`] (bit flips, interesting bytes and
//! integers, inserted, deleted, duplicated and spliced ranges, truncation,
//! varint and number bumps, dictionary tokens) and runs each target in a
//! worker process under a memory limit and a timeout. A panic, an abort (a
//! failed allocation, a stack overflow) or a timeout writes the input to
//! `crates/rubo-fuzz/crashes/<target>-<hash>` and makes the run fail; replay
//! it with `--replay <file>`. `tests/smoke.rs` runs every target over its
//! seeds and a fixed number of mutations in CI.
//!
//! # libFuzzer
//!
//! Every target has the signature `fuzz_target!` expects, so a cargo-fuzz
//! setup on a nightly toolchain needs one file per target and nothing else:
//!
//! ```text
//! // fuzz/fuzz_targets/types_cid_string.rs
//! #![no_main]
//! libfuzzer_sys::fuzz_target!(|data: &[u8]| rubo_fuzz::types::cid_string(data));
//! ```
//!
//! with `corpus/<target>/` as the initial corpus (`cargo fuzz run
//! types_cid_string crates/rubo-fuzz/corpus/types_cid_string`). The bundle
//! and operation encodings are plain byte formats, so coverage-guided
//! mutation works on them as it does on single blocks.

pub mod bundle;
pub mod engine;
pub mod seeds;
pub mod targets;

pub use targets::{bitswap, commands, dag, gateway, http, ipns, mfs, repo, routing, types, unixfs};

/// A fuzz target: bytes in, panics out.
pub type Target = fn(&[u8]);

/// Every target, by name.
pub const TARGETS: &[(&str, Target)] = &[
    ("types_cid_string", types::cid_string),
    ("types_cid_bytes", types::cid_bytes),
    ("types_multibase", types::multibase),
    ("types_go_int", types::go_int),
    ("types_multihash", types::multihash),
    ("types_dagpb", types::dagpb),
    ("types_cbor_walk", types::cbor_walk),
    ("types_pb_fields", types::pb_fields),
    ("types_block", types::block),
    ("dag_pb", dag::pb),
    ("dag_cbor", dag::cbor),
    ("dag_json", dag::json),
    ("dag_links", dag::links),
    ("dag_car", dag::car),
    ("dag_car_header", dag::car_header),
    ("dag_path", dag::path),
    ("unixfs_data", unixfs::data),
    ("unixfs_node", unixfs::node),
    ("unixfs_dir", unixfs::dir),
    ("unixfs_file", unixfs::file),
    ("unixfs_chunker_spec", unixfs::chunker_spec),
    ("repo_config", repo::config),
    ("repo_identity", repo::identity),
    ("repo_keystore_name", repo::keystore_name),
    ("repo_units", repo::units),
    ("repo_flatfs", repo::flatfs),
    ("repo_proc_locks", repo::proc_locks),
    ("mfs_path", mfs::path),
    ("mfs_write_read", mfs::write_read),
    ("mfs_hostile_file", mfs::hostile_file),
    ("commands_extract_dag", commands::extract_dag),
    ("commands_extract_tar", commands::extract_tar),
    ("commands_argv", commands::argv),
    ("commands_path", commands::path_and_numbers),
    ("http_multipart", http::multipart),
    ("http_maddr", http::maddr),
    ("http_auth", http::auth),
    ("gateway_range", gateway::range),
    ("gateway_entity_bytes", gateway::entity_bytes),
    ("gateway_redirects", gateway::redirects),
    ("gateway_accept", gateway::accept),
    ("gateway_host", gateway::host),
    ("bitswap_message", bitswap::message),
    ("routing_providers", routing::providers),
    ("dht_store", routing::dht_store),
    ("ipns_record", ipns::record),
    ("ipns_name", ipns::name),
];

/// The target called `name`.
pub fn target(name: &str) -> Option<Target> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

/// How much slower than a plain parser a target is, as a divisor of the
/// iteration count the driver and the smoke test give it.
pub fn cost(name: &str) -> u64 {
    match name {
        "mfs_write_read" => 40,
        // A temporary folder of traps per input.
        "commands_extract_dag" | "commands_extract_tar" => 40,
        "commands_argv" => 20,
        "mfs_hostile_file" => 8,
        "repo_config" | "unixfs_dir" | "unixfs_file" | "dag_car" | "dag_path" => 4,
        // Signature checks: up to four validations per input.
        "repo_identity" | "unixfs_chunker_spec" | "ipns_record" => 2,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_have_seeds() {
        let mut names: Vec<&str> = TARGETS.iter().map(|(n, _)| *n).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), TARGETS.len());
        for (name, _) in TARGETS {
            assert!(!seeds::all(name).is_empty(), "{name} has no seeds");
        }
    }
}
