//! Properties over arbitrary inputs: created records validate to what was
//! put in, and no input makes validation or name parsing panic.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use proptest::prelude::*;
use rubo_ipns::time::{format_rfc3339, parse_rfc3339};
use rubo_ipns::{CreateOptions, Name, Record, inspect, validate};

fn key() -> libp2p_identity::Keypair {
    libp2p_identity::Keypair::ed25519_from_bytes([42u8; 32]).unwrap()
}

/// 2025-01-01T00:00:00Z.
const NOW: u64 = 1_735_689_600;
/// 9999-12-31T23:59:59Z.
const LAST: u64 = 253_402_300_799;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn created_records_validate_to_their_inputs(
        seq in any::<u64>(),
        eol_secs in NOW..=LAST,
        nanos in 0u32..1_000_000_000,
        ttl in 0..=i64::MAX as u64,
        segment in "[a-zA-Z0-9_-][a-zA-Z0-9._-]{0,39}",
        v1 in any::<bool>(),
    ) {
        let k = key();
        let eol = UNIX_EPOCH + Duration::new(eol_secs, nanos);
        let value = format!("/ipns/{segment}");
        let opts = CreateOptions { v1_compatible: v1, ..Default::default() };
        let r = Record::create(&k, value.as_bytes(), seq, eol, Duration::from_nanos(ttl), opts).unwrap();
        let v = validate(r.name(), r.as_bytes(), UNIX_EPOCH + Duration::from_secs(NOW)).unwrap();
        prop_assert_eq!(v.value_bytes(), value.as_bytes());
        prop_assert_eq!(v.sequence(), seq);
        prop_assert_eq!(v.validity(), eol);
        prop_assert_eq!(v.ttl(), Duration::from_nanos(ttl));
        prop_assert_eq!(v.is_v1_compatible(), v1);
    }

    #[test]
    fn mutated_records_never_validate_to_other_data(
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let k = key();
        let eol = UNIX_EPOCH + Duration::from_secs(NOW + 3600);
        let r = Record::create(&k, b"/ipfs/bafkqaaa", 5, eol, Duration::ZERO, CreateOptions::default()).unwrap();
        let mut b = r.as_bytes().to_vec();
        let i = at.index(b.len());
        b[i] = byte;
        if truncate {
            b.truncate(cut.index(b.len()));
        }
        let now = UNIX_EPOCH + Duration::from_secs(NOW);
        // The data is signed: whatever still validates says the same thing.
        if let Ok(v) = validate(r.name(), &b, now) {
            prop_assert_eq!(v.data(), r.data());
        }
        let _ = inspect(&b, Some(r.name()), now);
    }

    #[test]
    fn arbitrary_bytes_do_not_panic(b in prop::collection::vec(any::<u8>(), 0..2048)) {
        let n = Name::from_public_key(&key().public());
        let now = SystemTime::now();
        prop_assert!(validate(&n, &b, now).is_err());
        let _ = inspect(&b, Some(&n), now);
        let _ = Name::from_routing_key(&b);
        if let Ok(s) = std::str::from_utf8(&b) {
            let _ = Name::parse(s);
            let _ = parse_rfc3339(s);
        }
    }

    #[test]
    fn timestamps_round_trip(secs in 0u64..=LAST, nanos in 0u32..1_000_000_000) {
        let t = UNIX_EPOCH + Duration::new(secs, nanos);
        let s = format_rfc3339(t).unwrap();
        prop_assert_eq!(parse_rfc3339(&s), Some(t));
    }
}
