//! One walk rule for `pin add`, GC, `dag export` and `refs` (rubo-dag's
//! walker, Kubo's behaviour): an identity-hash CID's block is its digest,
//! walked like any other; a libp2p-key CID has no decoder, so walking into
//! it fails the same way everywhere; a block linked under two codecs is read
//! under both.

use rubo_dag::car::CarReader;
use rubo_dag::walk::{RefsOptions, RefsWalker};
use rubo_dag::{Codec, Node as Ipld};
use rubo_node::rubo_repo::InitOptions;
use rubo_node::{ErrorKind, GcEvent, LockMode, Node, NodeError, PinKind, Repo};
use rubo_types::hash::{self, SHA2_256};
use rubo_types::{Block, Cid, Version, codec, parse_cid};

/// An Ed25519 peer ID as a CID: libp2p-key, identity multihash.
const PEER_ED25519: &str = "bafzaajaiaejcalj543iwv2d7pkjt7ykvefrkfu7j6vrnbwpfpnqlb2crhzb4wkag";
/// An RSA peer ID as a CID (boxo's namesys tests): libp2p-key, sha2-256.
const PEER_RSA: &str = "bafzbeickencdqw37dpz3ha36ewrh4undfjt2do52chtcky4rxkj447qhdm";
/// go-ipld-prime's error for a codec without a decoder.
const NO_DECODER: &str = "no decoder registered for multicodec code 114 (0x72)";

fn node() -> (tempfile::TempDir, Node) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("repo");
    Repo::init(&path, &InitOptions { profiles: vec!["test".into()], ..Default::default() }).unwrap();
    (dir, Node::open(&path, LockMode::Exclusive, "test").unwrap())
}

fn store(node: &Node, b: &Block) {
    node.repo().blockstore().put(b).unwrap();
}

fn raw(data: &[u8]) -> Block {
    Block::encode(data.to_vec(), codec::RAW, SHA2_256, None, Version::V1).unwrap()
}

fn cbor(links: &[Cid]) -> Block {
    let node = Ipld::List(links.iter().map(|c| Ipld::Link(*c)).collect());
    Block::encode(Codec::DagCbor.encode(&node).unwrap(), codec::DAG_CBOR, SHA2_256, None, Version::V1).unwrap()
}

fn gc(node: &Node) -> Result<Vec<Cid>, NodeError> {
    let mut rx = node.gc();
    let mut removed = Vec::new();
    while let Some(ev) = rx.blocking_recv() {
        match ev? {
            GcEvent::Removed(c) => removed.push(c),
            GcEvent::Error(e) => panic!("gc error: {e}"),
        }
    }
    Ok(removed)
}

fn export(node: &Node, root: &Cid) -> (Result<u64, NodeError>, Vec<Cid>) {
    let mut out = Vec::new();
    let res = node.dag().export_to(root, &mut out, false);
    let cids =
        CarReader::new(&out[..]).map(|r| r.map_while(Result::ok).map(|b| *b.cid()).collect()).unwrap_or_default();
    (res, cids)
}

/// `refs -r`: the edges (from, to), and the error that ended the walk.
fn refs(node: &Node, root: &Cid) -> (Vec<(Cid, Cid)>, Option<String>) {
    let src = node.dag().source();
    let mut edges = Vec::new();
    let mut err = None;
    for r in RefsWalker::new(&src, vec![*root], RefsOptions::default()) {
        match r {
            Ok(r) => edges.push((r.from, r.to)),
            Err(e) => err = Some(e.to_string()),
        }
    }
    (edges, err)
}

#[test]
fn identity_links_are_walked_through_their_inline_block() {
    let (_d, node) = node();
    let leaf = raw(b"leaf");
    store(&node, &leaf);
    // A dag-cbor block inlined in its CID (never stored), linking to the leaf.
    let inline_data = Codec::DagCbor.encode(&Ipld::List(vec![Ipld::Link(*leaf.cid())])).unwrap();
    let inline = Cid::new_v1(codec::DAG_CBOR, hash::identity(&inline_data).unwrap());
    let root = cbor(&[inline]);
    store(&node, &root);
    let loose = raw(b"loose");
    store(&node, &loose);

    // pin add: the leaf is reached through the inline block.
    node.pin().add_blocking(root.cid(), true, "", &mut |_, _| ()).unwrap();
    assert_eq!(node.pin().pinned(leaf.cid()).unwrap(), Some(PinKind::Indirect(*root.cid())));
    // GC keeps it (and has no identity block to remove).
    let removed = gc(&node).unwrap();
    assert!(node.repo().blockstore().has(leaf.cid()).unwrap());
    assert!(removed.contains(&Cid::new_v1(codec::RAW, *loose.cid().hash())), "{removed:?}");
    assert!(node.repo().blockstore().has(root.cid()).unwrap());
    // dag export writes the inline block too, in walk order (go-car's TraverseV1).
    let (res, cids) = export(&node, root.cid());
    res.unwrap();
    assert_eq!(cids, vec![*root.cid(), inline, *leaf.cid()]);
    // refs prints both edges.
    assert_eq!(refs(&node, root.cid()), (vec![(*root.cid(), inline), (inline, *leaf.cid())], None));
}

#[test]
fn libp2p_key_links_fail_alike_everywhere() {
    let (_d, node) = node();
    let peer = parse_cid(PEER_ED25519).unwrap();
    let leaf = raw(b"leaf");
    store(&node, &leaf);
    let root = cbor(&[peer, *leaf.cid()]);
    store(&node, &root);

    // pin add: the peer ID's block is its digest, which nothing decodes.
    let e = node.pin().add_blocking(root.cid(), true, "", &mut |_, _| ()).unwrap_err();
    assert!(e.to_string().ends_with(NO_DECODER), "{e}");
    assert_eq!(e.kind(), ErrorKind::Internal);
    assert_eq!(node.pin().pinned(root.cid()).unwrap(), None);
    // dag export fails at the same block, after the root.
    let (res, cids) = export(&node, root.cid());
    let e = res.unwrap_err();
    assert!(e.to_string().ends_with(NO_DECODER), "{e}");
    assert_eq!(cids, vec![*root.cid()]);
    // refs: the same error ends the walk before the edge is printed.
    let (edges, err) = refs(&node, root.cid());
    assert!(edges.is_empty());
    assert!(err.as_deref().is_some_and(|e| e.ends_with(NO_DECODER)), "{err:?}");
    // GC over a DAG pinned without a walk (as `dag import` pins): marking
    // fails, and nothing is removed.
    node.pin().add_recursive_trusted(root.cid(), "").unwrap();
    let loose = raw(b"loose");
    store(&node, &loose);
    let e = gc(&node).unwrap_err();
    assert!(e.to_string().contains("could not mark") && e.to_string().ends_with(NO_DECODER), "{e}");
    assert!(node.repo().blockstore().has(loose.cid()).unwrap());
}

#[test]
fn a_hashed_libp2p_key_must_be_local_first() {
    let (_d, node) = node();
    let peer = parse_cid(PEER_RSA).unwrap();
    let root = cbor(&[peer]);
    store(&node, &root);
    let e = node.pin().add_blocking(root.cid(), true, "", &mut |_, _| ()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert!(e.to_string().ends_with(&format!("ipld: could not find {PEER_RSA}")), "{e}");
    let (res, _) = export(&node, root.cid());
    assert_eq!(res.unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(refs(&node, root.cid()).1, Some(format!("ipld: could not find {PEER_RSA}")));
}

#[test]
fn gc_reads_a_block_under_each_codec_it_is_linked_with() {
    // The same bytes linked as raw first, then as dag-cbor: as raw they have
    // no links, as dag-cbor they link to `child`. Marking by multihash alone
    // would skip the dag-cbor reading and collect `child` from a pinned DAG.
    let (_d, node) = node();
    let child = raw(b"child");
    store(&node, &child);
    let inner = cbor(&[*child.cid()]);
    store(&node, &inner);
    let as_raw = Cid::new_v1(codec::RAW, *inner.cid().hash());
    let root = cbor(&[as_raw, *inner.cid()]);
    store(&node, &root);
    node.pin().add_blocking(root.cid(), true, "", &mut |_, _| ()).unwrap();
    let removed = gc(&node).unwrap();
    assert!(!removed.contains(&Cid::new_v1(codec::RAW, *child.cid().hash())), "{removed:?}");
    assert!(node.verify_dag(root.cid()).is_empty());
    assert!(node.repo().blockstore().has(child.cid()).unwrap());
}
