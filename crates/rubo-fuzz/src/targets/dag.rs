//! rubo-dag: the codecs Kubo transcodes with, links, CARs, IPLD paths.

use rubo_dag::car::{CarReader, CarReaderOptions, CarWriter, decode_header, encode_header};
use rubo_dag::codec::dagpb as dag_pb;
use rubo_dag::path::{NamedLinks, PathMode, Resolver, get, split_ipld_path, split_path, walk_in_node};
use rubo_dag::{Codec, CodecError, Node, PbForm, SourceError};
use rubo_types::{Block, Bytes, Cid, codec};

use crate::bundle::Bundle;
use crate::targets::types::check_cid;

/// Encodes `node`, decodes that, encodes again: canonical codecs give the
/// same bytes at once; the JSON codecs after one more pass (they print an
/// integral float as an int, which then decodes as one, as Go's do).
fn stable(codec: Codec, node: &Node) {
    let Ok(first) = codec.encode(node) else { return };
    if matches!(codec, Codec::Json | Codec::DagJson) && has_big_integral_float(node) {
        // Go's JSON writer prints such a float without a '.' or exponent
        // ("9223372036854776000") and refmt's reader then refuses it as an
        // out-of-range int64: Kubo cannot read it back either.
        return;
    }
    let pass = |bytes: &[u8]| -> Vec<u8> {
        let n = codec.decode(bytes).unwrap_or_else(|e| panic!("{} refuses its own output: {e}", codec.name()));
        codec.encode(&n).unwrap_or_else(|e| panic!("{}: a decoded value does not re-encode: {e}", codec.name()))
    };
    let second = pass(&first);
    match codec {
        Codec::Json | Codec::DagJson => {
            let third = pass(&second);
            assert_eq!(third, second, "{} encoding is not stable", codec.name());
        }
        _ => assert_eq!(second, first, "{} encoding is not canonical", codec.name()),
    }
}

/// Whether `n` holds a float that JSON prints as an integer beyond int64.
fn has_big_integral_float(n: &Node) -> bool {
    let mut stack = vec![n];
    while let Some(n) = stack.pop() {
        match n {
            Node::Float(f) if f.fract() == 0.0 && f.abs() >= 2f64.powi(63) && f.abs() < 1e21 => {
                return true;
            }
            Node::List(items) => stack.extend(items),
            Node::Map(entries) => stack.extend(entries.iter().map(|(_, v)| v)),
            _ => {}
        }
    }
    false
}

/// `links` and `named_links` agree with each other and with the decoder.
fn check_links(code: u64, data: &[u8], decoded: &Result<Node, CodecError>) {
    let found = rubo_dag::links(code, data);
    let named = rubo_dag::named_links(code, data);
    match (&found, decoded) {
        (Ok(l), Ok(n)) => assert_eq!(*l, n.links(), "links() and the decoder disagree"),
        (Err(_), Err(_)) => {}
        (l, d) => panic!("links() {:?} but decode {:?}", l.is_ok(), d.is_ok()),
    }
    match (found, named) {
        (Ok(l), Ok(n)) => assert_eq!(l, n.into_iter().map(|x| x.cid).collect::<Vec<_>>()),
        (Err(_), Err(_)) => {}
        (l, n) => panic!("links() {:?} but named_links() {:?}", l.is_ok(), n.is_ok()),
    }
}

/// dag-pb in both data model forms, go-codec-dagpb's raw reading, links.
pub fn pb(data: &[u8]) {
    let raw = dag_pb::decode_raw_slice(data);
    assert_eq!(raw, dag_pb::decode_raw(&Bytes::copy_from_slice(data)));
    let plain = Codec::DagPb.decode(data);
    let typed = Codec::DagPb.decode_with(data, PbForm::Typed);
    assert_eq!((plain.is_ok(), typed.is_ok()), (raw.is_ok(), raw.is_ok()));
    check_links(codec::DAG_PB, data, &plain);
    if let Ok(n) = &plain {
        stable(Codec::DagPb, n);
        // The typed form encodes only when no field is null, to the same bytes.
        if let (Ok(t), Ok(a)) = (&typed, Codec::DagPb.encode(n))
            && let Ok(b) = Codec::DagPb.encode(t)
        {
            assert_eq!(a, b, "typed and plain forms encode differently");
        }
    }
    if let Ok(r) = &raw {
        for l in &r.links {
            check_cid(&l.cid);
        }
    }
}

/// Whether dag-json holds `n` exactly as dag-cbor does: no floats (integral
/// ones print as ints), integers within int64, text that is UTF-8, no key
/// "/" (dag-json's link and bytes forms).
fn json_exact(n: &Node) -> bool {
    let mut stack = vec![n];
    while let Some(n) = stack.pop() {
        match n {
            Node::Float(_) => return false,
            Node::Int(i) if i64::try_from(*i).is_err() => return false,
            Node::String(s) if s.as_str().is_none() => return false,
            Node::List(items) => stack.extend(items),
            Node::Map(entries) => {
                for (k, v) in entries {
                    if k.as_str().is_none_or(|k| k == "/") {
                        return false;
                    }
                    stack.push(v);
                }
            }
            _ => {}
        }
    }
    true
}

/// The value with every map's keys in bytewise order, as dag-json writes them.
fn sorted_bytewise(n: &Node) -> Node {
    match n {
        Node::List(items) => Node::List(items.iter().map(sorted_bytewise).collect()),
        Node::Map(entries) => {
            let mut e: Vec<_> = entries.iter().map(|(k, v)| (k.clone(), sorted_bytewise(v))).collect();
            e.sort_by(|a, b| a.0.cmp(&b.0));
            Node::Map(e)
        }
        other => other.clone(),
    }
}

/// dag-cbor (strict, links) and plain cbor (links refused) on the same bytes.
pub fn cbor(data: &[u8]) {
    let dag = Codec::DagCbor.decode(data);
    check_links(codec::DAG_CBOR, data, &dag);
    let plain = Codec::Cbor.decode(data);
    if let Ok(n) = &plain {
        assert!(n.links().is_empty(), "plain cbor decoded a link");
        stable(Codec::Cbor, n);
    }
    let Ok(n) = dag else { return };
    stable(Codec::DagCbor, &n);
    for c in n.links() {
        check_cid(&c);
    }
    // The same value through dag-json, where dag-json can hold it exactly.
    if json_exact(&n) {
        let j = Codec::DagJson.encode(&n).unwrap_or_else(|e| panic!("dag-json cannot encode a dag-cbor value: {e}"));
        let back = Codec::DagJson.decode(&j).unwrap_or_else(|e| panic!("dag-json refuses its own output: {e}"));
        assert_eq!(back, sorted_bytewise(&n), "dag-cbor -> dag-json -> value differs");
    }
}

/// dag-json (links and bytes forms) and plain json on the same bytes.
pub fn json(data: &[u8]) {
    let dag = Codec::DagJson.decode(data);
    check_links(codec::DAG_JSON, data, &dag);
    if let Ok(n) = &dag {
        stable(Codec::DagJson, n);
        // dag-cbor holds every dag-json value; back through dag-json it is the same.
        let c = Codec::DagCbor.encode(n).unwrap_or_else(|e| panic!("dag-cbor cannot encode a dag-json value: {e}"));
        let via = Codec::DagCbor.decode(&c).unwrap_or_else(|e| panic!("dag-cbor refuses its own output: {e}"));
        assert_eq!(Codec::DagJson.encode(&via).ok(), Codec::DagJson.encode(n).ok(), "dag-json -> dag-cbor -> dag-json");
    }
    let plain = Codec::Json.decode(data);
    check_links(codec::JSON, data, &plain);
    if let Ok(n) = &plain {
        assert!(n.links().is_empty(), "plain json decoded a link");
        stable(Codec::Json, n);
    }
}

const LINK_CODECS: [u64; 9] = [
    codec::DAG_PB,
    codec::DAG_CBOR,
    codec::DAG_JSON,
    codec::RAW,
    codec::JSON,
    codec::CBOR,
    codec::IDENTITY,
    codec::LIBP2P_KEY,
    codec::GIT_RAW,
];

/// `links` / `named_links` / `block_links` of any codec (byte 0 picks it).
pub fn links(data: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else { return };
    let code = LINK_CODECS[usize::from(sel) % LINK_CODECS.len()];
    match Codec::from_code(code) {
        Some(Codec::Raw) => assert_eq!(rubo_dag::links(code, rest), Ok(vec![])),
        Some(c) => check_links(code, rest, &c.decode(rest)),
        None => assert!(rubo_dag::links(code, rest).is_err()),
    }
    let block = Block::new_unchecked(Cid::new_v1(code, rubo_types::hash::sha2_256(rest)), rest.to_vec());
    assert_eq!(rubo_dag::block_links(&block), rubo_dag::links(code, rest));
}

/// Reads a whole CAR; on success writes its roots and blocks as CARv1 and
/// checks that this reads back the same.
fn read_car(data: &[u8], opts: CarReaderOptions) {
    let Ok(mut r) = CarReader::with_options(data, opts.clone()) else { return };
    assert!(matches!(r.version(), 1 | 2));
    let roots = r.roots().to_vec();
    for c in &roots {
        check_cid(c);
    }
    let mut blocks: Vec<Block> = Vec::new();
    loop {
        match r.next_block() {
            Ok(Some(b)) => {
                assert_eq!(r.last_cid(), Some(b.cid()));
                assert!(b.len() <= opts.max_block_size);
                blocks.push(b);
            }
            Ok(None) => break,
            Err(_) => {
                assert!(matches!(r.next_block(), Ok(None)), "a reader goes on after an error");
                return;
            }
        }
    }
    assert!(matches!(r.next_block(), Ok(None)), "a finished reader yields more");
    for b in &blocks {
        Block::new(*b.cid(), b.data().clone()).expect("CAR blocks are verified");
    }
    let mut w = CarWriter::new(Vec::new(), &roots).expect("writing to memory");
    for b in &blocks {
        w.write_block(b).expect("writing to memory");
    }
    let out = w.into_inner();
    let again = CarReaderOptions { max_header_size: usize::MAX, ..opts };
    let mut r2 = CarReader::with_options(&out[..], again).expect("a written CAR reads back");
    assert_eq!(r2.roots(), roots.as_slice());
    let back: Vec<Block> = r2.by_ref().collect::<Result<_, _>>().expect("written blocks read back");
    assert_eq!(back, blocks);
}

/// The streaming CAR reader (v1 and v2) with default and tiny limits.
pub fn car(data: &[u8]) {
    read_car(data, CarReaderOptions::default());
    read_car(data, CarReaderOptions { max_block_size: 64, max_header_size: 64, zero_length_section_as_eof: false });
    read_car(data, CarReaderOptions { zero_length_section_as_eof: true, ..Default::default() });
    // Sections framed but not hashed (the import pipeline's path).
    if let Ok(mut r) = CarReader::new(data) {
        while let Ok(Some(s)) = r.next_section() {
            let _ = s.verify();
        }
    }
}

/// CAR headers: what decodes re-encodes (canonically) to the same roots.
pub fn car_header(data: &[u8]) {
    let Ok(h) = decode_header(data) else { return };
    let enc = encode_header(&h.roots);
    let back = decode_header(&enc).expect("an encoded header decodes");
    assert_eq!((back.version, &back.roots), (1, &h.roots));
    for c in &h.roots {
        check_cid(c);
    }
}

/// IPLD paths: splitting (line 1 of the input), lookups in the root block
/// decoded by each codec, and resolution across the blocks that follow.
pub fn path(data: &[u8]) {
    let (line, rest) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let p = String::from_utf8_lossy(line);
    let segs = split_path(&p);
    assert!(segs.iter().all(|s| !s.is_empty() && s != "." && !s.contains('/')), "{segs:?}");
    let rejoined = if p.starts_with('/') { format!("/{}", segs.join("/")) } else { segs.join("/") };
    assert_eq!(split_path(&rejoined), segs, "split_path is not idempotent");
    let isegs = split_ipld_path(&p);
    assert!(isegs.iter().all(|s| !s.is_empty() && !s.contains('/')));

    let bundle = Bundle::parse(rest);
    let root = bundle.root_bytes();
    for (codec, form) in
        [(Codec::DagCbor, PbForm::Plain), (Codec::DagJson, PbForm::Plain), (Codec::DagPb, PbForm::Typed)]
    {
        if let Ok(n) = codec.decode_with(&root, form) {
            let typed = codec == Codec::DagPb;
            let _ = get(&n, &isegs, typed);
            let _ = walk_in_node(&n, &isegs, typed);
        }
    }
    let src = |cid: &Cid| -> Result<Option<Block>, SourceError> { Ok(bundle.get(cid)) };
    for code in [codec::DAG_CBOR, codec::DAG_JSON, codec::DAG_PB] {
        let root = bundle.root(code);
        for (mode, segments) in [(PathMode::Ipld, &isegs), (PathMode::UnixFs(&NamedLinks), &segs)] {
            let ipld = matches!(mode, PathMode::Ipld);
            let Ok(res) = Resolver::new(&src, mode).resolve_to_last_node(root.cid(), segments) else { continue };
            if res.remainder.is_empty() {
                continue;
            }
            // The remainder walks inside the block it names (identity blocks
            // come from the CID, as the resolver loads them).
            let block = match rubo_dag::source::identity_block(&res.cid) {
                Some(b) => b,
                None => match bundle.get(&res.cid) {
                    Some(b) => b,
                    None => continue,
                },
            };
            let typed = res.cid.codec() == codec::DAG_PB;
            assert!(ipld || !typed, "a remainder inside a dag-pb block under /ipfs/");
            let form = if typed { PbForm::Typed } else { PbForm::Plain };
            let c = Codec::decoder(res.cid.codec()).expect("the resolver decoded this block");
            let n = c.decode_with(block.data(), form).expect("the resolver decoded this block");
            if let Err(e) = get(&n, &res.remainder, typed) {
                panic!("resolved remainder {:?} does not walk: {e}", res.remainder);
            }
        }
    }
}
