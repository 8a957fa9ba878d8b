//! rubo-types: CIDs (text and binary), multibases, multihashes and codec
//! names, dag-pb, the bounded CBOR walker, protobuf fields, blocks.

use bytes::Bytes;
use rubo_dag::Codec;
use rubo_dag::codec::dagpb as dag_pb;
use rubo_types::block::validate_codec;
use rubo_types::cid::{cid_prefix_from_bytes, cid_to_string, multihash_from_bytes, string_base, to_v0, to_v1};
use rubo_types::dagpb::PbNode;
use rubo_types::go;
use rubo_types::multibase::{self as mb, BASES, Encoder};
use rubo_types::pb::{self, FieldReader, FieldValue};
use rubo_types::{Base, Block, Cid, Version, cbor, cid_from_bytes, codec, hash, parse_cid};

/// What every CID rubo decoded must satisfy.
pub(crate) fn check_cid(cid: &Cid) {
    let bytes = cid.to_bytes();
    assert_eq!(bytes.len(), cid.encoded_len());
    assert_eq!(cid_from_bytes(&bytes).as_ref(), Ok(cid), "binary form does not parse back");
    let mut longer = bytes.clone();
    longer.push(0x55);
    assert_eq!(cid_prefix_from_bytes(&longer), Ok((*cid, bytes.len())), "prefix parse with trailing bytes");
    assert_eq!(multihash_from_bytes(&cid.hash().to_bytes()).as_ref(), Ok(cid.hash()));
    let text = cid.to_string();
    assert_eq!(parse_cid(&text).as_ref(), Ok(cid), "{text} does not parse back");
    for (base, name) in BASES {
        match cid_to_string(cid, *base) {
            Ok(t) => {
                assert_eq!(parse_cid(&t).as_ref(), Ok(cid), "{name} form {t:?} does not parse back");
                assert_eq!(string_base(&t), Some(*base), "{name} form {t:?}");
            }
            // Only CIDv0 refuses bases: it has base58btc alone. (Identity
            // refuses CIDs whose bytes are not text.)
            Err(_) => assert!(cid.version() == Version::V0 || *base == Base::Identity, "{name} refused {cid}"),
        }
    }
    match cid.version() {
        Version::V0 => {
            assert_eq!(cid.codec(), codec::DAG_PB);
            assert_eq!((cid.hash().code(), cid.hash().size()), (hash::SHA2_256, 32));
            assert_eq!(to_v0(&to_v1(cid)).as_ref(), Ok(cid));
        }
        Version::V1 => {
            assert_eq!(to_v1(cid), *cid);
            if let Ok(v0) = to_v0(cid) {
                assert_eq!(to_v1(&v0), *cid);
            }
        }
    }
}

/// `parse_cid` and the string forms of what it returns.
pub fn cid_string(data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    let _ = string_base(&s);
    if let Ok(cid) = parse_cid(&s) {
        check_cid(&cid);
    }
}

/// `cid_from_bytes`, `cid_prefix_from_bytes`, `multihash_from_bytes`:
/// multiformats varints are minimal, so binary forms are canonical.
pub fn cid_bytes(data: &[u8]) {
    let exact = cid_from_bytes(data);
    let prefix = cid_prefix_from_bytes(data);
    match (&exact, &prefix) {
        (Ok(c), Ok((p, used))) => {
            assert_eq!((c, *used), (p, data.len()));
            assert_eq!(c.to_bytes(), data, "binary CIDs are canonical");
        }
        (Ok(_), Err(e)) => panic!("exact parse succeeded, prefix parse failed: {e}"),
        (Err(_), Ok((p, used))) => {
            assert!(*used < data.len(), "prefix parse took everything but the exact parse failed");
            assert_eq!(cid_from_bytes(&data[..*used]).as_ref(), Ok(p));
        }
        (Err(_), Err(_)) => {}
    }
    if let Ok((c, _)) = prefix {
        check_cid(&c);
    }
    if let Ok(mh) = multihash_from_bytes(data) {
        assert_eq!(mh.to_bytes(), data, "binary multihashes are canonical");
        let _ = hash::validate(mh.code(), usize::from(mh.size()));
    }
}

/// Encodes `bytes` in `base` with go-multibase's codec and decodes the text
/// back; the text is what the `multibase` crate (an independent
/// implementation, the model) writes, identity aside (it needs UTF-8 there).
fn base_round_trip(base: Base, bytes: &[u8]) {
    let enc = Encoder::from_base(base).unwrap_or_else(|e| panic!("{base:?} is in BASES: {e}"));
    let text = enc.encode(bytes);
    if base != Base::Identity {
        let mut model = base.code().to_string();
        model.push_str(&base.encode(bytes));
        assert_eq!(text, model.as_bytes(), "{base:?} encodes {bytes:?} unlike the multibase crate");
    }
    if bytes.is_empty() && matches!(base, Base::Base36Lower | Base::Base36Upper | Base::Base58Btc | Base::Base58Flickr)
    {
        // As in Go: "k" and "z" are zero-length strings, refused.
        assert!(mb::decode(&text).is_err(), "{base:?} decoded an empty string");
        return;
    }
    let (b, back) = mb::decode(&text).unwrap_or_else(|e| panic!("{base:?} output {text:?} refused: {e}"));
    assert_eq!((b, back.as_slice()), (base, bytes), "{base:?} round trip through {text:?}");
}

/// go-multibase's codec, the one every multibase string rubo reads goes
/// through (CIDs included): what decodes re-encodes to text that decodes to
/// the same bytes, any bytes round-trip through every base, and the names
/// and prefixes rubo maps to bases map back.
pub fn multibase(data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    if let Some(b) = mb::by_name(&s) {
        assert!(BASES.iter().any(|(x, _)| *x == b));
        let name = mb::name_of(b);
        assert_eq!(mb::by_name(name), Some(b));
        assert_eq!(mb::from_prefix(mb::code_of(b)), Some(b));
        let e = Encoder::from_base(b).unwrap_or_else(|e| panic!("{b:?}: {e}"));
        assert_eq!(Encoder::new(i64::from(e.code())), Ok(e));
        assert_eq!(mb::name_of_code(i64::from(e.code())), Some(name));
    }
    if let Ok((base, bytes)) = mb::decode(data) {
        assert!(BASES.iter().any(|(b, _)| *b == base), "decoded as {base:?}, which go-multibase lacks");
        if bytes.len() <= 4096 {
            base_round_trip(base, &bytes);
        }
    }
    // Any bytes encode and decode back in every base (inputs are capped by
    // the driver; base2 makes 8 characters a byte).
    if data.len() <= 512 {
        for (base, _) in BASES {
            base_round_trip(*base, data);
        }
    }
}

/// A simple model of Go's `strconv.ParseInt`/`ParseUint` (bit sizes 8 to
/// 64): the grammar written as splits on `_`, the value in 128 bits. `None`
/// where Go fails; `Some(true)` in `.1` when the only fault is the range.
fn go_int_model(s: &str, base: u32, bits: u32, signed: bool) -> (Option<i128>, bool) {
    let (neg, rest) = match s.as_bytes().first() {
        Some(b'+') if signed => (false, &s[1..]),
        Some(b'-') if signed => (true, &s[1..]),
        _ => (false, s),
    };
    if rest.is_empty() {
        return (None, false);
    }
    let lower = rest.to_ascii_lowercase();
    // (radix, digits and underscores, whether a prefix may be followed by `_`)
    let (radix, body, prefixed) = match base {
        0 if lower.len() >= 3 && lower.starts_with("0x") => (16, &rest[2..], true),
        0 if lower.len() >= 3 && lower.starts_with("0o") => (8, &rest[2..], true),
        0 if lower.len() >= 3 && lower.starts_with("0b") => (2, &rest[2..], true),
        0 if rest.starts_with('0') => (8, rest, false),
        0 => (10, rest, false),
        b => (b, rest, false),
    };
    let groups: Vec<&str> = if base == 0 { body.split('_').collect() } else { vec![body] };
    let underscores_ok =
        groups.iter().enumerate().all(|(i, g)| !g.is_empty() || (i == 0 && prefixed && groups.len() > 1));
    let digits: String = groups.concat();
    let mut value: u128 = 0;
    let mut digits_ok = !digits.is_empty();
    for c in digits.chars() {
        match c.to_digit(radix) {
            Some(d) => value = (value * u128::from(radix) + u128::from(d)).min(u128::from(u64::MAX) + 1),
            None => digits_ok = false,
        }
    }
    let limit: u128 = match (signed, neg) {
        (false, _) => (1u128 << bits) - 1,
        (true, false) => (1u128 << (bits - 1)) - 1,
        (true, true) => 1u128 << (bits - 1),
    };
    if !(underscores_ok && digits_ok) {
        return (None, false);
    }
    if value > limit {
        return (None, true);
    }
    let v = value as i128;
    (Some(if neg { -v } else { v }), false)
}

/// The one Go-style integer parser against the model, for the bases and
/// sizes rubo uses and a few more; errors name the input and the function.
pub fn go_int(data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    for base in [0, 2, 8, 10, 16, 36] {
        for bits in [8, 16, 32, 64] {
            let got = go::parse_int(&s, base, bits);
            let (want, range_only) = go_int_model(&s, base, bits, true);
            assert_eq!(got.as_ref().ok().map(|v| i128::from(*v)), want, "ParseInt({s:?}, {base}, {bits}): {got:?}");
            if let Err(e) = &got {
                assert_eq!((e.func, e.input.as_str()), ("ParseInt", &*s));
                if range_only {
                    assert!(e.is_range(), "ParseInt({s:?}, {base}, {bits}): {e}");
                }
            }
            let got = go::parse_uint(&s, base, bits);
            let (want, range_only) = go_int_model(&s, base, bits, false);
            assert_eq!(got.as_ref().ok().map(|v| i128::from(*v)), want, "ParseUint({s:?}, {base}, {bits}): {got:?}");
            if let (Err(e), true) = (&got, range_only) {
                assert!(e.is_range(), "ParseUint({s:?}, {base}, {bits}): {e}");
            }
        }
    }
    // What parses prints back (in decimal) to the same value.
    if let Ok(v) = go::parse_int(&s, 0, 64) {
        assert_eq!(go::parse_int(&v.to_string(), 0, 64), Ok(v));
    }
}

/// Hash and codec names, numbers in Go's notations, binary multihashes, and
/// hashing with any implemented function and length.
pub fn multihash(data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    if let Ok(code) = hash::code_of(&s) {
        let name = hash::name_of(code).unwrap_or_else(|| panic!("{s:?} gave code {code:#x} without a name"));
        assert_eq!(hash::code_of(&name), Ok(code));
        let _ = (hash::default_length(code), hash::is_allowed(code));
    }
    if let Some(c) = codec::code_of(&s)
        && let Some(name) = codec::name_of(c)
    {
        assert_eq!(codec::code_of(name), Some(c));
    }
    if let Some(c) = codec::parse_multicodec(&s) {
        if let Some(name) = codec::multicodec_name(c) {
            assert_eq!(codec::parse_multicodec(name), Some(c), "{name}");
        }
        let _ = codec::display_name(c);
    }
    if let Ok(mh) = multihash_from_bytes(data) {
        assert_eq!(mh.to_bytes(), data);
        let _ = hash::verify(&mh, data);
    }
    // Byte 0 picks a function, byte 1 a length (0xff: the default).
    if let [f, l, rest @ ..] = data {
        let codes = hash::implemented_codes();
        let code = codes[usize::from(*f) % codes.len()];
        let len = (*l != 0xff).then_some(usize::from(*l));
        if let Ok(mh) = hash::digest(code, len, rest) {
            assert_eq!(mh.code(), code);
            if let Some(l) = len {
                assert_eq!(usize::from(mh.size()), l);
            }
            assert_eq!(hash::verify(&mh, rest), Ok(true));
            let mut h = hash::Hasher::new(code, len).unwrap_or_else(|e| panic!("digest worked, Hasher::new: {e}"));
            // Streaming in two pieces gives the same digest.
            let cut = rest.len() / 2;
            h.update(&rest[..cut]);
            h.update(&rest[cut..]);
            assert_eq!(h.finalize(), Ok(mh));
        }
    }
}

/// Both dag-pb decoders: rubo-types' strict `PbNode` and go-codec-dagpb's
/// rules in rubo-dag. What the strict one accepts the other reads the same way.
pub fn dagpb(data: &[u8]) {
    let strict = PbNode::decode(&Bytes::copy_from_slice(data));
    assert_eq!(strict, PbNode::decode_slice(data));
    let lenient = dag_pb::decode_raw_slice(data);
    let valid = validate_codec(codec::DAG_PB, data).is_ok();
    assert_eq!(valid, strict.is_ok(), "validate_codec disagrees with PbNode::decode");
    let Ok(node) = strict else { return };
    let enc = node.encode();
    assert_eq!(enc.len(), node.encoded_len());
    assert_eq!(PbNode::decode_slice(&enc).as_ref(), Ok(&node), "dag-pb round trip");
    let raw = lenient.unwrap_or_else(|e| panic!("rubo-dag refuses a block rubo-types accepts: {e}"));
    assert_eq!(raw.data, node.data);
    assert_eq!(raw.links.len(), node.links.len());
    for (r, l) in raw.links.iter().zip(&node.links) {
        assert_eq!(r.cid, l.cid);
        assert_eq!(r.tsize, l.tsize.map(|t| t as i64));
        // Names are bytes in both: kept exactly, whatever they hold.
        assert_eq!(r.name.as_ref().map(|n| n.as_bytes()), l.name.as_deref().map(|n| n.as_slice()));
        check_cid(&l.cid);
    }
}

/// The bounded walker every dag-cbor block goes through before serde: its
/// links are the ones rubo-dag's decoder finds, when both accept the block.
pub fn cbor_walk(data: &[u8]) {
    let mut links = Vec::new();
    let walked = cbor::walk(data, |c| links.push(c));
    if walked.is_err() {
        assert!(validate_codec(codec::DAG_CBOR, data).is_err());
        return;
    }
    let _ = validate_codec(codec::DAG_CBOR, data);
    if let Ok(node) = Codec::DagCbor.decode(data) {
        assert_eq!(node.links(), links, "walker and decoder find different links");
    }
    for c in &links {
        check_cid(c);
    }
}

fn put_value(out: &mut Vec<u8>, num: u32, v: &FieldValue<'_>) {
    pb::put_key(out, num, v.wire_type());
    match v {
        FieldValue::Varint(x) => pb::put_uvarint(out, *x),
        FieldValue::Fixed64(x) => out.extend_from_slice(&x.to_le_bytes()),
        FieldValue::Fixed32(x) => out.extend_from_slice(&x.to_le_bytes()),
        FieldValue::Len(b) => {
            pb::put_uvarint(out, b.len() as u64);
            out.extend_from_slice(b);
        }
    }
}

/// Protobuf varints and the field reader: what was read re-encodes to bytes
/// that read back the same.
pub fn pb_fields(data: &[u8]) {
    if let Ok((v, n)) = pb::get_uvarint(data) {
        assert!((1..=10).contains(&n) && n <= data.len());
        let mut b = Vec::new();
        pb::put_uvarint(&mut b, v);
        assert_eq!(b.len(), pb::uvarint_len(v));
        assert!(b.len() <= n);
        assert_eq!(pb::get_uvarint(&b), Ok((v, b.len())));
        if let Ok((m, k)) = pb::get_uvarint_minimal(data) {
            assert_eq!((m, &data[..k]), (v, b.as_slice()), "a minimal varint is the canonical encoding");
        }
    } else {
        assert!(pb::get_uvarint_minimal(data).is_err());
    }
    let mut fields = Vec::new();
    for f in FieldReader::new(data) {
        match f {
            Ok(x) => fields.push(x),
            Err(_) => break,
        }
    }
    let mut out = Vec::new();
    for (num, v) in &fields {
        put_value(&mut out, *num, v);
    }
    let again: Vec<_> = FieldReader::new(&out).collect::<Result<_, _>>().expect("re-encoded fields read back");
    assert_eq!(again, fields);
    for (num, v) in &fields {
        if let FieldValue::Len(b) = v {
            // Nested messages are fields too; a reader over them stops cleanly.
            let _ = FieldReader::new(b).take(64).count();
        }
        assert_ne!(*num, 0);
    }
}

/// Blocks: codec validation of anything; hashing into a CID then verifying
/// against it; a changed byte no longer verifies.
pub fn block(data: &[u8]) {
    if let Ok((cid, used)) = cid_prefix_from_bytes(data) {
        let _ = Block::new(cid, Bytes::copy_from_slice(&data[used..]));
    }
    let Some((&sel, rest)) = data.split_first() else { return };
    let codecs = [
        codec::DAG_PB,
        codec::DAG_CBOR,
        codec::DAG_JSON,
        codec::JSON,
        codec::RAW,
        codec::CBOR,
        codec::LIBP2P_KEY,
        codec::IDENTITY,
    ];
    let hashes = [
        hash::SHA2_256,
        hash::SHA2_512,
        hash::BLAKE3,
        hash::IDENTITY,
        hash::SHA3_256,
        hash::BLAKE2B_MIN + 31,
        hash::KECCAK_256,
        hash::SHA1,
    ];
    let code = codecs[usize::from(sel & 7)];
    let _ = validate_codec(code, rest);
    let version = if sel & 0x40 != 0 { Version::V0 } else { Version::V1 };
    let Ok(b) = Block::encode(Bytes::copy_from_slice(rest), code, hashes[usize::from((sel >> 3) & 7)], None, version)
    else {
        return;
    };
    check_cid(b.cid());
    let again = Block::new(*b.cid(), Bytes::copy_from_slice(rest)).expect("a block verifies against its own CID");
    assert_eq!(again, b);
    let mut changed = rest.to_vec();
    match changed.first_mut() {
        Some(x) => *x ^= 1,
        None => changed.push(0),
    }
    assert!(Block::new(*b.cid(), changed).is_err(), "changed data still verifies");
}
