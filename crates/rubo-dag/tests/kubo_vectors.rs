//! Vectors from Kubo's sharness tests (t0050, t0051, t0053, t0055, t0090):
//! CIDs and `dag get` / `dag resolve` outputs as Kubo prints them.

use std::collections::HashMap;
use std::path::Path;

use rubo_dag::path::{NamedLinks, PathMode, Resolver, get, split_path};
use rubo_dag::{Codec, PbForm, ResolveError, transcode};
use rubo_types::hash::{SHA2_256, SHA3_512};
use rubo_types::{Block, Cid, Version, codec, parse_cid};

fn block(codec: u64, data: Vec<u8>) -> Block {
    Block::encode(data, codec, SHA2_256, None, Version::V1).unwrap()
}

fn cid_of(codec: u64, data: Vec<u8>) -> String {
    block(codec, data).cid().to_string()
}

fn kubo_data(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/kubo").join(name)).unwrap()
}

// `ipfs add` of "foo\n", "bar\n", "baz\n": one dag-pb block each (the bytes are
// the `dag get` outputs t0053 expects; the CIDs hashed independently of rubo).
const FOO: &str = "QmYNmQKp6SuaVrpgWRsPTgCQCnpxUYGq76YEKBXuj2N4H6";
const BAR: &str = "QmTz3oc4gdpRMKP2sdGUPZTAGRngqjsi99BPoztyP53JMM";
const BAZ: &str = "QmWLdkp93sNxGRjnFHPaYg8tCQ35NBY3XPn6KiETd3Z4WR";
const FOO_BLOCK: &str = "0a0a08021204666f6f0a1804";
const BAR_BLOCK: &str = "0a0a080212046261720a1804";
const BAZ_BLOCK: &str = "0a0a0802120462617a0a1804";

fn ipld_object() -> String {
    format!(
        r#"{{"hello":"world","cats":[{{"/":"{FOO}"}},{{"water":{{"/":"{BAR}"}}}}],"magic":{{"/":"{BAZ}"}},"sub":{{"dict":"ionary","beep":[0,"bop"]}}}}"#
    )
}

#[test]
fn t0053_dag_put_defaults() {
    let obj = ipld_object();
    let cbor = transcode(Codec::DagJson, Codec::DagCbor, obj.as_bytes()).unwrap();
    assert_eq!(cid_of(codec::DAG_CBOR, cbor.clone()), "bafyreiblwimnjbqcdoeafiobk6q27jcw64ew7n2fmmhdpldd63edmjecde");
    let b = block(codec::DAG_CBOR, cbor.clone());
    assert_eq!(
        rubo_types::cid::cid_to_string(b.cid(), rubo_types::Base::Base58Btc).unwrap(),
        "zdpuAoN1XJ3GsrxEzMuCbRKZzRUVJekJUCbPVgCgE4D9yYqVi"
    );
    let json = transcode(Codec::DagJson, Codec::DagJson, obj.as_bytes()).unwrap();
    assert_eq!(cid_of(codec::DAG_JSON, json), "baguqeera6gviseelmbzn2ugoddo5vulxlshqs3kw5ymgsb6w4cabnoh4ldpa");
    // --hash sha3-512
    let sha3 = Block::encode(cbor, codec::DAG_CBOR, SHA3_512, None, Version::V1).unwrap();
    assert_eq!(
        sha3.cid().to_string(),
        "bafyriqforjma7y7akqz7nhuu73r6liggj5zhkbfiqgicywe3fgkna2ijlhod2af3ue7doj56tlzt5hh6iu5esafc4msr3sd53jol5m2o25ucy"
    );
    // `dag get` of it, fed back to `dag put`, gives the same CID (t0053).
    let got = Codec::DagJson.encode(&Codec::DagCbor.decode(b.data()).unwrap()).unwrap();
    assert!(String::from_utf8(got.clone()).unwrap().contains(r#"{"/":""#));
    assert_eq!(transcode(Codec::DagJson, Codec::DagCbor, &got).unwrap(), b.data().to_vec());
}

#[test]
fn t0053_same_object_three_codecs() {
    let forms = [
        (Codec::DagCbor, hex::decode("a26444617461450001020304654c696e6b7380").unwrap()),
        (Codec::DagPb, hex::decode("0a050001020304").unwrap()),
        (Codec::DagJson, b"{\"Data\":{\"/\":{\"bytes\":\"AAECAwQ\"}},\"Links\":[]}\n".to_vec()),
    ];
    let want = [
        (Codec::DagCbor, "bafyreieculsmrexh3ty5jentbvuku452o27mst4h2tq2rb2zntqhgcstji"),
        (Codec::DagPb, "bafybeibazl2z4vqp2tmwcfag6wirmtpnomxknqcgrauj7m2yisrz3qjbom"),
        (Codec::DagJson, "baguqeerajwksxu3lxpomdwxvosl542zl3xknhjgxtq3277gafrhl6vdw5tcq"),
    ];
    for (from, input) in &forms {
        for (to, cid) in want {
            let out = transcode(*from, to, input).unwrap();
            assert_eq!(cid_of(to.code(), out), cid, "{} -> {}", from.name(), to.name());
        }
    }
    // `dag get` prints all three the same way.
    let mut outs = Vec::new();
    for (c, input) in &forms {
        let stored = transcode(*c, *c, input).unwrap();
        let node = c.decode_with(&stored, PbForm::Typed).unwrap();
        outs.push(String::from_utf8(Codec::DagJson.encode(&node).unwrap()).unwrap());
    }
    assert_eq!(outs[0], r#"{"Data":{"/":{"bytes":"AAECAwQ"}},"Links":[]}"#);
    assert!(outs.iter().all(|o| *o == outs[0]));
    // `dag get --output-codec=dag-cbor` of the dag-pb form: its sha2-256 is
    // 82a2e4c8...0a534a (t0053).
    let pb = Codec::DagPb.decode_with(&forms[1].1, PbForm::Typed).unwrap();
    let cbor = Codec::DagCbor.encode(&pb).unwrap();
    let mh = rubo_types::hash::sha2_256(&cbor);
    assert_eq!(hex::encode(mh.to_bytes()), "122082a2e4c892e7dcf1d491b30d68aa73ba76bec94f87d4e1a887596ce0730a534a");
}

#[test]
fn t0053_non_canonical_cbor_is_normalised() {
    let input = kubo_data("non-canon.cbor");
    let out = transcode(Codec::DagCbor, Codec::DagCbor, &input).unwrap();
    assert_ne!(out, input);
    assert_eq!(cid_of(codec::DAG_CBOR, out.clone()), "bafyreiawx7ona7oa2ptcoh6vwq4q6bmd7x2ibtkykld327bgb7t73ayrqm");
    // `dag get $HASH/arr` prints [] (no newline)
    let node = Codec::DagCbor.decode(&out).unwrap();
    let arr = get(&node, &["arr"], false).unwrap();
    assert_eq!(Codec::DagJson.encode(arr).unwrap(), b"[]");
}

#[test]
fn t0053_and_t0055_small_objects() {
    for (json, cid) in [
        (&b"{\"foo\":\"bar\"}"[..], "bafyreiblaotetvwobe7cu2uqvnddr6ew2q3cu75qsoweulzku2egca4dxq"),
        (b"{\"foo\":\"baz\"}", "bafyreibqp7zvp6dvrqhtkbwuzzk7jhtmfmngtiqjajqpm6gtw55o7kqzfi"),
        (b"{\"data\":1234}", "bafyreidbm2zncsc3j25zn7lofgd4woeh6eygdy73thfosuni2rwr3bhcvu"),
        (b"{\"data\":1234}\n", "bafyreidbm2zncsc3j25zn7lofgd4woeh6eygdy73thfosuni2rwr3bhcvu"),
    ] {
        let out = transcode(Codec::DagJson, Codec::DagCbor, json).unwrap();
        assert_eq!(cid_of(codec::DAG_CBOR, out.clone()), cid);
        // t0055: `dag get` has no trailing newline
        if json == b"{\"data\":1234}" {
            assert_eq!(Codec::DagJson.encode(&Codec::DagCbor.decode(&out).unwrap()).unwrap(), json);
        }
    }
    // t0053: raw in, raw out
    assert_eq!(transcode(Codec::Raw, Codec::Raw, b"foo bar\n").unwrap(), b"foo bar\n");
}

#[test]
fn dag_pb_from_json() {
    // t0051: a bare node, an empty UnixFS directory
    let empty = transcode(Codec::DagJson, Codec::DagPb, b"{\"Links\":[]}\n").unwrap();
    assert_eq!(cid_of(codec::DAG_PB, empty), "bafybeihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku");
    let dir = transcode(Codec::DagJson, Codec::DagPb, br#"{"Data":{"/":{"bytes":"CAE"}},"Links":[]}"#).unwrap();
    assert_eq!(cid_of(codec::DAG_PB, dir), "bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354");
    // t0090: a directory with three links
    let bad_object = r#"{"Data":{"/":{"bytes":"CAE"}},"Links":[{"Hash":{"/":"Qmd4mG6pDFDmDTn6p3hX1srP8qTbkyXKj5yjpEsiHDX3u8"},"Name":"bar","Tsize":56},{"Hash":{"/":"QmUTjwRnG28dSrFFVTYgbr6LiDLsBmRr2SaUSTGheK2YqG"},"Name":"baz","Tsize":24266},{"Hash":{"/":"QmZzaC6ydNXiR65W8VjGA73ET9MZ6VFAqUT1ngYMXcpihn"},"Name":"foo","Tsize":1897}]}"#;
    let pb = transcode(Codec::DagJson, Codec::DagPb, format!("{bad_object}\n").as_bytes()).unwrap();
    assert_eq!(cid_of(codec::DAG_PB, pb.clone()), "bafybeifrjjol3gixedca6etdwccnvwfvhurc4wb3i5mnk2rvwvyfcgwxd4");
    // and `dag get` prints it back exactly
    let node = Codec::DagPb.decode_with(&pb, PbForm::Typed).unwrap();
    assert_eq!(String::from_utf8(Codec::DagJson.encode(&node).unwrap()).unwrap(), bad_object);
}

#[test]
fn t0053_dag_get_of_unixfs_files() {
    let foobar = hex::decode("0a0d08021207666f6f6261720a1807").unwrap();
    let b = Block::new(parse_cid("QmRgutAxd8t7oGkSm4wmeuByG6M51wcTso6cubDdQtuEfL").unwrap(), foobar).unwrap();
    let node = Codec::DagPb.decode_with(b.data(), PbForm::Typed).unwrap();
    assert_eq!(Codec::DagJson.encode(&node).unwrap(), br#"{"Data":{"/":{"bytes":"CAISB2Zvb2JhcgoYBw"}},"Links":[]}"#);
    // t0050: `block put --format=protobuf testPut.pb`, then `dag get`
    let node = Codec::DagPb.decode_with(&kubo_data("testPut.pb"), PbForm::Typed).unwrap();
    assert_eq!(
        Codec::DagJson.encode(&node).unwrap(),
        br#"{"Data":{"/":{"bytes":"dGVzdCBqc29uIGZvciBzaGFybmVzcyB0ZXN0"}},"Links":[]}"#
    );
}

#[test]
fn t0053_wrapped_dir_roundtrips() {
    // `ipfs add -w test_file` ("foo\n"): `dag get` then `dag put
    // --store-codec=dag-pb` gives the same CID; so does the raw block.
    let mut link = Vec::new();
    rubo_types::pb::put_bytes_field(&mut link, 1, &parse_cid(FOO).unwrap().to_bytes());
    rubo_types::pb::put_bytes_field(&mut link, 2, b"test_file");
    rubo_types::pb::put_varint_field(&mut link, 3, 12);
    let mut dir = Vec::new();
    rubo_types::pb::put_bytes_field(&mut dir, 2, &link);
    rubo_types::pb::put_bytes_field(&mut dir, 1, &[8, 1]);
    let json = Codec::DagJson.encode(&Codec::DagPb.decode_with(&dir, PbForm::Typed).unwrap()).unwrap();
    assert_eq!(
        String::from_utf8(json.clone()).unwrap(),
        format!(
            r#"{{"Data":{{"/":{{"bytes":"CAE"}}}},"Links":[{{"Hash":{{"/":"{FOO}"}},"Name":"test_file","Tsize":12}}]}}"#
        )
    );
    assert_eq!(transcode(Codec::DagJson, Codec::DagPb, &json).unwrap(), dir);
    assert_eq!(transcode(Codec::DagPb, Codec::DagPb, &dir).unwrap(), dir);
}

struct Store(HashMap<Cid, Block>);

impl Store {
    fn new() -> Self {
        let mut s = Store(HashMap::new());
        for (c, h) in [(FOO, FOO_BLOCK), (BAR, BAR_BLOCK), (BAZ, BAZ_BLOCK)] {
            s.add(Block::new(parse_cid(c).unwrap(), hex::decode(h).unwrap()).unwrap());
        }
        s
    }

    fn add(&mut self, b: Block) -> Cid {
        let c = *b.cid();
        self.0.insert(c, b);
        c
    }

    fn put_json(&mut self, json: &str) -> Cid {
        self.add(block(codec::DAG_CBOR, transcode(Codec::DagJson, Codec::DagCbor, json.as_bytes()).unwrap()))
    }

    /// `ipfs dag get <path>`: resolve with the UnixFS resolver (or the IPLD one
    /// for /ipld/), load, walk the remainder, print dag-json.
    fn dag_get(&self, path: &str) -> Result<String, String> {
        let mut segs = split_path(path);
        let ipld = segs.first().is_some_and(|s| s == "ipld");
        if matches!(segs.first().map(String::as_str), Some("ipfs" | "ipld")) {
            segs.remove(0);
        }
        let root = parse_cid(&segs.remove(0)).unwrap();
        let mode = if ipld { PathMode::Ipld } else { PathMode::UnixFs(&NamedLinks) };
        let r = Resolver::new(&self.0, mode).resolve_to_last_node(&root, &segs).map_err(|e| e.to_string())?;
        let b = &self.0[&r.cid];
        let codec = Codec::from_code(r.cid.codec()).unwrap();
        let node = codec.decode_with(b.data(), PbForm::Typed).unwrap();
        let typed = codec == Codec::DagPb;
        let fin = get(&node, &r.remainder, typed).map_err(|e| e.to_string())?;
        Ok(String::from_utf8(Codec::DagJson.encode(fin).unwrap()).unwrap())
    }

    fn dag_resolve(&self, path: &str) -> Result<String, ResolveError> {
        let mut segs = split_path(path);
        let root = parse_cid(&segs.remove(0)).unwrap();
        let r = Resolver::new(&self.0, PathMode::UnixFs(&NamedLinks)).resolve_to_last_node(&root, &segs)?;
        let mut out = r.cid.to_string();
        for s in r.remainder {
            out.push('/');
            out.push_str(&s);
        }
        Ok(out)
    }
}

#[test]
fn t0053_paths() {
    let mut s = Store::new();
    let h = s.put_json(&ipld_object());
    assert_eq!(h.to_string(), "bafyreiblwimnjbqcdoeafiobk6q27jcw64ew7n2fmmhdpldd63edmjecde");
    assert_eq!(s.dag_get(&format!("{h}/hello")).unwrap(), r#""world""#);
    assert_eq!(s.dag_get(&format!("{h}/sub")).unwrap(), r#"{"beep":[0,"bop"],"dict":"ionary"}"#);
    assert_eq!(s.dag_get(&format!("{h}/sub/beep")).unwrap(), r#"[0,"bop"]"#);
    assert_eq!(s.dag_get(&format!("{h}/sub/beep/0")).unwrap(), "0");
    assert_eq!(s.dag_get(&format!("{h}/sub/beep/1")).unwrap(), r#""bop""#);
    // through a link into a dag-pb block
    assert_eq!(s.dag_get(&format!("{h}/cats/0")).unwrap(), r#"{"Data":{"/":{"bytes":"CAISBGZvbwoYBA"}},"Links":[]}"#);
    assert_eq!(s.dag_resolve(&format!("{h}/cats/0")).unwrap(), FOO);
    assert_eq!(s.dag_resolve(&format!("{h}/cats/1/water")).unwrap(), BAR);
    assert_eq!(s.dag_resolve(&format!("{h}/magic")).unwrap(), BAZ);
    assert_eq!(s.dag_resolve(&format!("{h}/sub/beep/1")).unwrap(), format!("{h}/sub/beep/1"));
    // /ipld/ sees dag-pb's data model
    let pb = s.add(block(codec::DAG_PB, hex::decode("0a050001020304").unwrap()));
    assert_eq!(s.dag_get(&format!("/ipld/{pb}/Data")).unwrap(), r#"{"/":{"bytes":"AAECAwQ"}}"#);
    assert_eq!(s.dag_get(&format!("/ipld/{pb}/Links")).unwrap(), "[]");
    // /ipfs/ looks dag-pb up by link name
    assert_eq!(s.dag_get(&format!("/ipfs/{pb}/Data")).unwrap_err(), format!("no link named \"Data\" under {pb}"));
    // a missing key in a dag-cbor block is go-ipld-prime's ErrNotExists
    assert_eq!(s.dag_get(&format!("{h}/nope")).unwrap_err(), r#"key not found: "nope""#);
    // a missing intermediate segment is boxo's ErrNoLink
    assert_eq!(s.dag_get(&format!("{h}/nope/x")).unwrap_err(), format!("no link named \"nope\" under {h}"));
}

#[test]
fn t0053_dag_resolve() {
    let mut s = Store::new();
    let nested = s.put_json("{\"data\":123}\n");
    let h = s.put_json(&format!("{{\"obj\":{{\"/\":\"{nested}\"}}}}\n"));
    assert_eq!(s.dag_resolve(&h.to_string()).unwrap(), h.to_string());
    assert_eq!(s.dag_resolve(&format!("{h}/obj")).unwrap(), nested.to_string());
    assert_eq!(s.dag_resolve(&format!("{h}/obj/data")).unwrap(), format!("{nested}/data"));
    // The last link is not loaded: resolving to a block we do not have works.
    let absent = parse_cid("bafkreibmlvvgdyihetgocpof6xk64kjjzdeq2e4c7hqs3krdheosk4tgj4").unwrap();
    let h2 = s.put_json(&format!("{{\"x\":{{\"/\":\"{absent}\"}}}}"));
    assert_eq!(s.dag_resolve(&format!("{h2}/x")).unwrap(), absent.to_string());
    assert!(matches!(s.dag_resolve(&format!("{h2}/x/y")), Err(ResolveError::NotFound(_))));
}

#[test]
fn dag_get_typed_pb_absent_fields_print_null() {
    // Kubo's DAG service gives `dag get` the schema-typed node, whose absent
    // optional fields are Absent (kind null): an empty block prints with
    // "Data":null, a link without Name/Tsize with nulls.
    let node = Codec::DagPb.decode_with(&[], PbForm::Typed).unwrap();
    assert_eq!(Codec::DagJson.encode(&node).unwrap(), br#"{"Data":null,"Links":[]}"#);
    // `dag put --input-codec dag-pb` builds a plain map instead.
    let node = Codec::DagPb.decode(&[]).unwrap();
    assert_eq!(Codec::DagJson.encode(&node).unwrap(), br#"{"Links":[]}"#);
}

#[test]
fn unixfs_and_ipld_paths_into_dag_pb() {
    let mut s = Store::new();
    // A UnixFS directory {foo: FOO, bar: BAR} (t0090-style JSON, sorted by dag put).
    let dir = format!(
        r#"{{"Data":{{"/":{{"bytes":"CAE"}}}},"Links":[{{"Hash":{{"/":"{FOO}"}},"Name":"foo","Tsize":12}},{{"Hash":{{"/":"{BAR}"}},"Name":"bar","Tsize":12}}]}}"#
    );
    let d = s.add(block(codec::DAG_PB, transcode(Codec::DagJson, Codec::DagPb, dir.as_bytes()).unwrap()));
    // /ipfs/: by name
    assert_eq!(s.dag_resolve(&format!("{d}/foo")).unwrap(), FOO);
    assert_eq!(s.dag_resolve(&format!("{d}/bar")).unwrap(), BAR);
    assert_eq!(s.dag_resolve(&format!("{d}/baz")).unwrap_err().to_string(), format!("no link named \"baz\" under {d}"));
    // a UnixFS file cannot be looked into
    assert_eq!(
        s.dag_resolve(&format!("{d}/foo/x/y")).unwrap_err().to_string(),
        format!("no link named \"x\" under {FOO}")
    );
    assert!(matches!(
        s.dag_resolve(&format!("{d}/foo/x")),
        Err(ResolveError::Lookup(rubo_dag::path::LookupError::WrongKind(rubo_dag::Kind::Bytes)))
    ));
    // /ipld/: the data model (links sorted by name: bar first)
    assert_eq!(s.dag_get(&format!("/ipld/{d}/Links/0/Name")).unwrap(), r#""bar""#);
    assert_eq!(
        s.dag_get(&format!("/ipld/{d}/Links/1/Hash")).unwrap(),
        format!(r#"{{"Data":{{"/":{{"bytes":"CAISBGZvbwoYBA"}}}},"Links":[]}}"#)
    );
    assert_eq!(s.dag_get(&format!("/ipld/{d}/Links/1/Tsize")).unwrap(), "12");
    // t0051's empty HAMT shard needs a HAMT-aware lookup
    let hamt = s.add(block(
        codec::DAG_PB,
        transcode(Codec::DagJson, Codec::DagPb, br#"{"Data":{"/":{"bytes":"CAUoIjCAAg"}},"Links":[]}"#).unwrap(),
    ));
    assert!(matches!(s.dag_resolve(&format!("{hamt}/x")), Err(ResolveError::Unsupported(_))));
    // a dag-pb node without UnixFS data is looked up by name too
    let bare = s.add(block(
        codec::DAG_PB,
        transcode(
            Codec::DagJson,
            Codec::DagPb,
            format!(r#"{{"Links":[{{"Hash":{{"/":"{BAZ}"}},"Name":"z"}}]}}"#).as_bytes(),
        )
        .unwrap(),
    ));
    assert_eq!(s.dag_resolve(&format!("{bare}/z")).unwrap(), BAZ);
}
