//! Properties of the repo's text formats: flatfs keys, Go durations and byte
//! sizes, keystore file names.

use std::time::Duration;

use proptest::prelude::*;
use rubo_repo::config::units::{format_duration, humanize_bytes, parse_bytes, parse_duration};
use rubo_repo::flatfs::{Shard, key_of, multihash_of_key};
use rubo_repo::keystore;
use rubo_types::hash;

proptest! {
    #[test]
    fn flatfs_keys_round_trip(data in proptest::collection::vec(any::<u8>(), 0..64), blake3 in any::<bool>()) {
        let code = if blake3 { hash::BLAKE3 } else { hash::SHA2_256 };
        let mh = hash::digest(code, None, &data).unwrap();
        let key = key_of(&mh);
        // Kubo's file names: upper-case unpadded base32.
        prop_assert!(key.bytes().all(|c| c.is_ascii_uppercase() || (b'2'..=b'7').contains(&c)));
        prop_assert_eq!(multihash_of_key(&key), Some(mh));
        let dir = Shard::NextToLast(2).dir(&key);
        prop_assert_eq!(dir.as_str(), &key[key.len() - 3..key.len() - 1]);
    }

    #[test]
    fn shard_dirs_never_panic(key in "\\PC{0,12}") {
        for shard in [Shard::Prefix(2), Shard::Suffix(2), Shard::NextToLast(2)] {
            let _ = shard.dir(&key);
        }
    }

    #[test]
    fn durations_round_trip(nanos in 0u64..(1 << 63)) {
        let d = Duration::from_nanos(nanos);
        let s = format_duration(d);
        prop_assert_eq!(parse_duration(&s), Ok(d), "{}", s);
    }

    #[test]
    fn duration_text_never_panics(s in "[0-9.hmsuµn ]{0,24}") {
        let _ = parse_duration(&s);
    }

    #[test]
    fn byte_sizes_round_trip_within_rounding(n in any::<u64>()) {
        let h = humanize_bytes(n);
        let back = parse_bytes(&h).unwrap();
        // Rounded to a tenth, then shown without decimals from 10 up (half to
        // even, as Go): "10.5 kB" shows as "10 kB", up to 0.55/9.95 = 5.53% off.
        prop_assert!((back as f64 - n as f64).abs() <= n as f64 * 0.056 + 0.5, "{} -> {} -> {}", n, h, back);
    }

    #[test]
    fn keystore_names_round_trip(name in "\\PC{1,40}") {
        let file = keystore::file_name(&name);
        prop_assert!(file.starts_with("key_"));
        prop_assert_eq!(keystore::name_of(&file), Some(name.clone()));
        prop_assert_eq!(keystore::name_of(&file.to_ascii_uppercase().replacen("KEY_", "key_", 1)), Some(name));
    }
}
