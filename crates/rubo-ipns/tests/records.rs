//! Records against the spec's test vectors and real Kubo/boxo records, and
//! round trips through `Record::create`.

mod fixtures;

use std::cmp::Ordering;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fixtures::{bytes, helia, helia_all, shared};
use libp2p_identity::{Keypair, ecdsa, secp256k1};
use prost::Message;
use rubo_ipns::time::parse_rfc3339;
use rubo_ipns::{
    CreateError, CreateOptions, EmbedPublicKey, IpnsEntry, IpnsError, MAX_RECORD_SIZE, NOOP_VALUE, Name, Record,
    RecordData, inspect, select, signature_v1_payload, signature_v2_payload, validate, validate_routing_record,
};

fn name(s: &str) -> Name {
    Name::parse(s).unwrap()
}

fn unix(secs: u64, nanos: u32) -> SystemTime {
    UNIX_EPOCH + Duration::new(secs, nanos)
}

/// 2025-01-01T00:00:00Z: after the expired vector, long before the others.
fn now() -> SystemTime {
    unix(1_735_689_600, 0)
}

/// 2123-08-14T12:17:03.694052Z, the EOL in the `fixtures/ipns_records`
/// vectors (`date -u -d 2123-08-14T12:17:03Z +%s` = 4847689023).
fn spec_vector_eol() -> SystemTime {
    unix(4_847_689_023, 694_052_000)
}

/// The generator's TTL (`generator/main.go`: 30 minutes).
const SPEC_VECTOR_TTL: Duration = Duration::from_secs(30 * 60);

fn ed25519(seed: u8) -> Keypair {
    Keypair::ed25519_from_bytes([seed; 32]).unwrap()
}

fn secp(seed: u8) -> Keypair {
    secp256k1::Keypair::from(secp256k1::SecretKey::try_from_bytes([seed; 32]).unwrap()).into()
}

fn ecdsa_key(seed: u8) -> Keypair {
    ecdsa::Keypair::from(ecdsa::SecretKey::try_from_bytes([seed; 32]).unwrap()).into()
}

fn rsa() -> Keypair {
    Keypair::rsa_from_pkcs8(&mut bytes(fixtures::RSA_TEST_KEY_PKCS8)).unwrap()
}

fn in_a_day() -> SystemTime {
    now() + Duration::from_secs(86_400)
}

fn create(k: &Keypair, value: &str, seq: u64) -> Record {
    Record::create(k, value.as_bytes(), seq, in_a_day(), Duration::from_secs(300), CreateOptions::default()).unwrap()
}

/// Signs `data` with `k` into a V2-only entry, bypassing `Record::create`'s
/// checks, so that validation is tested on records create refuses to make.
fn sign_raw(k: &Keypair, cbor: Vec<u8>) -> IpnsEntry {
    IpnsEntry {
        signature_v2: Some(k.sign(&signature_v2_payload(&cbor)).unwrap()),
        data: Some(cbor),
        ..Default::default()
    }
}

fn data(value: &str, validity: &str) -> RecordData {
    RecordData { value: value.into(), validity: validity.into(), validity_type: 0, sequence: 1, ttl: 5 }
}

fn decode(b: &[u8]) -> IpnsEntry {
    IpnsEntry::decode(b).unwrap()
}

#[test]
fn spec_vectors() {
    // ipfs/specs ipns-record "Test Vectors", with the values in
    // gateway-conformance fixtures/ipns_records/README.md and js-ipns
    // test/conformance.spec.ts. File names are `<name>_<kind>.ipns-record`.
    let vector = |n: &str, kind: &str| shared(&format!("{n}_{kind}.ipns-record")).map(|b| (name(n), b));
    if let Some((n, b)) = vector("k51qzi5uqu5dm4tm0wt8srkg9h9suud4wuiwjimndrkydqm81cqtlb5ak6p7ku", "v1") {
        let err = validate(&n, &b, now());
        assert!(matches!(err, Err(IpnsError::NoV2Signature)), "{err:?}");
    }
    if let Some((n, b)) = vector("k51qzi5uqu5dlkw8pxuw9qmqayfdeh4kfebhmreauqdc6a7c3y7d5i9fi8mk9w", "v1-v2") {
        let r = validate(&n, &b, now()).unwrap();
        assert_eq!(r.value(), "/ipfs/bafkqaddwgevxmmraojswg33smq");
        assert_eq!(r.sequence(), 0);
        assert_eq!(r.ttl(), SPEC_VECTOR_TTL);
        assert_eq!(r.validity(), spec_vector_eol());
        assert!(r.is_v1_compatible());
        assert_eq!(r.as_bytes(), b);
        // The V1 signature is over boxo's V1 bytes, `value ++ validity ++ "EOL"`.
        let e = r.entry();
        let mut payload = e.value.clone().unwrap();
        payload.extend_from_slice(e.validity.as_deref().unwrap());
        payload.extend_from_slice(b"EOL");
        assert_eq!(signature_v1_payload(e), payload);
        assert!(r.public_key().verify(&payload, e.signature_v1.as_deref().unwrap()));
    }
    if let Some((n, b)) =
        vector("k51qzi5uqu5dlmit2tuwdvnx4sbnyqgmvbxftl0eo3f33wwtb9gr7yozae9kpw", "v1-v2-broken-v1-value")
    {
        let err = validate(&n, &b, now());
        assert!(matches!(err, Err(IpnsError::FieldsDisagree("value"))), "{err:?}");
    }
    if let Some((n, b)) =
        vector("k51qzi5uqu5diamp7qnnvs1p1gzmku3eijkeijs3418j23j077zrkok63xdm8c", "v1-v2-broken-signature-v2")
    {
        let err = validate(&n, &b, now());
        assert!(matches!(err, Err(IpnsError::BadSignature)), "{err:?}");
    }
    if let Some((n, b)) =
        vector("k51qzi5uqu5dilgf7gorsh9vcqqq4myo6jd4zmqkuy9pxyxi5fua3uf7axph4y", "v1-v2-broken-signature-v1")
    {
        let r = validate(&n, &b, now()).unwrap();
        assert_eq!(r.value(), "/ipfs/bafkqahtwgevxmmrao5uxi2bamjzg623fnyqhg2lhnzqxi5lsmuqhmmi");
    }
    if let Some((n, b)) = vector("k51qzi5uqu5dit2ku9mutlfgwyz8u730on38kd10m97m36bjt66my99hb6103f", "v2") {
        let r = validate(&n, &b, now()).unwrap();
        assert_eq!(r.value(), "/ipfs/bafkqadtwgiww63tmpeqhezldn5zgi");
        assert!(!r.is_v1_compatible());
        assert_eq!(r.sequence(), 0);
        assert_eq!(r.ttl(), SPEC_VECTOR_TTL);
        // Another name's key (inlined in the name) fails the signature
        // (boxo TestValidateWithName).
        let other = name("k51qzi5uqu5dlkw8pxuw9qmqayfdeh4kfebhmreauqdc6a7c3y7d5i9fi8mk9w");
        assert!(matches!(validate(&other, &b, now()), Err(IpnsError::BadSignature)));
    }
}

#[test]
fn helia_records_validate_to_what_helia_says() {
    for (label, h) in helia_all() {
        let n = name(&h.name);
        assert_eq!(name(&h.peer_id), n, "{label}");
        let r = validate(&n, &h.record, now()).unwrap_or_else(|e| {
            assert_eq!(label, "expired", "{e}");
            let IpnsError::Expired(x) = e else { panic!("{label}: {e}") };
            x.into_stale_record()
        });
        assert_eq!(r.value(), h.value, "{label}");
        assert_eq!(r.sequence(), h.sequence, "{label}");
        assert_eq!(r.ttl(), Duration::from_nanos(h.ttl_ns), "{label}");
        assert_eq!(Some(r.validity()), parse_rfc3339(&h.validity), "{label}");
        assert_eq!(r.entry().pub_key.is_some(), h.embeds_public_key, "{label}");
        assert_eq!(r.is_v1_compatible(), h.v1, "{label}");
        assert_eq!(r.as_bytes(), h.record, "{label}");
        // The protobuf model loses nothing and writes fields in order
        // (js-ipns "should round trip fixtures").
        assert_eq!(decode(&h.record).encode_to_vec(), h.record, "{label}");
        if h.v1 {
            let e = r.entry();
            assert!(r.public_key().verify(&signature_v1_payload(e), e.signature_v1.as_deref().unwrap()), "{label}");
        }
    }
}
#[test]
fn fixtures_re_encode_to_their_bytes() {
    // js-ipns conformance "should round trip fixtures": the protobuf model
    // loses nothing, and encodes fields in Go's order.
    for f in [
        "k51qzi5uqu5dlkw8pxuw9qmqayfdeh4kfebhmreauqdc6a7c3y7d5i9fi8mk9w_v1-v2.ipns-record",
        "k51qzi5uqu5dilgf7gorsh9vcqqq4myo6jd4zmqkuy9pxyxi5fua3uf7axph4y_v1-v2-broken-signature-v1.ipns-record",
        "k51qzi5uqu5diamp7qnnvs1p1gzmku3eijkeijs3418j23j077zrkok63xdm8c_v1-v2-broken-signature-v2.ipns-record",
        "k51qzi5uqu5dit2ku9mutlfgwyz8u730on38kd10m97m36bjt66my99hb6103f_v2.ipns-record",
        "QmVujd5Vb7moysJj8itnGufN7MEtPRCNHkKpNuA4onsRa3.ipns-record",
    ] {
        if let Some(b) = shared(f) {
            assert_eq!(decode(&b).encode_to_vec(), b, "{f}");
        }
    }
}
#[test]
fn records_published_by_kubo() {
    // gateway-conformance tooling/ipns/ipns_test.go: value, and validity
    // after 2123-03-01T01:00:00.801257Z (`date -u +%s` = 4833766800).
    let after = unix(4_833_766_800, 801_257_000);
    for (n, value) in [
        (
            "k51qzi5uqu5dgh7y9l90nqs6tvnzcm9erbt8fhzg3fu79p5qt9zb2izvfu51ki",
            "/ipfs/bafyaaeykceeaeeqlnbswy3dpo5xxe3debimaw",
        ),
        (
            "k51qzi5uqu5dh71qgwangrt6r0nd4094i88nsady6qgd1dhjcyfsaqmpp143ab",
            "/ipfs/bafkreidfdrlkeq4m4xnxuyx6iae76fdm4wgl5d4xzsb77ixhyqwumhz244",
        ),
    ] {
        if let Some(b) = shared(&format!("{n}.ipns-record")) {
            let r = validate(&name(n), &b, now()).unwrap();
            assert_eq!(r.value(), value);
            assert!(r.validity() > after);
        }
    }
    // fixtures/gateway-cache/README.md: the value has a sub-path.
    let n = "k51qzi5uqu5djokp3m1keo36hoxtd6u3a1d2rg1camf6al7p3huy63dojlm57c";
    if let Some(b) = shared(&format!("{n}.ipns-record")) {
        let r = validate(&name(n), &b, now()).unwrap();
        assert_eq!(r.value(), "/ipfs/bafybeib3ffl2teiqdncv3mkz4r23b5ctrwkzrrhctdbne6iboayxuxk5ui/root2");
    }
}
#[test]
fn subdomain_gateway_records_ed25519_and_rsa() {
    // fixtures/subdomain_gateway/README.md: `ipfs name publish --ttl=876600h
    // "/ipfs/$CIDv1"`, CIDv1 of "hello\n" (Kubo t0114-gateway-subdomains.sh).
    let value = "/ipfs/bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am";
    let ttl = Duration::from_secs(876_600 * 3600);
    for (file, names) in [
        (
            "12D3KooWLQzUv2FHWGVPXTXSZpdHs7oHbXub2G5WC8Tx4NQhyd2d.ipns-record",
            [
                "12D3KooWLQzUv2FHWGVPXTXSZpdHs7oHbXub2G5WC8Tx4NQhyd2d",
                "k51qzi5uqu5dk3v4rmjber23h16xnr23bsggmqqil9z2gduiis5se8dht36dam",
            ],
        ),
        (
            "QmVujd5Vb7moysJj8itnGufN7MEtPRCNHkKpNuA4onsRa3.ipns-record",
            [
                "QmVujd5Vb7moysJj8itnGufN7MEtPRCNHkKpNuA4onsRa3",
                "k2k4r8m7xvggw5pxxk3abrkwyer625hg01hfyggrai7lk1m63fuihi7w",
            ],
        ),
    ] {
        let Some(b) = shared(file) else { continue };
        for n in names {
            let r = validate(&name(n), &b, now()).unwrap();
            assert_eq!(r.value(), value);
            assert_eq!(r.ttl(), ttl);
        }
    }
}

#[test]
fn embedded_keys_must_hash_to_the_name() {
    // An RSA record made by Helia embeds its key.
    let h = helia("rsa");
    let n = name(&h.name);
    validate(&n, &h.record, now()).unwrap();
    assert!(decode(&h.record).pub_key.is_some());
    for other in [
        // boxo name_test.go's RSA name, and an Ed25519 one.
        "QmRp2LvtSQtCkUWCpi92ph5MdQyRtfb9jHbkNgZzGExGuG",
        "12D3KooWLQzUv2FHWGVPXTXSZpdHs7oHbXub2G5WC8Tx4NQhyd2d",
    ] {
        let err = validate(&name(other), &h.record, now());
        assert!(matches!(err, Err(IpnsError::WrongKey)), "{other}: {err:?}");
    }
    // Without the key, an RSA name cannot be checked (boxo TestEmbeddedPubKeyValidate).
    let mut e = decode(&h.record);
    e.pub_key = None;
    assert!(matches!(validate(&n, &e.encode_to_vec(), now()), Err(IpnsError::NoPublicKey)));
    e.pub_key = Some(b"probably not a public key".to_vec());
    assert!(matches!(validate(&n, &e.encode_to_vec(), now()), Err(IpnsError::BadPublicKey(_))));
    e.pub_key = Some(rsa().public().encode_protobuf());
    assert!(matches!(validate(&n, &e.encode_to_vec(), now()), Err(IpnsError::WrongKey)));
}
#[test]
fn a_record_for_another_name_is_refused() {
    // Ed25519: the key comes from the name, so another name's key fails the
    // signature (boxo TestValidateWithName).
    let (a, b) = (helia("ed25519-v1-v2"), helia("ed25519-v2"));
    let err = validate(&name(&a.name), &b.record, now());
    assert!(matches!(err, Err(IpnsError::BadSignature)), "{err:?}");
    // A record whose embedded key is not the name's.
    let mut e = decode(&b.record);
    e.pub_key = Some(ed25519(9).public().encode_protobuf());
    let err = validate(&name(&b.name), &e.encode_to_vec(), now());
    assert!(matches!(err, Err(IpnsError::WrongKey)), "{err:?}");
}
#[test]
fn expired_records_are_errors_that_hold_the_record() {
    // Helia's record made at 2020-01-01T00:00:00Z for an hour: EOL
    // 2020-01-01T01:00:00Z (`date -u +%s` = 1577840400).
    let eol = unix(1_577_840_400, 0);
    let h = helia("expired");
    let n = name(&h.name);
    let Err(IpnsError::Expired(expired)) = validate(&n, &h.record, now()) else { panic!("not expired") };
    assert_eq!(expired.eol(), eol);
    assert_eq!(expired.checked_at(), now());
    assert_eq!(expired.name(), &n);
    assert_eq!(expired.to_string(), "record is expired (EOL 2020-01-01T01:00:00Z)");
    assert_eq!(expired.stale_record().sequence(), 5);
    let stale = expired.into_stale_record();
    assert_eq!(stale.value(), "/ipfs/bafkqaaa");

    // Valid up to and at its EOL (boxo: expired when now is after it).
    assert_eq!(validate(&n, &h.record, eol).unwrap().value(), "/ipfs/bafkqaaa");
    assert!(matches!(validate(&n, &h.record, eol + Duration::from_nanos(1)), Err(IpnsError::Expired(_))));

    // A bad signature is reported as such, not as expiry.
    let mut e = decode(&h.record);
    if let Some(s) = e.signature_v2.as_mut() {
        s[0] ^= 1;
    }
    assert!(matches!(validate(&n, &e.encode_to_vec(), now()), Err(IpnsError::BadSignature)));
}
#[test]
fn size_limit_is_10_kib() {
    let k = ed25519(1);
    let n = Name::from_public_key(&k.public());
    // The largest value that fits: grow the path until the record is
    // exactly at the limit.
    let opts = CreateOptions { v1_compatible: false, ..Default::default() };
    let eol = in_a_day();
    let mut largest = None;
    for extra in 9_800..10_240 {
        let value = format!("/ipns/{}", "a".repeat(extra));
        match Record::create(&k, value.as_bytes(), 1, eol, Duration::ZERO, opts) {
            Ok(r) => largest = Some(r),
            Err(CreateError::TooLarge(len)) => {
                assert_eq!(len, MAX_RECORD_SIZE + 1);
                break;
            }
            Err(e) => panic!("{e}"),
        }
    }
    let largest = largest.unwrap();
    assert_eq!(largest.as_bytes().len(), 10_240);
    validate(&n, largest.as_bytes(), now()).unwrap();
    // One more byte (an unknown field would be ignored) is refused unread.
    let mut over = largest.as_bytes().to_vec();
    over.extend_from_slice(&[0x78, 0x00]); // field 15, varint 0
    over.truncate(10_241);
    let err = validate(&n, &over, now());
    assert!(matches!(err, Err(IpnsError::TooLarge(10_241))), "{err:?}");
    assert!(matches!(validate(&n, &vec![0u8; 1 << 20], now()), Err(IpnsError::TooLarge(_))));
}

#[test]
fn v1_only_and_data_less_records_are_refused() {
    let k = ed25519(2);
    let n = Name::from_public_key(&k.public());
    let r = create(&k, "/ipfs/bafkqaaa", 1);
    let mut e = r.entry().clone();
    e.signature_v2 = None;
    e.data = None;
    assert!(matches!(validate(&n, &e.encode_to_vec(), now()), Err(IpnsError::NoV2Signature)));
    let mut e = r.entry().clone();
    e.signature_v2 = Some(Vec::new());
    assert!(matches!(validate(&n, &e.encode_to_vec(), now()), Err(IpnsError::NoV2Signature)));
    let mut e = r.entry().clone();
    e.data = None;
    assert!(matches!(validate(&n, &e.encode_to_vec(), now()), Err(IpnsError::MissingData)));
    // V1 signatures are not looked at: a broken or missing one is fine.
    let mut e = r.entry().clone();
    e.signature_v1 = Some(b"garbage".to_vec());
    validate(&n, &e.encode_to_vec(), now()).unwrap();
    e.signature_v1 = None;
    validate(&n, &e.encode_to_vec(), now()).unwrap();
}

#[test]
fn v1_fields_must_agree_with_the_signed_data() {
    let k = ed25519(3);
    let n = Name::from_public_key(&k.public());
    let r = create(&k, "/ipfs/bafkqaaa", 7);
    type Mutation = fn(&mut IpnsEntry);
    let cases: [(&str, Mutation); 6] = [
        ("value", |e| e.value = Some(b"/ipfs/bafkqaaa/x".to_vec())),
        ("validity", |e| e.validity = Some(b"2123-01-01T00:00:00Z".to_vec())),
        ("validityType", |e| e.validity_type = Some(1)),
        ("sequence", |e| e.sequence = Some(8)),
        ("ttl", |e| e.ttl = Some(1)),
        // Missing fields of a V1+V2 record compare as zero values (boxo).
        ("sequence", |e| e.sequence = None),
    ];
    for (field, mutate) in cases {
        let mut e = r.entry().clone();
        mutate(&mut e);
        let err = validate(&n, &e.encode_to_vec(), now());
        assert!(matches!(err, Err(IpnsError::FieldsDisagree(f)) if f == field), "{field}: {err:?}");
    }
    // In a V2-only record, a stray V1 field must agree too.
    let v2 = Record::create(
        &k,
        b"/ipfs/bafkqaaa",
        7,
        in_a_day(),
        Duration::ZERO,
        CreateOptions { v1_compatible: false, ..Default::default() },
    )
    .unwrap();
    let mut e = v2.entry().clone();
    e.sequence = Some(7);
    validate(&n, &e.encode_to_vec(), now()).unwrap();
    e.sequence = Some(9);
    assert!(matches!(validate(&n, &e.encode_to_vec(), now()), Err(IpnsError::FieldsDisagree("sequence"))));
}

#[test]
fn data_must_be_canonical_dag_cbor() {
    let k = ed25519(4);
    let n = Name::from_public_key(&k.public());
    let good = data("/ipfs/bafkqaaa", "2123-08-14T12:17:03.694052Z").encode();
    validate(&n, &sign_raw(&k, good.clone()).encode_to_vec(), now()).unwrap();

    let text = |s: &str| [&[0x60 + s.len() as u8][..], s.as_bytes()].concat();
    let bytes_item = |b: &[u8]| [&[0x40 + b.len() as u8][..], b].concat();
    let value = bytes_item(b"/ipfs/bafkqaaa");
    let validity = [&[0x58, 27][..], b"2123-08-14T12:17:03.694052Z"].concat();
    let entries = |ttl: &[u8]| {
        vec![
            [text("TTL"), ttl.to_vec()].concat(),
            [text("Value"), value.clone()].concat(),
            [text("Sequence"), vec![0x01]].concat(),
            [text("Validity"), validity.clone()].concat(),
            [text("ValidityType"), vec![0x00]].concat(),
        ]
    };
    let map = |es: &[Vec<u8>]| [vec![0xa0 + es.len() as u8], es.concat()].concat();
    // Same document, hand-built canonically: identical to the encoder's.
    assert_eq!(map(&entries(&[0x05])), good);

    let mut swapped = entries(&[0x05]);
    swapped.swap(0, 1);
    let mut repeated = entries(&[0x05]);
    repeated.insert(1, [text("TTL"), vec![0x05]].concat());
    let mut indefinite = vec![0xbf];
    indefinite.extend(entries(&[0x05]).concat());
    indefinite.push(0xff);
    for (what, cbor) in [
        ("keys out of order", map(&swapped)),
        ("a key twice", map(&repeated)),
        ("an integer not in its shortest form", map(&entries(&[0x18, 0x05]))),
        ("a length not in its shortest form", [vec![0xb8, 0x05], entries(&[0x05]).concat()].concat()),
        ("an indefinite-length map", indefinite),
    ] {
        let err = validate(&n, &sign_raw(&k, cbor).encode_to_vec(), now());
        assert!(matches!(err, Err(IpnsError::NotCanonical)), "{what}: {err:?}");
    }
    // Not DAG-CBOR at all: a half float, bytes after the map.
    for cbor in [map(&entries(&[0xf9, 0x45, 0x00])), [good.clone(), vec![0x00]].concat()] {
        let err = validate(&n, &sign_raw(&k, cbor).encode_to_vec(), now());
        assert!(matches!(err, Err(IpnsError::Malformed(_))), "{err:?}");
    }

    // Extra fields are allowed (the spec's extensible data), in canonical order.
    let mut extended = entries(&[0x05]);
    extended.insert(0, [text("_x"), vec![0xf5]].concat());
    validate(&n, &sign_raw(&k, map(&extended)).encode_to_vec(), now()).unwrap();
}

#[test]
fn malformed_data_and_fields() {
    let k = ed25519(5);
    let n = Name::from_public_key(&k.public());
    let v = |e: IpnsEntry| validate(&n, &e.encode_to_vec(), now());
    assert!(matches!(validate(&n, b"bad data", now()), Err(IpnsError::Malformed(_))));
    // Not a map.
    assert!(matches!(v(sign_raw(&k, vec![0x01])), Err(IpnsError::Malformed(_))));
    // A map without Sequence: `{"TTL": 5}`.
    assert!(matches!(v(sign_raw(&k, vec![0xa1, 0x63, b'T', b'T', b'L', 0x05])), Err(IpnsError::Malformed(_))));
    // Unsupported validity type, after the signature check.
    let mut d = data("/ipfs/bafkqaaa", "2123-08-14T12:17:03.694052Z");
    d.validity_type = 1;
    assert!(matches!(v(sign_raw(&k, d.encode())), Err(IpnsError::UnsupportedValidityType(1))));
    let mut e = sign_raw(&k, d.encode());
    e.signature_v2 = Some(vec![0; 64]);
    assert!(matches!(v(e), Err(IpnsError::BadSignature)));
    // Validity that is not RFC 3339.
    let err = v(sign_raw(&k, data("/ipfs/bafkqaaa", "tomorrow").encode()));
    assert!(matches!(&err, Err(IpnsError::BadValidity(s)) if s == "tomorrow"), "{err:?}");
    // A value that is no content path.
    for bad in ["foo", "/foo/bar", "/ipfs/notacid", "/ipfs"] {
        let err = v(sign_raw(&k, data(bad, "2123-08-14T12:17:03.694052Z").encode()));
        assert!(matches!(err, Err(IpnsError::BadValue(_))), "{bad}: {err:?}");
    }
}

#[test]
fn values_read_as_boxo_reads_them() {
    let k = ed25519(6);
    let n = Name::from_public_key(&k.public());
    let eol = "2123-08-14T12:17:03.694052Z";
    let value_of = |raw: &[u8]| {
        let d = RecordData { value: raw.to_vec(), validity: eol.into(), validity_type: 0, sequence: 0, ttl: 0 };
        validate(&n, &sign_raw(&k, d.encode()).encode_to_vec(), now()).map(|r| r.value().to_owned())
    };
    // boxo record.go: an empty value is NoopValue; a binary CID an /ipfs path.
    assert_eq!(value_of(b"").unwrap(), NOOP_VALUE);
    assert_eq!(NOOP_VALUE, "/ipfs/bafkqaaa");
    // bafkqaaa is CIDv1 (01), raw (55), identity multihash (00) of 0 bytes (00).
    assert_eq!(value_of(&[0x01, 0x55, 0x00, 0x00]).unwrap(), "/ipfs/bafkqaaa");
    assert_eq!(value_of(b"/ipns/example.com/a/../b/").unwrap(), "/ipns/example.com/b/");
    assert_eq!(value_of(b"/ipld/bafkqaaa").unwrap(), "/ipld/bafkqaaa");
}

#[test]
fn created_records_match_boxos_bytes() {
    // The spec's V1+V2 vector, rebuilt from its generator's inputs
    // (gateway-conformance fixtures/ipns_records/generator/main.go): the
    // signed data and V1 fields are boxo's bytes; with boxo's signatures
    // put in, so is the whole protobuf.
    let Some(b) = shared("k51qzi5uqu5dlkw8pxuw9qmqayfdeh4kfebhmreauqdc6a7c3y7d5i9fi8mk9w_v1-v2.ipns-record") else {
        return;
    };
    let vector = decode(&b);
    let r = Record::create(
        &ed25519(7),
        b"/ipfs/bafkqaddwgevxmmraojswg33smq",
        0,
        spec_vector_eol(),
        SPEC_VECTOR_TTL,
        CreateOptions::default(),
    )
    .unwrap();
    let mut e = r.entry().clone();
    assert_eq!(e.data, vector.data);
    assert_eq!(e.value, vector.value);
    assert_eq!(e.validity, vector.validity);
    assert_eq!(e.validity_type, vector.validity_type);
    assert_eq!(e.sequence, vector.sequence);
    assert_eq!(e.ttl, vector.ttl);
    assert_eq!(e.pub_key, None);
    e.signature_v1.clone_from(&vector.signature_v1);
    e.signature_v2.clone_from(&vector.signature_v2);
    assert_eq!(e.encode_to_vec(), b);
}
#[test]
fn round_trip_with_every_key_type() {
    for (k, embeds) in [(ed25519(8), false), (secp(8), false), (ecdsa_key(8), true), (rsa(), true)] {
        let n = Name::from_public_key(&k.public());
        let eol = unix(4_102_444_800, 123_456_789); // 2100-01-01
        let r = Record::create(&k, b"/ipfs/bafkqaaa/x", 42, eol, Duration::from_secs(3600), CreateOptions::default())
            .unwrap();
        assert_eq!(r.entry().pub_key.is_some(), embeds, "{:?}", k.key_type());
        assert_eq!(r.name(), &n);
        let v = validate(&n, r.as_bytes(), now()).unwrap();
        assert_eq!(v.value(), "/ipfs/bafkqaaa/x");
        assert_eq!(v.value_bytes(), b"/ipfs/bafkqaaa/x");
        assert_eq!(v.sequence(), 42);
        assert_eq!(v.validity(), eol);
        assert_eq!(v.ttl(), Duration::from_secs(3600));
        assert_eq!(v.public_key(), &k.public());
        assert_eq!(v.as_bytes(), r.as_bytes());
        assert!(v.is_v1_compatible());
        // V1 signature made as boxo makes it.
        let e = v.entry();
        assert!(k.public().verify(&signature_v1_payload(e), e.signature_v1.as_deref().unwrap()));
        validate_routing_record(&n.routing_key(), r.as_bytes(), now()).unwrap();

        // Embedding forced either way.
        let never = CreateOptions { embed_public_key: EmbedPublicKey::Never, ..Default::default() };
        let r = Record::create(&k, b"/ipfs/bafkqaaa", 1, eol, Duration::ZERO, never).unwrap();
        let got = validate(&n, r.as_bytes(), now());
        if embeds {
            assert!(matches!(got, Err(IpnsError::NoPublicKey)), "{got:?}");
        } else {
            got.unwrap();
        }
        let always = CreateOptions { embed_public_key: EmbedPublicKey::Always, ..Default::default() };
        let r = Record::create(&k, b"/ipfs/bafkqaaa", 1, eol, Duration::ZERO, always).unwrap();
        assert!(r.entry().pub_key.is_some());
        validate(&n, r.as_bytes(), now()).unwrap();
    }
}

#[test]
fn v2_only_records() {
    let k = ed25519(10);
    let opts = CreateOptions { v1_compatible: false, ..Default::default() };
    let r = Record::create(&k, b"/ipfs/bafkqaaa", 3, in_a_day(), Duration::ZERO, opts).unwrap();
    let e = r.entry();
    assert!(e.value.is_none() && e.signature_v1.is_none() && e.validity.is_none());
    assert!(e.validity_type.is_none() && e.sequence.is_none() && e.ttl.is_none());
    let v = validate(r.name(), r.as_bytes(), now()).unwrap();
    assert!(!v.is_v1_compatible());
    assert_eq!(v.sequence(), 3);
}

#[test]
fn create_refuses_what_validation_would() {
    let k = ed25519(11);
    let create = |value: &[u8], eol: SystemTime, ttl: Duration| {
        Record::create(&k, value, 0, eol, ttl, CreateOptions::default()).map(|_| ())
    };
    assert!(matches!(create(b"not a path", in_a_day(), Duration::ZERO), Err(CreateError::BadValue(_))));
    // 10000-01-01T00:00:00Z (`date -u +%s` = 253402300800).
    assert!(matches!(
        create(b"/ipfs/bafkqaaa", unix(253_402_300_800, 0), Duration::ZERO),
        Err(CreateError::EolOutOfRange)
    ));
    assert!(matches!(
        create(b"/ipfs/bafkqaaa", in_a_day(), Duration::from_nanos(i64::MAX as u64 + 1)),
        Err(CreateError::TtlTooLarge)
    ));
    create(b"/ipfs/bafkqaaa", in_a_day(), Duration::from_nanos(i64::MAX as u64)).unwrap();
}

#[test]
fn selection_prefers_sequence_then_eol() {
    // boxo validation_test.go TestOrdering.
    let k = ed25519(12);
    let ts = unix(1_000_000, 0);
    let rec = |seq: u64, hours: u64| {
        Record::create(
            &k,
            b"/ipfs/bafkqac3jobxhgidsn5rww4yk",
            seq,
            ts + Duration::from_secs(hours * 3600),
            Duration::ZERO,
            CreateOptions::default(),
        )
        .unwrap()
    };
    let (r1, r2, r3, r4, r5) = (rec(1, 1), rec(2, 1), rec(3, 1), rec(3, 2), rec(4, 3));
    let best = |rs: &[&Record]| rs.iter().copied().max_by(|a, b| select(a, b)).unwrap().as_bytes().to_vec();
    assert_eq!(best(&[&r1]), r1.as_bytes());
    assert_eq!(best(&[&r2, &r1]), r2.as_bytes());
    assert_eq!(best(&[&r1, &r3, &r2]), r3.as_bytes());
    assert_eq!(best(&[&r4, &r1, &r3, &r2]), r4.as_bytes());
    assert_eq!(best(&[&r1, &r5, &r3, &r4, &r2]), r5.as_bytes());
    assert_eq!(select(&r3, &r4), Ordering::Less);
    assert_eq!(select(&r4, &r4), Ordering::Equal);
    // A higher sequence wins over a later EOL.
    assert_eq!(select(&rec(5, 1), &rec(4, 100)), Ordering::Greater);
}

#[test]
fn routing_validator() {
    let h = helia("ed25519-v1-v2");
    let n = name(&h.name);
    let r = validate_routing_record(&n.routing_key(), &h.record, now()).unwrap();
    assert_eq!(r.value(), h.value);
    // boxo TestValidator: malformed keys are bad names.
    for key in [
        b"/ipns/bad key".to_vec(),
        format!("//{n}").into_bytes(),
        format!("/wrong/{n}").into_bytes(),
        format!("/ipns/{n}").into_bytes(),
    ] {
        let err = validate_routing_record(&key, &h.record, now());
        assert!(matches!(err, Err(IpnsError::BadName(_))), "{key:?}: {err:?}");
    }
    let other = name(&helia("ed25519-v2").name);
    assert!(matches!(validate_routing_record(&other.routing_key(), &h.record, now()), Err(IpnsError::BadSignature)));
}
#[test]
fn inspect_as_kubo_prints_it() {
    let h = helia("ed25519-v1-v2");
    let n = name(&h.name);
    let i = inspect(&h.record, Some(&n), now()).unwrap();
    let json = serde_json::to_value(&i).unwrap();
    // Kubo core/commands/name/name.go IpnsInspectResult, --enc=json; the
    // validity as Go prints a time.Time (RFC 3339, trailing zeros dropped).
    assert_eq!(json["Entry"]["Value"], h.value.as_str());
    assert_eq!(json["Entry"]["ValidityType"], 0);
    assert_eq!(json["Entry"]["Validity"], h.validity.trim_end_matches("Z").trim_end_matches('0').to_owned() + "Z");
    assert_eq!(json["Entry"]["Sequence"], h.sequence);
    assert_eq!(json["Entry"]["TTL"], h.ttl_ns);
    assert_eq!(json["PbSize"], h.record.len());
    assert_eq!(json["SignatureType"], "V1+V2");
    assert_eq!(json["Validation"]["Valid"], true);
    assert_eq!(json["Validation"]["Reason"], "");
    assert_eq!(json["Validation"]["Name"], h.name.as_str());
    let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["Entry", "PbSize", "SignatureType", "HexDump", "Validation"]);
    let entry_keys: Vec<&String> = json["Entry"].as_object().unwrap().keys().collect();
    assert_eq!(entry_keys, ["Value", "ValidityType", "Validity", "Sequence", "TTL"]);
    // The record starts with field 1 (0x0a), 65 bytes (0x41), "/ipfs/bafkre...".
    assert!(
        json["HexDump"]
            .as_str()
            .unwrap()
            .starts_with("00000000  0a 41 2f 69 70 66 73 2f  62 61 66 6b 72 65 69 63  |.A/ipfs/bafkreic|\n")
    );

    // Not verified, V2-only; invalid ones still inspect.
    let v2 = helia("ed25519-v2");
    let i = inspect(&v2.record, None, now()).unwrap();
    assert_eq!(i.signature_type, "V2");
    assert_eq!(i.validation, None);
    assert_eq!(serde_json::to_value(&i).unwrap()["Validation"], serde_json::Value::Null);
    let i = inspect(&v2.record, Some(&n), now()).unwrap();
    let v = i.validation.unwrap();
    assert!(!v.valid);
    assert_eq!(v.reason, "signature verification failed");
    let expired = helia("expired");
    let i = inspect(&expired.record, Some(&name(&expired.name)), now()).unwrap();
    assert!(i.entry.validity.is_some());
    assert_eq!(i.validation.unwrap().reason, "record is expired (EOL 2020-01-01T01:00:00Z)");
    // Without data there is nothing to inspect (Kubo: "record is missing the dag-cbor data field").
    let mut e = decode(&h.record);
    e.data = None;
    e.signature_v2 = None;
    assert!(matches!(inspect(&e.encode_to_vec(), None, now()), Err(IpnsError::MissingData)));
}
