//! rubo-routing: a delegated router's answers and the configured endpoints.

use rubo_routing::{Endpoint, parse_providers};

/// An answer body read as JSON and as NDJSON, and the input as an endpoint
/// URL: no panic; at most `limit` providers, each with a valid peer id.
pub fn providers(data: &[u8]) {
    for ndjson in [false, true] {
        let ps = parse_providers(data, ndjson, 8);
        assert!(ps.len() <= 8);
        for p in ps {
            assert!(!p.id.to_bytes().is_empty());
        }
    }
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = Endpoint::parse(s);
    }
}

/// The DHT's record store over a datastore holding these bytes as records (a damaged repo):
/// no panic, and never more providers per key than its limit.
pub fn dht_store(data: &[u8]) {
    rubo_net::store::fuzz_store(data);
}
