//! Directory CIDs from Kubo's tests (sharness t0260-sharding, test/cli
//! cid_profiles_test.go, boxo hamt_test.go), and reading HAMTs back.

use std::collections::HashMap;

use bytes::Bytes;
use chacha20::ChaCha20;
use chacha20::cipher::{KeyIvInit, StreamCipher};
use rubo_types::dagpb::{PbLink, PbNode};
use rubo_types::{Block, Cid, Version, parse_cid};
use rubo_unixfs::dir::{DirError, DirOptions, SizeEstimation, build_directory, list_entries, lookup, needs_hamt};
use rubo_unixfs::file::{FileOptions, leaf};
use rubo_unixfs::hamt::HamtError;
use rubo_unixfs::pb::{Data, DataType, UnixTime};
use rubo_unixfs::{CidPrefix, DirEntry};
use sha2::Digest;

type Store = HashMap<Cid, Block>;

fn file_entry(name: String, content: &[u8], opts: &FileOptions) -> DirEntry {
    let l = leaf(Bytes::copy_from_slice(content), opts).unwrap();
    // A one-leaf file: the link's Tsize is the leaf's size (raw or dag-pb).
    DirEntry { name: name.into(), cid: *l.block.cid(), tsize: l.block.len() as u64 }
}

fn build(entries: Vec<DirEntry>, opts: &DirOptions, store: &mut Store) -> (Cid, u64) {
    build_directory(entries, opts, &mut |b: Block| {
        store.insert(*b.cid(), b);
        Ok::<(), String>(())
    })
    .unwrap()
}

fn getter(store: &Store) -> impl FnMut(&Cid) -> Result<Block, String> + '_ {
    |c: &Cid| store.get(c).cloned().ok_or_else(|| format!("block {c} not found"))
}

fn v1_prefix() -> CidPrefix {
    CidPrefix { version: Version::V1, ..Default::default() }
}

/// t0260-sharding: file1..file2000 holding "<i>\n".
fn t0260_entries(file_opts: &FileOptions) -> Vec<DirEntry> {
    (1..=2000).map(|i| file_entry(format!("file{i}"), format!("{i}\n").as_bytes(), file_opts)).collect()
}

#[test]
fn t0260_sharding() {
    let v0 = FileOptions::default();
    let entries = t0260_entries(&v0);
    assert_eq!(entries[99].name, "file100");
    assert_eq!(entries[99].cid.to_string(), "QmZ3RfWk1u5LEGYLHA633B5TNJy3Du27K6Fny9wcxpowGS");

    let mut store = Store::new();
    let flat = DirOptions { hamt_threshold: 1 << 30, ..Default::default() };
    let (cid, _) = build(entries.clone(), &flat, &mut store);
    assert_eq!(cid.to_string(), "QmavrTrQG4VhoJmantURAYuw3bowq3E2WcvP36NRQDAC1N");

    let sharded = DirOptions { hamt_threshold: 1, ..Default::default() };
    let (cid, _) = build(entries.clone(), &sharded, &mut store);
    assert_eq!(cid.to_string(), "QmSCJD1KYLhVVHqBK3YyXuoEqHt7vggyJhzoFYbT8v1XYL");

    // Read it back: every entry, found by name too.
    let root = store[&cid].clone();
    let mut listed = list_entries(&root, &mut getter(&store)).unwrap();
    listed.sort_by(|a, b| a.name.cmp(&b.name));
    let mut want = entries.clone();
    want.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(listed, want);
    for e in &entries {
        assert_eq!(lookup(&root, &e.name, &mut getter(&store)).unwrap().as_ref(), Some(e));
    }
    for missing in ["file0", "file2001", "", "file1/", "FILE1"] {
        assert_eq!(lookup(&root, missing.as_bytes(), &mut getter(&store)).unwrap(), None, "{missing:?}");
    }

    // --cid-version=1: raw leaves, CIDv1 nodes.
    let v1_files = FileOptions { prefix: v1_prefix(), raw_leaves: true, ..Default::default() };
    let v1 = DirOptions { prefix: v1_prefix(), hamt_threshold: 1, ..Default::default() };
    let (cid, _) = build(t0260_entries(&v1_files), &v1, &mut store);
    assert_eq!(cid.to_string(), "bafybeibiemewfzzdyhq2l74wrd6qj2oz42usjlktgnlqv4yfawgouaqn4u");
}

#[test]
fn boxo_dir_building() {
    // boxo hamt_test.go TestDirBuilding: DIRNAME0..199 -> the empty directory.
    let empty = parse_cid("QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn").unwrap();
    let entries: Vec<DirEntry> =
        (0..200).map(|i| DirEntry { name: format!("DIRNAME{i}").into(), cid: empty, tsize: 4 }).collect();
    let opts = DirOptions { hamt_threshold: 1, ..Default::default() };
    let (cid, _) = build(entries, &opts, &mut Store::new());
    assert_eq!(cid.to_string(), "QmY89TkSEVHykWMHDmyejSWFj9CYNtvzw4UwnT9xbc4Zjc");
}

/// Kubo's createDeterministicFiles: names from one ChaCha20 keystream
/// (key sha256(seed), zero nonce), `len` bytes a name, each byte mapped into
/// AlphabetEasy; every file holds "x".
fn profile_names(seed: &str, count: usize, len: usize, last_len: usize) -> Vec<String> {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz01234567890-_";
    let key: [u8; 32] = sha2::Sha256::digest(seed.as_bytes()).into();
    let mut cipher = ChaCha20::new(&key.into(), &[0u8; 12].into());
    (0..count)
        .map(|i| {
            let n = if i == count - 1 { last_len } else { len };
            let mut buf = vec![0u8; n];
            cipher.apply_keystream(&mut buf);
            buf.iter().map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect()
        })
        .collect()
}

fn profile_dir(
    seed: &str,
    count: usize,
    len: usize,
    last_len: usize,
    files: &FileOptions,
    opts: &DirOptions,
) -> (String, bool) {
    let entries: Vec<DirEntry> =
        profile_names(seed, count, len, last_len).into_iter().map(|n| file_entry(n, b"x", files)).collect();
    let hamt = needs_hamt(&entries, opts);
    let (cid, _) = build(entries, opts, &mut Store::new());
    (cid.to_string(), hamt)
}

#[test]
fn cid_profile_unixfs_v0_2015_threshold() {
    let files = FileOptions::default();
    let opts = DirOptions::default();
    // 4096 * (30 + 34) = 262144: at the threshold, basic.
    let (cid, hamt) = profile_dir("hamt-unixfs-v0-2015", 4096, 30, 30, &files, &opts);
    assert_eq!((cid.as_str(), hamt), ("QmX5GtRk3TSSEHtdrykgqm4eqMEn3n2XhfkFAis5fjyZmN", false));
    // 4033 * (31 + 34) = 262145: one byte over, HAMT.
    let (cid, hamt) = profile_dir("hamt-unixfs-v0-2015", 4033, 31, 31, &files, &opts);
    assert_eq!((cid.as_str(), hamt), ("QmeMiJzmhpJAUgynAcxTQYek5PPKgdv3qEvFsdV3XpVnvP", true));
}

#[test]
fn cid_profile_unixfs_v1_2025_threshold() {
    let files = FileOptions { prefix: v1_prefix(), raw_leaves: true, max_links: 1024, ..Default::default() };
    let opts = DirOptions { prefix: v1_prefix(), estimation: SizeEstimation::Block, ..Default::default() };
    // 4765 * 55 + 65 + 4 = 262144: the block is exactly at the threshold, basic.
    let (cid, hamt) = profile_dir("hamt-unixfs-v1-2025", 4766, 11, 21, &files, &opts);
    assert_eq!((cid.as_str(), hamt), ("bafybeic3h7rwruealwxkacabdy45jivq2crwz6bufb5ljwupn36gicplx4", false));
    // One more byte of name: HAMT.
    let (cid, hamt) = profile_dir("hamt-unixfs-v1-2025", 4766, 11, 22, &files, &opts);
    assert_eq!((cid.as_str(), hamt), ("bafybeiegvuterwurhdtkikfhbxcldohmxp566vpjdofhzmnhv6o4freidu", true));
}

#[test]
fn basic_block_size_is_the_block_estimate() {
    let files = FileOptions { prefix: v1_prefix(), raw_leaves: true, ..Default::default() };
    let opts = DirOptions { prefix: v1_prefix(), estimation: SizeEstimation::Block, ..Default::default() };
    let entries: Vec<DirEntry> =
        profile_names("hamt-unixfs-v1-2025", 4766, 11, 21).into_iter().map(|n| file_entry(n, b"x", &files)).collect();
    let mut store = Store::new();
    let (cid, tsize) = build(entries, &opts, &mut store);
    assert_eq!(store[&cid].len(), 262144);
    assert_eq!(tsize, 262144 + 4766);
}

#[test]
fn every_fanout_reads_back() {
    let files = FileOptions::default();
    let entries = t0260_entries(&files);
    for fanout in [8, 16, 32, 64, 128, 256, 512, 1024] {
        let mut store = Store::new();
        let opts = DirOptions { hamt_threshold: 1, hamt_fanout: fanout, ..Default::default() };
        let (cid, tsize) = build(entries.clone(), &opts, &mut store);
        // Cumulative size: every shard block plus every entry's Tsize.
        let shard_bytes: u64 = store.values().map(|b| b.len() as u64).sum();
        let entry_sizes: u64 = entries.iter().map(|e| e.tsize).sum();
        assert_eq!(tsize, shard_bytes + entry_sizes, "fanout {fanout}");
        let root = store[&cid].clone();
        let root_node = PbNode::decode(root.data()).unwrap();
        assert!(root_node.links.len() as u64 <= fanout);
        let listed = list_entries(&root, &mut getter(&store)).unwrap();
        assert_eq!(listed.len(), entries.len(), "fanout {fanout}");
        for e in entries.iter().step_by(7) {
            assert_eq!(lookup(&root, &e.name, &mut getter(&store)).unwrap().as_ref(), Some(e), "fanout {fanout}");
        }
    }
}

#[test]
fn mode_and_mtime_on_root_shard_only() {
    let entries = t0260_entries(&FileOptions::default());
    let mtime = UnixTime { seconds: 1_604_320_482, nanos: Some(5) };
    let opts = DirOptions { hamt_threshold: 1, mode: Some(0o755), mtime: Some(mtime), ..Default::default() };
    let mut store = Store::new();
    let (cid, _) = build(entries, &opts, &mut store);
    for (c, b) in &store {
        let node = PbNode::decode(b.data()).unwrap();
        let d = Data::decode(node.data.as_ref().unwrap()).unwrap();
        assert_eq!(d.kind, DataType::HamtShard);
        assert_eq!((d.hash_type, d.fanout), (Some(0x22), Some(256)));
        if *c == cid {
            assert_eq!((d.mode, d.mtime), (Some(0o755), Some(mtime)));
        } else {
            assert_eq!((d.mode, d.mtime), (None, None));
        }
    }
}

// ---- malformed HAMTs -------------------------------------------------------

fn shard_block(links: Vec<PbLink>, bitfield: &[u8], fanout: u64, hash_type: Option<u64>) -> Block {
    let mut d = Data::new(DataType::HamtShard);
    d.data = (!bitfield.is_empty()).then(|| Bytes::copy_from_slice(bitfield));
    d.fanout = Some(fanout);
    d.hash_type = hash_type;
    let node = PbNode { links, data: Some(d.encode().into()) };
    CidPrefix::default().dag_pb(node.encode()).unwrap()
}

fn some_cid() -> Cid {
    parse_cid("QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn").unwrap()
}

fn list(root: &Block, store: &Store) -> Result<Vec<DirEntry>, DirError<String>> {
    list_entries(root, &mut getter(store))
}

#[test]
fn malformed_shards_are_errors() {
    let store = Store::new();
    let one = vec![PbLink::new(some_cid(), "00a", 4)];
    // Well-formed reference.
    assert_eq!(list(&shard_block(one.clone(), &[1], 256, Some(0x22)), &store).unwrap().len(), 1);
    // Bitfield with the wrong population.
    let e = list(&shard_block(one.clone(), &[3], 256, Some(0x22)), &store).unwrap_err();
    assert!(matches!(e, DirError::Hamt(HamtError::BitfieldMismatch { bits: 2, links: 1 })), "{e}");
    // Bitfield longer than fanout/8.
    let e = list(&shard_block(one.clone(), &[0, 0, 1], 16, Some(0x22)), &store).unwrap_err();
    assert!(matches!(e, DirError::Hamt(HamtError::BitfieldTooLarge { .. })), "{e}");
    // Fanouts boxo cannot read.
    for fanout in [0, 4, 100, 2048] {
        let e = list(&shard_block(one.clone(), &[1], fanout, Some(0x22)), &store).unwrap_err();
        assert!(matches!(e, DirError::Hamt(HamtError::InvalidFanout(f)) if f == fanout), "{e}");
    }
    // Not murmur3.
    let e = list(&shard_block(one.clone(), &[1], 256, None), &store).unwrap_err();
    assert!(matches!(e, DirError::Hamt(HamtError::HashType(None))), "{e}");
    // Link names without the hex prefix.
    for name in ["a", "", "zza", "é"] {
        let links = vec![PbLink::new(some_cid(), name, 4)];
        let e = list(&shard_block(links.clone(), &[1], 256, Some(0x22)), &store).unwrap_err();
        assert!(matches!(e, DirError::Hamt(HamtError::InvalidLinkName(_))), "{name:?}: {e}");
        let root = shard_block(links, &[1], 256, Some(0x22));
        // lookup of a name whose slot is set reaches the bad link too
        let slot_name =
            (0..).map(|i| format!("n{i}")).find(|n| rubo_unixfs::hamt::hash_name(n.as_bytes()) >> 56 == 0).unwrap();
        let e = lookup(&root, slot_name.as_bytes(), &mut getter(&store)).unwrap_err();
        assert!(matches!(e, DirError::Hamt(HamtError::InvalidLinkName(_))), "{e}");
    }
}

#[test]
fn sub_shards_must_be_shards_of_the_same_fanout() {
    let mut store = Store::new();
    // A sub-shard link to a file.
    let file = leaf(Bytes::from_static(b"hi"), &FileOptions::default()).unwrap().block;
    store.insert(*file.cid(), file.clone());
    let root = shard_block(vec![PbLink::new(*file.cid(), "00", 8)], &[1], 256, Some(0x22));
    let e = list(&root, &store).unwrap_err();
    assert!(matches!(e, DirError::Hamt(HamtError::NotAShard(_))), "{e}");
    // A sub-shard of another fanout.
    let child = shard_block(vec![PbLink::new(some_cid(), "0a", 4)], &[1], 16, Some(0x22));
    store.insert(*child.cid(), child.clone());
    let root = shard_block(vec![PbLink::new(*child.cid(), "00", 8)], &[1], 256, Some(0x22));
    let e = list(&root, &store).unwrap_err();
    assert!(matches!(e, DirError::Hamt(HamtError::FanoutMismatch { expected: 256, got: 16 })), "{e}");
    // A missing block is the getter's error.
    let root = shard_block(vec![PbLink::new(some_cid(), "00", 8)], &[1], 256, Some(0x22));
    assert!(matches!(list(&root, &Store::new()), Err(DirError::Get(_))));
    // Not a directory at all.
    assert!(matches!(list(&file, &store), Err(DirError::NotADirectory(_))));
    let raw = CidPrefix::default().raw(Bytes::from_static(b"x")).unwrap();
    assert!(matches!(list(&raw, &store), Err(DirError::NotADirectory(_))));
}

#[test]
fn depth_is_bounded() {
    // A chain of sub-shards, each in the slot "foo" hashes to at its level,
    // one level deeper than 64 bits of hash allow (8 levels at fanout 256).
    let hash = rubo_unixfs::hamt::hash_name(b"foo");
    let mut store = Store::new();
    let mut child = shard_block(vec![PbLink::new(some_cid(), "00foo", 4)], &[1], 256, Some(0x22));
    store.insert(*child.cid(), child.clone());
    for depth in (0..9).rev() {
        let slot = if depth < 8 { ((hash >> (56 - 8 * depth)) & 0xff) as usize } else { 0 };
        let mut bitfield = [0u8; 32];
        bitfield[31 - slot / 8] |= 1 << (slot % 8);
        let first = bitfield.iter().position(|b| *b != 0).unwrap();
        child = shard_block(
            vec![PbLink::new(*child.cid(), format!("{slot:02X}"), 100)],
            &bitfield[first..],
            256,
            Some(0x22),
        );
        store.insert(*child.cid(), child.clone());
    }
    let e = list(&child, &store).unwrap_err();
    assert!(matches!(e, DirError::Hamt(HamtError::TooDeep)), "{e}");
    let e = lookup(&child, b"foo", &mut getter(&store)).unwrap_err();
    assert!(matches!(e, DirError::Hamt(HamtError::TooDeep)), "{e}");

    // A store that answers every CID with the same shard (a "cycle").
    let looping = shard_block(vec![PbLink::new(some_cid(), "00", 1)], &[1], 256, Some(0x22));
    let mut get = |_: &Cid| Ok::<Block, String>(looping.clone());
    assert!(list_entries(&looping, &mut get).unwrap().is_empty());
}

#[test]
fn names_sharing_a_slot_make_a_sub_shard() {
    // (Names whose hashes agree on all the bits the levels use fail with
    // "sharded directory too deep"; see the unit tests in hamt.rs.)
    let names: Vec<String> = (0..5000).map(|i| format!("n{i}")).collect();
    let first = |n: &String| rubo_unixfs::hamt::hash_name(n.as_bytes()) >> 61;
    let a = &names[0];
    let b = names.iter().skip(1).find(|n| first(n) == first(a)).unwrap();
    let entries = vec![
        DirEntry { name: a.clone().into(), cid: some_cid(), tsize: 4 },
        DirEntry { name: b.clone().into(), cid: some_cid(), tsize: 4 },
    ];
    let opts = DirOptions { hamt_threshold: 1, hamt_fanout: 8, ..Default::default() };
    let mut store = Store::new();
    let (cid, _) = build(entries, &opts, &mut store);
    assert!(store.len() >= 2, "colliding first slot makes a sub-shard");
    let listed = list(&store[&cid], &store).unwrap();
    assert_eq!(listed.len(), 2);
}
