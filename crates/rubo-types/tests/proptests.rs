//! Properties of the core types: every CID survives text and bytes in every
//! base; dag-pb and varints round-trip; no input panics a decoder.

use proptest::prelude::*;
use rubo_types::cid::{cid_prefix_from_bytes, cid_to_string, to_v0, to_v1};
use rubo_types::dagpb::{PbLink, PbNode};
use rubo_types::{Base, Bytes, Cid, cid_from_bytes, codec, hash, multibase, parse_cid, pb};

/// Hashes with a fixed digest, and their lengths, among those rubo computes.
const HASHES: [u64; 5] = [hash::SHA2_256, hash::SHA2_512, hash::SHA3_256, hash::BLAKE3, 0xb220];
const CODECS: [u64; 5] = [codec::RAW, codec::DAG_PB, codec::DAG_CBOR, codec::DAG_JSON, codec::LIBP2P_KEY];

fn any_cid() -> impl Strategy<Value = Cid> {
    (proptest::collection::vec(any::<u8>(), 0..64), 0..HASHES.len(), 0..CODECS.len(), any::<bool>()).prop_map(
        |(data, h, c, v0)| {
            let mh = hash::digest(HASHES[h], None, &data).expect("a supported hash");
            if v0 && HASHES[h] == hash::SHA2_256 {
                Cid::new_v0(mh).expect("sha2-256 makes a CIDv0")
            } else {
                Cid::new_v1(CODECS[c], mh)
            }
        },
    )
}

fn any_link() -> impl Strategy<Value = PbLink> {
    // Names are any bytes, UTF-8 or not: they must round-trip unchanged.
    (any_cid(), proptest::option::of(proptest::collection::vec(any::<u8>(), 0..12)), proptest::option::of(any::<u64>()))
        .prop_map(|(cid, name, tsize)| PbLink { cid, name: name.map(Into::into), tsize })
}

proptest! {
    #[test]
    fn cids_round_trip_in_every_base(cid in any_cid()) {
        prop_assert_eq!(cid_from_bytes(&cid.to_bytes()).unwrap(), cid);
        let (prefix, used) = cid_prefix_from_bytes(&[cid.to_bytes(), vec![1, 2, 3]].concat()).unwrap();
        prop_assert_eq!(prefix, cid);
        prop_assert_eq!(used, cid.to_bytes().len());
        let v1 = to_v1(&cid);
        for (base, _) in multibase::BASES {
            // The identity base shows only CIDs whose bytes are UTF-8.
            if let Ok(s) = cid_to_string(&v1, *base) {
                prop_assert_eq!(parse_cid(&s).unwrap(), v1, "base {:?}: {:?}", base, s);
            } else {
                prop_assert_eq!(*base, Base::Identity);
            }
        }
        if let Ok(v0) = to_v0(&cid) {
            prop_assert_eq!(parse_cid(&cid_to_string(&v0, Base::Base58Btc).unwrap()).unwrap(), v0);
            prop_assert_eq!(to_v1(&v0), v1);
        }
    }

    #[test]
    fn cid_text_never_panics(s in "\\PC{0,80}") {
        if let Ok(cid) = parse_cid(&s) {
            // Whatever parsed, its canonical forms parse back to it.
            prop_assert_eq!(cid_from_bytes(&cid.to_bytes()).unwrap(), cid);
        }
    }

    #[test]
    fn cid_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..80)) {
        if let Ok(cid) = cid_from_bytes(&b) {
            prop_assert_eq!(cid.to_bytes(), b);
        }
    }

    #[test]
    fn dagpb_round_trips(links in proptest::collection::vec(any_link(), 0..8),
                         data in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..64))) {
        let node = PbNode { links, data: data.map(Bytes::from) };
        let bytes = node.encode();
        prop_assert_eq!(bytes.len(), node.encoded_len());
        let back = PbNode::decode_slice(&bytes).unwrap();
        prop_assert_eq!(&back, &node);
        prop_assert_eq!(back.encode(), bytes);
    }

    #[test]
    fn dagpb_decoder_never_panics(b in proptest::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(node) = PbNode::decode_slice(&b) {
            // What decodes re-encodes to something that decodes the same.
            prop_assert_eq!(PbNode::decode_slice(&node.encode()).unwrap(), node);
        }
    }

    #[test]
    fn varints_round_trip(v in any::<u64>()) {
        let mut buf = Vec::new();
        pb::put_uvarint(&mut buf, v);
        prop_assert_eq!(buf.len(), pb::uvarint_len(v));
        prop_assert_eq!(pb::get_uvarint(&buf).unwrap(), (v, buf.len()));
        // Multiformats varints stop at 9 bytes (63 bits).
        if v < 1 << 63 {
            prop_assert_eq!(pb::get_uvarint_minimal(&buf).unwrap(), (v, buf.len()));
        } else {
            prop_assert!(pb::get_uvarint_minimal(&buf).is_err());
        }
        // A padded (non-minimal) form is protobuf-legal but not multiformats.
        if buf.len() < 9 {
            let last = buf.len() - 1;
            buf[last] |= 0x80;
            buf.push(0);
            prop_assert_eq!(pb::get_uvarint(&buf).unwrap(), (v, buf.len()));
            prop_assert!(pb::get_uvarint_minimal(&buf).is_err());
        }
    }

    #[test]
    fn digests_verify(data in proptest::collection::vec(any::<u8>(), 0..512), h in 0..HASHES.len(), flip in any::<usize>()) {
        let mh = hash::digest(HASHES[h], None, &data).unwrap();
        prop_assert!(hash::verify(&mh, &data).unwrap());
        if !data.is_empty() {
            let mut bad = data.clone();
            let i = flip % bad.len();
            bad[i] ^= 1;
            prop_assert!(!hash::verify(&mh, &bad).unwrap());
        }
    }
}
