//! Seed inputs and dictionaries: files under `corpus/<target>/`, and inputs
//! built here with rubo's encoders (valid blocks, CARs, DAGs, keys from
//! fixed bytes) so that mutation starts from deep, well-formed structure.

use std::path::{Path, PathBuf};

use rubo_dag::car::{CarWriter, V2_PRAGMA, encode_header};
use rubo_dag::{Codec, Node};
use rubo_types::dagpb::{PbLink, PbNode};
use rubo_types::pb;
use rubo_types::{Block, Bytes, Cid, Version, codec, hash, parse_cid};
use rubo_unixfs::dir::{DirOptions, SizeEstimation, build_directory};
use rubo_unixfs::file::{BuildError, FileOptions, Layout, build_file, leaf};
use rubo_unixfs::pb::{Data, DataType, UnixTime};
use rubo_unixfs::{CidPrefix, DirEntry};

use crate::bundle;

/// The committed seed corpus.
pub fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus")
}

/// The files of `dir/<target>/`, in name order (missing directory: none).
pub fn from_dir(dir: &Path, target: &str) -> Vec<Vec<u8>> {
    let Ok(rd) = std::fs::read_dir(dir.join(target)) else { return Vec::new() };
    let mut paths: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file()).collect();
    paths.sort();
    paths.into_iter().filter_map(|p| std::fs::read(p).ok()).collect()
}

/// Every seed of a target: the committed corpus, then the generated ones.
pub fn all(target: &str) -> Vec<Vec<u8>> {
    let mut v = from_dir(&corpus_dir(), target);
    v.extend(generated(target));
    v
}

fn cid(s: &str) -> Cid {
    // Literals below are valid CIDs.
    parse_cid(s).unwrap_or_default()
}

fn block(data: &[u8], code: u64, hash_code: u64, version: Version) -> Option<Block> {
    Block::encode(Bytes::copy_from_slice(data), code, hash_code, None, version).ok()
}

/// CIDs of every shape: versions, codecs, hashes and digest sizes.
fn sample_cids() -> Vec<Cid> {
    let mut v = vec![
        cid("QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn"),
        cid("bafkreibmlvvgdyihetgocpof6xk64kjjzdeq2e4c7hqs3krdheosk4tgj4"),
        cid("bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354"),
        cid("bafkqaaa"),
    ];
    for (code, h) in [
        (codec::DAG_CBOR, hash::BLAKE2B_MIN + 31),
        (codec::DAG_JSON, hash::SHA2_512),
        (codec::GIT_RAW, hash::SHA1),
        (codec::RAW, hash::BLAKE3),
        (codec::LIBP2P_KEY, hash::IDENTITY),
        (0x30_0001, hash::SHA3_256),
    ] {
        v.extend(block(b"seed", code, h, Version::V1).map(|b| *b.cid()));
    }
    if let Ok(mh) = hash::identity(&[7u8; 128]) {
        v.push(Cid::new_v1(codec::RAW, mh));
    }
    v
}

/// Multibase text of `bytes` in every base.
fn all_bases(bytes: &[u8]) -> Vec<Vec<u8>> {
    rubo_types::multibase::BASES
        .iter()
        .filter_map(|(b, _)| rubo_types::multibase::Encoder::from_base(*b).ok())
        .map(|e| e.encode(bytes))
        .collect()
}

fn text(items: &[&str]) -> Vec<Vec<u8>> {
    items.iter().map(|s| s.as_bytes().to_vec()).collect()
}

/// Data model values of every kind, nested.
fn sample_nodes() -> Vec<Node> {
    let c = sample_cids();
    let leafs = vec![
        Node::Null,
        Node::Bool(true),
        Node::Int(-1),
        Node::Int(i128::from(i64::MIN)),
        Node::Int(i128::from(u64::MAX)),
        Node::Float(1.5),
        Node::Float(-0.0),
        Node::Float(1e300),
        Node::string("héllo \"\\\n\u{2028}"),
        Node::String(rubo_dag::IpldString::from_bytes(vec![0xff, b'a', 0xe2, 0x82])),
        Node::bytes(vec![0u8, 1, 2, 255]),
        Node::Link(c[0]),
        Node::Link(c[3]),
    ];
    let map = Node::map([
        ("a", Node::List(leafs.clone())),
        ("bb", Node::map([("Links", Node::List(vec![Node::Link(c[1])])), ("c", Node::Int(7))])),
        ("", Node::Link(c[2])),
        ("/", Node::string("x")),
    ]);
    let mut nested = Node::Int(1);
    for _ in 0..40 {
        nested = Node::List(vec![nested, Node::map([("k", Node::Null)])]);
    }
    let mut v = leafs;
    v.push(map);
    v.push(nested);
    v.push(Node::map([("/", Node::Link(c[1]))]));
    v
}

fn encodings(codec: Codec) -> Vec<Vec<u8>> {
    sample_nodes().iter().filter_map(|n| codec.encode(n).ok()).collect()
}

/// dag-pb nodes: empty, data only, links with and without names and sizes.
fn dagpb_blocks() -> Vec<Vec<u8>> {
    let c = sample_cids();
    let dir = Data::new(DataType::Directory).encode();
    vec![
        Vec::new(),
        vec![0x0a, 0x02, 0x08, 0x01],
        PbNode {
            links: vec![
                PbLink::new(c[0], "a", 4),
                PbLink::new(c[1], "", 0),
                PbLink { cid: c[2], name: None, tsize: None },
                PbLink::new(c[4], "ü/x", u64::MAX),
            ],
            data: Some(Bytes::from(dir)),
        }
        .encode(),
        PbNode { links: vec![PbLink::new(c[3], "inline", 1)], data: None }.encode(),
        {
            // Data before Links: go-codec-dagpb accepts it, rubo-types does not.
            let mut b = vec![0x0a, 0x01, 0x08];
            let mut link = Vec::new();
            pb::put_bytes_field(&mut link, 1, &c[0].to_bytes());
            pb::put_bytes_field(&mut b, 2, &link);
            b
        },
    ]
}

fn cbor_specials() -> Vec<Vec<u8>> {
    [
        "f93c00",
        "fa3fc00000",
        "f7",
        "c101",
        "1bffffffffffffffff",
        "3bffffffffffffffff",
        "3b7fffffffffffffff",
        "a2616201616102",
        "9fff",
        "d82a420155",
        "9b0000010000000000",
        "a26464617461450001020304654c696e6b7380",
    ]
    .iter()
    .filter_map(|h| data_encoding::HEXLOWER.decode(h.as_bytes()).ok())
    .chain(std::iter::once({
        let mut deep = vec![0x81u8; 600];
        deep.push(0x01);
        deep
    }))
    .collect()
}

fn json_specials() -> Vec<Vec<u8>> {
    text(&[
        "[1,]",
        "{\"a\":1,}",
        "123x",
        "01",
        "-0",
        "1.",
        "1e2",
        "9223372036854775807",
        "-9223372036854775808",
        "\"\\u00e9\\n\\/\"",
        "\"\\ud83d\\ude00\"",
        "\"\\ud83dx\"",
        "{\"/\":{\"bytes\":\"AAE=\"}}",
        "{\"/\":{\"bytes\":\"AAECAwQ\"}}",
        "{\"/\":\"bafkreibmlvvgdyihetgocpof6xk64kjjzdeq2e4c7hqs3krdheosk4tgj4\"}",
        "{\"/\":\"x\",\"y\":1}",
        "\t\r\n null \n\0",
        "[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]",
        "{\"Data\":{\"/\":{\"bytes\":\"AAECAwQ\"}},\"Links\":[]}",
    ])
}

fn car_v1(roots: &[Cid], blocks: &[Block]) -> Vec<u8> {
    let mut w = match CarWriter::new(Vec::new(), roots) {
        Ok(w) => w,
        Err(_) => return Vec::new(),
    };
    for b in blocks {
        let _ = w.write_block(b);
    }
    w.into_inner()
}

/// go-car's CARv2 layout: pragma, a 40-byte header, padding, the CARv1.
fn car_v2(inner: &[u8], padding: usize) -> Vec<u8> {
    let mut out = V2_PRAGMA.to_vec();
    let offset = (V2_PRAGMA.len() + 40 + padding) as u64;
    out.extend_from_slice(&[0u8; 16]);
    out.extend_from_slice(&offset.to_le_bytes());
    out.extend_from_slice(&(inner.len() as u64).to_le_bytes());
    out.extend_from_slice(&0u64.to_le_bytes());
    out.extend(std::iter::repeat_n(0u8, padding));
    out.extend_from_slice(inner);
    out
}

fn car_seeds() -> Vec<Vec<u8>> {
    let raw = block(b"hello", codec::RAW, hash::SHA2_256, Version::V1);
    let id = block(b"inline", codec::RAW, hash::IDENTITY, Version::V1);
    let pbb = block(&dagpb_blocks()[2], codec::DAG_PB, hash::SHA2_256, Version::V0);
    let cb = Codec::DagCbor
        .encode(&sample_nodes()[13])
        .ok()
        .and_then(|b| block(&b, codec::DAG_CBOR, hash::SHA2_256, Version::V1));
    let blocks: Vec<Block> = [raw, id, pbb, cb].into_iter().flatten().collect();
    let roots: Vec<Cid> = blocks.iter().take(2).map(|b| *b.cid()).collect();
    let v1 = car_v1(&roots, &blocks);
    vec![car_v1(&[], &[]), car_v1(&roots, &blocks[..1]), car_v2(&v1, 0), car_v2(&v1, 5), v1]
}

fn header_seeds() -> Vec<Vec<u8>> {
    let c = sample_cids();
    let mut v = vec![encode_header(&[]), encode_header(&c[..1]), encode_header(&c[..3]), V2_PRAGMA[1..].to_vec()];
    v.extend(
        ["a16776657273696f6e01", "a265726f6f7473f66776657273696f6e01", "f6", "820180"]
            .iter()
            .filter_map(|h| data_encoding::HEXLOWER.decode(h.as_bytes()).ok()),
    );
    v
}

/// A path line, then a bundle of blocks linking to each other.
fn path_seeds() -> Vec<Vec<u8>> {
    let leaf = Node::map([("b", Node::List(vec![Node::Int(1), Node::string("two")])), ("n", Node::Null)]);
    let Ok(leaf_bytes) = Codec::DagCbor.encode(&leaf) else { return Vec::new() };
    let Some(leaf_block) = block(&leaf_bytes, codec::DAG_CBOR, hash::SHA2_256, Version::V1) else { return Vec::new() };
    let root = Node::map([("a", Node::Link(*leaf_block.cid())), ("x", Node::map([("y", Node::Int(3))]))]);
    let Ok(root_cbor) = Codec::DagCbor.encode(&root) else { return Vec::new() };
    let root_json = Codec::DagJson.encode(&root).unwrap_or_default();
    let pbn =
        PbNode { links: vec![PbLink::new(*leaf_block.cid(), "a", 9)], data: Some(Bytes::from_static(b"\x08\x01")) }
            .encode();
    let mut v = Vec::new();
    for (path, root) in [
        ("a/b/1", &root_cbor),
        ("/a/b/0", &root_cbor),
        ("x/y", &root_json),
        ("a/n/z", &root_json),
        ("Links/0/Hash/b", &pbn),
        ("/a/../a/./b//1", &pbn),
        ("Data", &pbn),
    ] {
        let mut s = format!("{path}\n").into_bytes();
        s.extend_from_slice(&bundle::join(&[root.as_slice(), &leaf_bytes]));
        v.push(s);
    }
    v
}

fn unixfs_datas() -> Vec<Data> {
    let mut file = Data::new(DataType::File);
    file.data = Some(Bytes::from_static(b"hi"));
    file.filesize = Some(7);
    file.blocksizes = vec![3, 2];
    file.mode = Some(0o644);
    file.mtime = Some(UnixTime { seconds: -5, nanos: Some(7) });
    let mut hamt = Data::new(DataType::HamtShard);
    hamt.data = Some(Bytes::from_static(&[0x81, 0x01]));
    hamt.hash_type = Some(0x22);
    hamt.fanout = Some(256);
    let mut link = Data::new(DataType::Symlink);
    link.data = Some(Bytes::from_static(b"../target"));
    vec![Data::new(DataType::Directory), Data::new(DataType::Raw), Data::new(DataType::Metadata), file, hamt, link]
}

/// `(root first) bundles` of file DAGs of several layouts.
fn file_bundles() -> Vec<Vec<u8>> {
    let content: Vec<u8> = (0..200u32).map(|i| (i * 31 % 251) as u8).collect();
    let v1 = CidPrefix { version: Version::V1, ..Default::default() };
    let mut out = Vec::new();
    for (chunk, opts) in [
        (7, FileOptions { max_links: 3, ..Default::default() }),
        (5, FileOptions { max_links: 2, raw_leaves: true, prefix: v1, ..Default::default() }),
        (9, FileOptions { max_links: 3, layout: Layout::Trickle, ..Default::default() }),
        (300, FileOptions { mode: Some(0o600), ..Default::default() }),
    ] {
        let leaves = content.chunks(chunk).map(|c| leaf(Bytes::copy_from_slice(c), &opts).map_err(BuildError::from));
        let mut blocks: Vec<Block> = Vec::new();
        if build_file(leaves, &opts, &mut |b| {
            blocks.push(b);
            Ok(())
        })
        .is_ok()
        {
            blocks.reverse();
            out.push(bundle::join(&blocks.iter().map(|b| b.data().to_vec()).collect::<Vec<_>>()));
        }
    }
    out
}

/// Bundles of directories: basic, and HAMTs with sub-shards, with the files
/// their entries name.
fn dir_bundles() -> Vec<Vec<u8>> {
    let files: Vec<Block> =
        (0..3u8).filter_map(|i| block(&[b'f', i], codec::RAW, hash::SHA2_256, Version::V1)).collect();
    let mut out = Vec::new();
    for (n, opts) in [
        (3, DirOptions::default()),
        (40, DirOptions { hamt_threshold: 1, hamt_fanout: 8, ..Default::default() }),
        (12, DirOptions { hamt_threshold: 1, hamt_fanout: 256, mode: Some(0o755), ..Default::default() }),
        (5, DirOptions { estimation: SizeEstimation::Block, hamt_threshold: 100, ..Default::default() }),
    ] {
        let entries: Vec<DirEntry> = (0..n)
            .filter_map(|i| {
                files.get(i % files.len()).map(|f| DirEntry { name: format!("e{i}").into(), cid: *f.cid(), tsize: 2 })
            })
            .collect();
        let mut blocks: Vec<Block> = Vec::new();
        let built = build_directory(entries, &opts, &mut |b| {
            blocks.push(b);
            Ok::<(), String>(())
        });
        if built.is_ok() {
            blocks.reverse();
            blocks.extend(files.iter().cloned());
            out.push(bundle::join(&blocks.iter().map(|b| b.data().to_vec()).collect::<Vec<_>>()));
        }
    }
    out
}

fn key_seeds() -> Vec<Vec<u8>> {
    use libp2p_identity::{Keypair, ecdsa, secp256k1};
    let mut keys: Vec<Keypair> = Vec::new();
    keys.extend(Keypair::ed25519_from_bytes([1u8; 32]).ok());
    keys.extend(secp256k1::SecretKey::try_from_bytes([2u8; 32]).ok().map(|k| secp256k1::Keypair::from(k).into()));
    keys.extend(ecdsa::SecretKey::try_from_bytes([3u8; 32]).ok().map(|k| ecdsa::Keypair::from(k).into()));
    let mut v: Vec<Vec<u8>> = Vec::new();
    for k in &keys {
        v.extend(k.to_protobuf_encoding().ok());
        v.push(k.public().encode_protobuf());
        v.push(k.public().to_peer_id().to_bytes());
    }
    if let Some(first) = v.first() {
        use base64::Engine as _;
        v.push(base64::engine::general_purpose::STANDARD.encode(first).into_bytes());
    }
    // An RSA key's framing (Type 0, a PKCS#1 DER) around a stub DER.
    v.push(vec![0x08, 0x00, 0x12, 0x05, 0x30, 0x03, 0x02, 0x01, 0x00]);
    v
}

/// MFS operation sequences (see `mfs::write_read`).
fn mfs_op_seeds() -> Vec<Vec<u8>> {
    let write = |offset: u16, data: &[u8]| -> Vec<u8> {
        let mut v = vec![0x00];
        v.extend_from_slice(&offset.to_be_bytes());
        v.push((data.len() / 3) as u8);
        v.extend_from_slice(&data[..data.len() / 3 * 3]);
        v
    };
    let mut seeds = Vec::new();
    for (cfg, start) in [(0u8, 0u8), (1, 1), (7, 0), (19, 3), (26, 5), (2, 9)] {
        let mut s = vec![cfg, start, 40];
        s.extend(write(0, b"hello world, this is MFS!"));
        s.extend(write(5, b"XYZ"));
        s.extend([0x04, 0x00, 0x02, 0x05]); // read at 2
        s.extend([0x13, 0x00, 0x20, 0x09]); // long write, truncating first
        s.extend(write(300, b"gap"));
        s.extend([0x05, 0x16, 0x01, 0xa4, 0x06, 0x00, 0x10]); // stat, chmod, touch
        s.extend([0x23, 0x00, 0x10, 0x20, 0x07]); // long write with a count
        s.extend([0x07]); // full read
        seeds.push(s);
    }
    seeds
}

/// The seeds built in code for `target` (those in `corpus/` come first).
pub fn generated(target: &str) -> Vec<Vec<u8>> {
    let cids = sample_cids();
    match target {
        "types_cid_string" => {
            let mut v: Vec<Vec<u8>> = cids.iter().map(|c| c.to_string().into_bytes()).collect();
            for c in &cids[..4] {
                if c.version() == Version::V1 {
                    v.extend(all_bases(&c.to_bytes()));
                }
            }
            v.extend(text(&["", "x", "!abc", "bafy!!", "bafkqaakbii", "bciqcz4snxjp3biyoe3ua"]));
            v.push(b"zQmRN6wdp1S2A5EtjW9A3M1vKSBuQQGcgvuhoMUoEz4iiT5".to_vec());
            v
        }
        "types_cid_bytes" | "types_block" => {
            let mut v: Vec<Vec<u8>> = cids.iter().map(|c| c.to_bytes()).collect();
            v.extend(cids.iter().map(|c| c.hash().to_bytes()));
            if target == "types_block" {
                for (i, d) in dagpb_blocks().into_iter().chain(encodings(Codec::DagCbor)).enumerate() {
                    let mut s = vec![i as u8];
                    s.extend(d);
                    v.push(s);
                }
            }
            v
        }
        "types_multibase" => {
            let mut v = all_bases(b"hello");
            v.extend(all_bases(&[]));
            v.extend(all_bases(&cids[1].to_bytes()));
            v.extend(text(&["base32", "b", "identity", "🚀", "base256emoji", "z", "\0x"]));
            // go-multibase's odd corners: case, newlines, padding, signs in base2.
            v.extend(text(&["BnbSWY3dp", "bnbsw\ny3dp\r\n", "MZm9v\nYg==\n", "cmy=====", "0-0000001", "f6\n"]));
            v
        }
        "types_go_int" => text(&[
            "0",
            "-0",
            "+5",
            "12345",
            "0x7fffffffffffffff",
            "-0x8000000000000000",
            "9223372036854775808",
            "18446744073709551615",
            "0b101",
            "0O777",
            "0777",
            "08",
            "0x",
            "1_000",
            "0x_1_F",
            "0_7",
            "1__2",
            "_1",
            "1_",
            "-+1",
            "99999999999999999999x",
            "zz",
            "255",
            "-128",
        ]),
        "types_multihash" => {
            let mut v = text(&[
                "sha2-256",
                "blake2b-256",
                "blake2s-128",
                "sha3",
                "identity",
                "dag-pb",
                "0x55",
                "85",
                "0o125",
                "0b1010101",
                "2_97",
                "0x300001",
                "murmur3-x64-64",
            ]);
            v.extend(cids.iter().map(|c| c.hash().to_bytes()));
            v.extend([vec![0, 0xff, b'a', b'b', b'c'], vec![14, 64, b'x'], vec![3, 0, 1, 2, 3]]);
            v
        }
        "types_dagpb" | "dag_pb" | "unixfs_node" => {
            let mut v = dagpb_blocks();
            for d in unixfs_datas() {
                v.push(PbNode::with_data(d.encode()).encode());
            }
            v
        }
        "types_cbor_walk" | "dag_cbor" => {
            let mut v = encodings(Codec::DagCbor);
            v.extend(encodings(Codec::Cbor));
            v.extend(cbor_specials());
            v
        }
        "dag_json" => {
            let mut v = encodings(Codec::DagJson);
            v.extend(encodings(Codec::Json));
            v.extend(json_specials());
            v
        }
        "types_pb_fields" => {
            let mut m = Vec::new();
            pb::put_varint_field(&mut m, 1, 150);
            pb::put_key(&mut m, 2, pb::WireType::Fixed64);
            m.extend_from_slice(&7u64.to_le_bytes());
            pb::put_key(&mut m, 3, pb::WireType::Fixed32);
            m.extend_from_slice(&9u32.to_le_bytes());
            pb::put_bytes_field(&mut m, 4, b"nested\x08\x01");
            pb::put_varint_field(&mut m, 536_870_911, u64::MAX);
            let mut v = vec![m, vec![0xff; 10], vec![0x80, 0x00]];
            v.extend(unixfs_datas().iter().map(Data::encode));
            v.extend(dagpb_blocks());
            v
        }
        "dag_links" => {
            let mut v = Vec::new();
            for (sel, data) in [(0u8, dagpb_blocks()), (1, encodings(Codec::DagCbor)), (2, encodings(Codec::DagJson))] {
                for d in data {
                    let mut s = vec![sel];
                    s.extend(d);
                    v.push(s);
                }
            }
            v
        }
        "dag_car" => car_seeds(),
        "dag_car_header" => header_seeds(),
        "dag_path" => path_seeds(),
        "unixfs_data" => unixfs_datas().iter().map(Data::encode).collect(),
        "unixfs_dir" => dir_bundles(),
        "unixfs_file" | "mfs_hostile_file" => file_bundles(),
        "unixfs_chunker_spec" => text(&[
            "",
            "default",
            "size-262144",
            "size-1",
            "size-0",
            "size-2096896",
            "rabin",
            "rabin-262144",
            "rabin-48",
            "rabin-16-32-64",
            "rabin-min:16-avg:32-max:64",
            "buzhash",
            "buzhash-x",
        ]),
        "repo_config" => {
            let mut v = text(&[
                "{}",
                "{\"Addresses\":{\"API\":[\"/a\",\"/b\"],\"Gateway\":\"\"}}",
                "{\"Import\":{\"UnixFSHAMTDirectorySizeThreshold\":\"256KiB\",\"CidVersion\":1}}",
                "{\"Ipns\":{\"MaxCacheTTL\":\"1h30m\"},\"Swarm\":{\"RelayService\":{\"Enabled\":true}}}",
                "{\"Datastore\":null,\"Identity\":{\"PeerID\":\"x\"}}",
            ]);
            if let Ok(s) = serde_json::to_vec(&rubo_repo::config::default_config("12D3KooWX", "")) {
                v.push(s);
            }
            v
        }
        "repo_identity" => key_seeds(),
        "repo_keystore_name" => text(&["key_mzxw6", "key_onswyzq", "key_MZXW6", "self", "my key", "key_", "é"]),
        "repo_units" => text(&[
            "1h30m",
            "22h0m0s",
            "1.5s",
            "300ms",
            "0",
            "1µs",
            "2562047h47m16.854775807s",
            "10GB",
            "256KiB",
            "1.5 kB",
            "1,024",
            "42",
            "18 EB",
        ]),
        "repo_flatfs" => {
            let mut v: Vec<Vec<u8>> = cids.iter().map(|c| rubo_repo::flatfs::key_of(c.hash()).into_bytes()).collect();
            v.extend(text(&[
                "/repo/flatfs/shard/v1/next-to-last/2",
                "/repo/flatfs/shard/v1/prefix/4",
                "/repo/flatfs/shard/v1/suffix/16",
                "A",
                "",
            ]));
            v
        }
        "bitswap_message" => bitswap_seeds(&cids),
        "ipns_record" => ipns_record_seeds(),
        "ipns_name" => ipns_name_seeds(),
        "dht_store" => vec![
            // Split at 18: an expiry and one address as the store writes them, then junk.
            [&[18u8][..], &u64::MAX.to_be_bytes()[..], &[0, 8, 4, 127, 0, 0, 1, 6, 15, 161][..], b"tail"].concat(),
            vec![0],
            vec![9, 0, 0, 0, 0, 0, 0, 0, 1, 255],
        ],
        "routing_providers" => text(&[
            r#"{"Providers":[{"Schema":"peer","ID":"12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN","Addrs":["/ip4/127.0.0.1/tcp/4001"],"Protocols":["transport-bitswap"]}]}"#,
            "{\"Schema\":\"peer\",\"ID\":\"QmQoHKJZtPxGc1nHbWpHK1XVWihCEyRp4XiiUjqgs6yTsb\"}\n{\"Schema\":\"other\"}\n",
            r#"{"Providers":null}"#,
            "http://127.0.0.1:8080/base",
            "https://cid.contact",
        ]),
        "repo_proc_locks" => text(&[
            "1: FLOCK  ADVISORY  WRITE 30797 fe:00:5318729 0 EOF\n2: FLOCK  ADVISORY  READ 17 fe:01:10133507 0 EOF\n",
            "2: -> FLOCK  ADVISORY  WRITE 18 fe:01:10133507 0 EOF\n3: POSIX  ADVISORY  READ 19 fe:01:10133507 0 EOF\n",
            "4: OFDLCK ADVISORY  READ  -1 00:2a:10133507 0 EOF\n5: FLOCK  ADVISORY  READ 0 00:00:0 0 EOF\n",
        ]),
        "mfs_path" => text(&["/", "/a/b/", "//", "/a/../b", "a/b", "", "/./x/", "0644", "-1", "+777", "17777777777"]),
        "mfs_write_read" => mfs_op_seeds(),
        "commands_extract_dag" => {
            let mut v = hostile_tree_bundles();
            v.extend(dir_bundles());
            v.extend(file_bundles());
            v
        }
        "commands_extract_tar" => tar_seeds(),
        "commands_argv" => text(&[
            "add\0-r\0--cid-version=1\0--raw-leaves\0dir",
            "get\0-o\0out\0-a\0-C\0-l\09\0QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn",
            "pin\0ls\0--type=all\0--names",
            "block\0put\0--mhtype=sha3\0--mhlen=20\0--cid-codec=dag-pb",
            "cat\0--offset=0x10\0--length=010\0/ipfs/bafkqaaa/a/b",
            "files\0write\0--create\0--offset=-1\0/a",
            "dag\0export\0--progress=false\0ipfs://bafkqaaa",
        ]),
        "http_multipart" => {
            let mut v = text(&[
                "\x01B--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"dir\"\r\nContent-Type: application/x-directory\r\n\r\n\r\n--B\r\nContent-Disposition: form-data; name=\"file?mode=0644&mtime=5&mtime-nsecs=7\"; filename=\"dir%2Fa+b.txt\"\r\nContent-Type: application/octet-stream\r\n\r\nhello\r\n--B-ish\r\n\r\n--B--\r\n",
                "\x03xyzpreamble\n--xyz\nContent-Disposition: form-data; name=\"file\"; filename=\"\"\n\ndata\n--xyz--",
                "\x02AB--AB\r\nContent-Disposition: form-data; name=\"file-1\"; filename*=utf-8''%C3%A9\r\nContent-Type: application/symlink\r\n\r\ntarget\r\n--AB  \r\nX: 1\r\n folded\r\n\r\n\r\n--AB--",
                "multipart/form-data; boundary=\"q\\\"b\"; x=y",
            ]);
            v.push(b"\x01B--B\r\n\r\n\r\n--B".to_vec());
            v
        }
        "http_maddr" => text(&[
            "/ip4/127.0.0.1/tcp/5001",
            "/ip6/::1/tcp/5001/http",
            "/dns4/localhost/tcp/5001",
            "/dns/a-b.example/tcp/1/",
            "http://127.0.0.1:5001/",
            "http://[::ffff:1.2.3.4]:80",
            "/ip4/127.0.0.1/tcp/5001/https",
            "/unix/tmp/api.sock",
        ]),
        "http_auth" => text(&[
            "basic:alice:pw\0Basic YWxpY2U6cHc=\0/api/v0/id",
            "bearer:tok\0Bearer tok\0/api/v0/idx",
            "tok\0Bearer tok\0/api/v0/cat",
            "basic:YWxpY2U6cHc=\0Basic YWxpY2U6cHc=",
            "digest:x\0Digest x",
            r#"{"API":{"HTTPHeaders":{"Access-Control-Allow-Origin":["*"],"X":"y"},"Authorizations":{"a":{"AuthSecret":"basic:a:b","AllowedPaths":["/api/v0"]}}}}"#,
        ]),
        "commands_path" => text(&[
            "/ipfs/QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn/a/b",
            "ipfs://bafkqaaa/x//y/",
            "/ipfs/bafkqaaa/../x",
            "0x7fffffffffffffff",
            "-0b101",
            "0777",
            "1_000",
            "T",
        ]),
        "gateway_range" => text(&[
            "\x1f\0\0\0\0\0\0\0bytes=6-16",
            "\x1f\0\0\0\0\0\0\0bytes=-3",
            "\0\x04\0\0\0\0\0\0bytes=6-16, 0-4,-1",
            "\x7e\x7f\x7f\x7f\x7f\x7f\x7f\x7fbytes=9223372036854775806-",
            "\x00\x00\x00\x00\x00\x00\x00\x00bytes=0-",
            "\x10\0\0\0\0\0\0\0items=0-1",
        ]),
        "gateway_entity_bytes" => text(&[
            "\x02\x04\0\0\0\0\0\x000:*",
            "\x02\x04\0\0\0\0\0\x00512:-256",
            "\x02\x04\0\0\0\0\0\x00-9999:-3",
            "\x02\x04\0\0\0\0\0\x00-5:*",
            "\0\0\0\0\0\0\0\x000:0",
            "\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f-9223372036854775808:9223372036854775807",
        ]),
        "gateway_redirects" => text(&[
            "/redirect-one /one.html\n/301-redirect-one /one.html 301\n/posts/:year/:month/:day/:title /articles/:year/:month/:day/:title 301\n/splat/* /redirected-splat/:splat 301\n/not-found/* /404.html 404\n/* /index.html 200\n",
            "# comment\r\n\r\n/a /b 302\r\n",
            "/source1/* /target-file?static-query1=static-val1 301\n/source3/* https://example.net/target3/:splat 301",
            "/a /b 301!",
            "/:a/:a /b",
        ]),
        "gateway_accept" => text(&[
            "\napplication/vnd.ipld.car; version=1; order=dfs; dups=y",
            "car\napplication/vnd.ipld.raw",
            "\ntext/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "\napplication/vnd.ipld.car;order=\"unk\"",
            "nope\napplication/json",
        ]),
        "gateway_host" => text(&[
            "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi.ipfs.localhost:8080",
            "/ipfs/QmbWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMnR/a b?x=1",
            "/ipns/en.wikipedia-on-ipfs.org/wiki/",
            "h/ipns/12D3KooWSrT3kC1PL6UKYtqBPoXHQhRGwcgPzYuG4DvVtu96zP7p",
            "en-wikipedia--on--ipfs-org.ipns.localhost",
            "/a/../../b/%2e%2e/./c?uri=ipfs%3A%2F%2Fx",
        ]),
        _ => Vec::new(),
    }
}

/// IPNS records signed by the fixed name's key (V1+V2, V2-only, embedded
/// key, an expired one, the legacy variants validation refuses), records of
/// other key types behind a `name\n` line, and extensible data.
fn ipns_record_seeds() -> Vec<Vec<u8>> {
    use libp2p_identity::{Keypair, ecdsa, secp256k1};
    use rubo_ipns::{CreateOptions, EmbedPublicKey, IpnsEntry, Record, RecordData, signature_v2_payload};
    use std::time::Duration;

    let Some(fixed) = crate::ipns::fixed_key() else { return Vec::new() };
    let now = crate::ipns::now();
    let year = Duration::from_secs(365 * 86_400);
    let make = |k: &Keypair, value: &[u8], seq: u64, eol, opts| {
        Record::create(k, value, seq, eol, Duration::from_secs(300), opts).ok().map(Record::into_bytes)
    };
    let v2_only = CreateOptions { v1_compatible: false, ..Default::default() };
    let embed = CreateOptions { embed_public_key: EmbedPublicKey::Always, ..Default::default() };
    let mut v: Vec<Vec<u8>> = [
        make(&fixed, b"/ipfs/bafkqaaa", 1, now + year, CreateOptions::default()),
        make(&fixed, b"/ipns/example.com/a/../b/", 2, now + year, v2_only),
        make(&fixed, b"", 3, now + year, embed),
        make(&fixed, &[0x01, 0x55, 0x00, 0x00], 4, now + year, CreateOptions::default()),
        make(
            &fixed,
            b"/ipfs/QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn/x",
            u64::MAX,
            now - year,
            CreateOptions::default(),
        ),
    ]
    .into_iter()
    .flatten()
    .collect();
    // The legacy shapes: V1 only, data without a signature, V1 fields that
    // disagree, data that is not canonical (keys out of order).
    if let Some(first) = v.first().and_then(|b| <IpnsEntry as prost::Message>::decode(b.as_slice()).ok()) {
        let mut e = first.clone();
        e.signature_v2 = None;
        e.data = None;
        v.push(prost::Message::encode_to_vec(&e));
        let mut e = first.clone();
        e.sequence = Some(9);
        v.push(prost::Message::encode_to_vec(&e));
        let value = b"/ipfs/bafkqaaa";
        let d = RecordData {
            value: value.to_vec(),
            validity: b"2123-08-14T12:17:03.694052Z".to_vec(),
            validity_type: 0,
            sequence: 1,
            ttl: 0,
        }
        .encode();
        // Swap the first two entries, `TTL: 0` (5 bytes) and `Value` (key,
        // short bytes head, the value): an order DAG-CBOR does not allow.
        let value_end = 6 + 6 + 1 + value.len();
        let mut swapped = vec![d[0]];
        swapped.extend_from_slice(&d[6..value_end]);
        swapped.extend_from_slice(&d[1..6]);
        swapped.extend_from_slice(&d[value_end..]);
        for cbor in [d, swapped] {
            let sig = fixed.sign(&signature_v2_payload(&cbor)).ok();
            v.push(prost::Message::encode_to_vec(&IpnsEntry {
                signature_v2: sig,
                data: Some(cbor),
                ..Default::default()
            }));
        }
    }
    let others: Vec<Keypair> = [
        secp256k1::SecretKey::try_from_bytes([2u8; 32]).ok().map(|k| secp256k1::Keypair::from(k).into()),
        ecdsa::SecretKey::try_from_bytes([3u8; 32]).ok().map(|k| ecdsa::Keypair::from(k).into()),
        Keypair::ed25519_from_bytes([4u8; 32]).ok(),
    ]
    .into_iter()
    .flatten()
    .collect();
    for k in &others {
        let name = rubo_ipns::Name::from_public_key(&k.public());
        if let Some(rec) = make(k, b"/ipfs/bafkqaaa", 7, now + year, CreateOptions::default()) {
            let mut text = format!("{name}\n").into_bytes();
            text.extend_from_slice(&rec);
            v.push(text);
            let mut key = name.routing_key();
            key.push(b'\n');
            key.extend_from_slice(&rec);
            v.push(key);
        }
    }
    v
}

/// Names in every form, timestamps, content paths, routing keys.
fn ipns_name_seeds() -> Vec<Vec<u8>> {
    let mut v = text(&[
        "k51qzi5uqu5dk3v4rmjber23h16xnr23bsggmqqil9z2gduiis5se8dht36dam",
        "/ipns/12D3KooWLQzUv2FHWGVPXTXSZpdHs7oHbXub2G5WC8Tx4NQhyd2d",
        "QmVujd5Vb7moysJj8itnGufN7MEtPRCNHkKpNuA4onsRa3",
        "k2k4r8m7xvggw5pxxk3abrkwyer625hg01hfyggrai7lk1m63fuihi7w",
        "bafzaajaiaejca4syrpdu6gdx4wsdnokxkprgzxf4wrstuc34gxw5k5jrag2so5gk",
        "16Uiu2HAmUymv6JpFwNZppdKUMxGJuHsTeicXgHGKbBasu4Ruj3K1",
        "K51QZI5UQU5DK3V4RMJBER23H16XNR23BSGGMQQIL9Z2GDUIIS5SE8DHT36DAM",
        "k50rm9yjlt0jey4fqg6wafvqprktgbkpgkqdg27tpqje6iimzxewnhvtin9hhq",
        "2123-08-14T12:17:03.694052Z",
        "1970-01-01T00:00:00.000000001Z",
        "0000-01-01T00:30:00+01:00",
        "9999-12-31T23:59:59.9999999999-23:59",
        "2024-02-29T00:00:00Z",
        "/ipfs/bafkqaaa/a/../b/",
        "/ipns/example.com",
        "/ipld/QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn",
    ]);
    if let Some(k) = crate::ipns::fixed_key() {
        let n = rubo_ipns::Name::from_public_key(&k.public());
        v.push(n.routing_key());
        v.push(n.peer_id().to_base58().into_bytes());
        v.push(n.to_cid().to_bytes());
    }
    v.push(vec![0x01, 0x55, 0x00, 0x00]);
    v
}

/// Bitswap messages of every dialect, framed and bare, and several frames in a row.
fn bitswap_seeds(cids: &[Cid]) -> Vec<Vec<u8>> {
    use rubo_bitswap::message::{Entry, Message, Presence, ProtocolVersion, WantType};
    let blocks: Vec<Block> = [
        block(b"hello", codec::RAW, hash::SHA2_256, Version::V1),
        block(b"\x0a\x00", codec::DAG_PB, hash::SHA2_256, Version::V0),
        block(b"x", codec::DAG_CBOR, hash::BLAKE3, Version::V1),
    ]
    .into_iter()
    .flatten()
    .collect();
    let m = Message {
        full: true,
        entries: cids
            .iter()
            .enumerate()
            .map(|(i, c)| match i % 3 {
                0 => Entry::want(*c, i as i32, WantType::Have, true),
                1 => Entry::want(*c, -1, WantType::Block, false),
                _ => Entry::cancel(*c),
            })
            .collect(),
        blocks,
        presences: cids.iter().take(3).map(|c| (*c, Presence::DontHave)).chain([(cids[0], Presence::Have)]).collect(),
        pending_bytes: 7,
    };
    let mut v = Vec::new();
    let mut stream = Vec::new();
    for version in [ProtocolVersion::V100, ProtocolVersion::V110, ProtocolVersion::V120] {
        let frame = m.to_frame(version);
        let mut body = frame.to_vec();
        let (_, n) = pb::get_uvarint(&body).unwrap_or((0, 0));
        body.drain(..n);
        stream.extend_from_slice(&frame);
        v.push(frame.to_vec());
        v.push(body);
    }
    v.push(stream);
    v.push(Message::default().to_frame(ProtocolVersion::V120).to_vec());
    v
}

/// Directories that try to escape an extraction: a symlink and a directory
/// of one name, a symlink out, names with `..` and `/`.
fn hostile_tree_bundles() -> Vec<Vec<u8>> {
    let dir_data = Data::new(DataType::Directory).encode();
    let mut link_data = Data::new(DataType::Symlink);
    link_data.data = Some(Bytes::from_static(b"../victim"));
    let mut abs_data = Data::new(DataType::Symlink);
    abs_data.data = Some(Bytes::from_static(b"/tmp"));
    let mut file_data = Data::new(DataType::File);
    file_data.data = Some(Bytes::from_static(b"owned\n"));
    file_data.filesize = Some(6);
    let enc = |links: Vec<PbLink>, data: Vec<u8>| PbNode { links, data: Some(data.into()) }.encode();
    let file = enc(vec![], file_data.encode());
    let link = enc(vec![], link_data.encode());
    let abs = enc(vec![], abs_data.encode());
    let cid_of = |b: &[u8]| block(b, codec::DAG_PB, hash::SHA2_256, Version::V0).map(|b| *b.cid());
    let (Some(fc), Some(lc), Some(ac)) = (cid_of(&file), cid_of(&link), cid_of(&abs)) else { return Vec::new() };
    let inner = enc(vec![PbLink::new(fc, "file", 6)], dir_data.clone());
    let Some(ic) = cid_of(&inner) else { return Vec::new() };
    let mut out = Vec::new();
    for links in [
        vec![PbLink::new(lc, "x", 1), PbLink::new(ic, "x", 1)],
        vec![PbLink::new(ac, "a", 1), PbLink::new(ic, "a", 1)],
        vec![PbLink::new(ic, "e0", 1), PbLink::new(fc, "e1", 1)],
        vec![PbLink::new(fc, "..", 1), PbLink::new(fc, "a/b", 1), PbLink::new(fc, "", 1)],
    ] {
        let root = enc(links, dir_data.clone());
        out.push(bundle::join(&[root, inner.clone(), file.clone(), link.clone(), abs.clone()]));
    }
    out
}

/// Tar streams that try to escape: absolute and `..` names, a symlink then
/// a path through it, a file root then more entries.
fn tar_seeds() -> Vec<Vec<u8>> {
    fn entry(b: &mut tar::Builder<Vec<u8>>, kind: tar::EntryType, name: &[u8], link: &[u8], data: &[u8]) {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(0o755);
        h.set_size(data.len() as u64);
        // Raw names: the header writer refuses `..`, a hostile archive does not.
        let n = name.len().min(99);
        if let Some(gnu) = h.as_gnu_mut() {
            gnu.name[..n].copy_from_slice(&name[..n]);
            let l = link.len().min(99);
            gnu.linkname[..l].copy_from_slice(&link[..l]);
        }
        h.set_cksum();
        let _ = b.append(&h, data);
    }
    use tar::EntryType::{Directory as D, Regular as F, Symlink as L};
    // (kind, name, link target, contents)
    type Spec<'a> = (tar::EntryType, &'a [u8], &'a [u8], &'a [u8]);
    let cases: &[&[Spec<'_>]] = &[
        &[
            (D, b"root", b"", b""),
            (L, b"root/x", b"../victim", b""),
            (D, b"root/x", b"", b""),
            (F, b"root/x/f", b"", b"owned"),
        ],
        &[(D, b"root", b"", b""), (F, b"root/a/f", b"", b"through a trap")],
        &[(D, b"root", b"", b""), (F, b"root/../escape", b"", b"x")],
        &[(D, b"root", b"", b""), (F, b"/abs", b"", b"x")],
        &[(F, b"file", b"", b"x"), (F, b"file2", b"", b"y")],
        &[(L, b"root", b"/tmp", b"")],
        &[(D, b"root", b"", b""), (F, b"other/f", b"", b"x")],
    ];
    cases
        .iter()
        .map(|es| {
            let mut b = tar::Builder::new(Vec::new());
            for (k, n, l, d) in es.iter() {
                entry(&mut b, *k, n, l, d);
            }
            b.into_inner().unwrap_or_default()
        })
        .collect()
}

/// Tokens worth inserting for `target`.
pub fn dictionary(target: &str) -> &'static [&'static [u8]] {
    match target {
        "types_cid_string" | "types_multibase" => {
            &[b"Qm", b"bafy", b"bafk", b"z", b"f01", b"B", b"k", b"m", b"u", b"\xf0\x9f\x9a\x80", b"\0", b"="]
        }
        "types_go_int" => &[b"0x", b"0o", b"0b", b"0X", b"_", b"-", b"+", b"9", b"7", b"f", b"z", b"0"],
        "types_multihash" => &[b"sha2-", b"blake2b-", b"blake2s-", b"0x", b"0o", b"0b", b"_", b"dag-", b"256"],
        "dag_json" | "repo_config" => &[
            b"{\"/\":",
            b"{\"/\":{\"bytes\":\"",
            b"\"}}",
            b"\\ud83d",
            b"\\u0000",
            b"[",
            b"]",
            b"{",
            b"}",
            b",",
            b":",
            b"null",
            b"true",
            b"1e400",
            b"-0",
            b"\"",
            b"{\"Addresses\":",
        ],
        "types_cbor_walk" | "dag_cbor" | "dag_car_header" => &[
            &[0xd8, 0x2a],
            &[0x58, 0x25, 0x00, 0x01],
            &[0x9f],
            &[0xff],
            &[0xf9, 0x7e, 0x00],
            &[0xfb],
            &[0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            &[0xa1, 0x61, b'a'],
            &[0x81],
            &[0xc1],
            &[0x7a, 0xff, 0xff, 0xff, 0xff],
            b"\x65roots",
            b"\x67version",
        ],
        "types_dagpb" | "dag_pb" | "types_pb_fields" | "unixfs_data" | "unixfs_node" | "repo_identity"
        | "bitswap_message" => &[
            &[0x0a],
            &[0x12],
            &[0x18],
            &[0x08],
            &[0x22],
            &[0x2a],
            &[0x0d],
            &[0x09],
            &[0x12, 0x22, 0x0a, 0x20],
            &[0x08, 0x05],
            &[0x28, 0x22],
            &[0x30, 0x80, 0x02],
        ],
        "dag_car" => &[&V2_PRAGMA, &[0x00], &[0x01, 0x55, 0x12, 0x20], &[0x12, 0x20], b"|BLK"],
        "dag_path" => &[b"/", b"..", b".", b"Links", b"Hash", b"Data", b"0", b"-1", b"+1", b"\n", b"|BLK"],
        "unixfs_dir" | "unixfs_file" | "mfs_hostile_file" => {
            &[b"|BLK", &[0x08, 0x05], &[0x30, 0x08], &[0x20, 0x00], &[0x18, 0x00]]
        }
        "unixfs_chunker_spec" => &[b"size-", b"rabin-", b"buzhash", b"min:", b"avg:", b"max:", b"-"],
        "repo_units" => &[b"h", b"m", b"s", b"ms", b"\xc2\xb5s", b"ns", b"KiB", b"GB", b".", b",", b"e"],
        "repo_flatfs" | "repo_keystore_name" => {
            &[b"/repo/flatfs/shard/v1/", b"next-to-last/", b"prefix/", b"suffix/", b"key_", b"CIQ", b"AFK"]
        }
        "mfs_path" => &[b"/", b"..", b".", b"//", b"0777", b"-"],
        "gateway_range" => &[b"bytes=", b"-", b",", b" ", b"0", b"9223372036854775807"],
        "gateway_entity_bytes" => &[b":", b"*", b"-", b"0", b"9223372036854775807"],
        "gateway_redirects" => &[b"/", b":splat", b"*", b" 301", b" 200", b" 404", b"\n", b"\r\n", b"#", b":id"],
        "gateway_accept" => &[b"application/vnd.ipld.", b";", b"=", b"\"", b",", b"\n", b"car", b"raw", b"version=1"],
        "gateway_host" => &[b".ipfs.", b".ipns.", b"localhost", b":8080", b"/ipfs/", b"/ipns/", b"--", b"%", b".."],
        "repo_proc_locks" => &[b"FLOCK", b"POSIX", b" -> ", b"ADVISORY", b"WRITE", b"READ", b"fe:01:", b"\n", b":"],
        "http_multipart" => &[
            b"\r\n--B",
            b"--B--",
            b"\r\n\r\n",
            b"Content-Disposition: form-data; name=\"file?mode=0755\"; filename=\"",
            b"Content-Type: application/x-directory",
            b"%2F",
            b"..",
            b"\n",
        ],
        "http_maddr" => &[b"/ip4/", b"/ip6/", b"/dns4/", b"/tcp/", b"/http", b"http://", b"[::1]", b":", b"65535"],
        "http_auth" => &[b"basic:", b"bearer:", b"Basic ", b"Bearer ", b"\0", b":", b"/api/v0/"],
        "ipns_record" => &[
            &[0x0a],
            &[0x12],
            &[0x18, 0x00],
            &[0x22],
            &[0x28],
            &[0x30],
            &[0x3a],
            &[0x42, 0x40],
            &[0x4a],
            b"\x63TTL",
            b"\x65Value",
            b"\x68Sequence",
            b"\x68Validity",
            b"\x6cValidityType",
            &[0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            b"/ipfs/",
            b"/ipns/",
            b"2123-08-14T12:17:03.694052Z",
            b"\n",
        ],
        "ipns_name" => &[
            b"/ipns/",
            b"k51qzi5uqu5d",
            b"12D3KooW",
            b"Qm",
            b"bafz",
            b"f0172",
            b"T",
            b"Z",
            b"+01:00",
            b".",
            b"..",
            b"/",
        ],
        _ => &[],
    }
}
