//! Directories growing into HAMTs and shrinking back, against a model.

mod common;

use std::collections::BTreeMap;

use common::*;
use proptest::prelude::*;
use rubo_mfs::{MfsConfig, RmOptions, WriteOptions};
use rubo_types::Cid;
use rubo_types::dagpb::PbNode;
use rubo_unixfs::dir::{DirOptions, build_directory, link_estimate};
use rubo_unixfs::pb::{Data, DataType};
use rubo_unixfs::{CidPrefix, DirEntry, hamt};

#[derive(Debug, Clone)]
enum Op {
    /// Write (create or overwrite) file `name` with `len` bytes.
    Write(u8, u8),
    Remove(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0u8..40, 1u8..50).prop_map(|(n, l)| Op::Write(n, l)),
        2 => (0u8..40).prop_map(Op::Remove),
    ]
}

/// Length of the slot prefix of HAMT link names at fanout 256 ("%02X").
const PAD: u64 = 2;

fn is_hamt(m: &TestMfs, c: &Cid) -> bool {
    let b = rubo_mfs::Store::get(m.store(), c).unwrap().unwrap();
    let pb = PbNode::decode(b.data()).unwrap();
    Data::decode(&pb.data.unwrap()).unwrap().kind == DataType::HamtShard
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// With the "links" estimate and a small threshold, the directory is a
    /// basic or HAMT node exactly when boxo's `DynamicDirectory` decides so
    /// (modelled below for an offline Kubo, which loads the directory afresh
    /// for each command), and its CID is the canonical node of its entries.
    #[test]
    fn directory_shards_and_unshards(ops in proptest::collection::vec(op(), 1..40), threshold in 100u64..600) {
        let (m, mut root) = mfs(MfsConfig { hamt_threshold: threshold, ..Default::default() });
        root = mkdir(&m, &root, "/d", false, None);
        let mut model: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        let mut sharded = false;
        // Every file CID here is a 34-byte CIDv0.
        let est_of = |model: &BTreeMap<String, Vec<u8>>| model.keys().map(|k| k.len() as u64 + 34).sum::<u64>();
        for op in &ops {
            match op {
                Op::Write(n, len) => {
                    let name = format!("entry-{n}");
                    let data = vec![*n; usize::from(*len)];
                    let opts = WriteOptions { create: true, truncate: true, ..Default::default() };
                    root = write(&m, &root, &format!("/d/{name}"), &data, &opts);
                    let existed = model.insert(name.clone(), data).is_some();
                    let est = est_of(&model);
                    if !existed || !sharded {
                        // A new entry (or a replacement in a basic directory): shard when over.
                        sharded = sharded || est > threshold;
                    } else if est - name.len() as u64 - PAD <= threshold {
                        // boxo sizes the replacing link without its name, and
                        // the replaced one under its shard link name (slot
                        // prefix + name): the directory seems to shrink, and
                        // unshards if "below".
                        sharded = false;
                    }
                }
                Op::Remove(n) => {
                    let name = format!("entry-{n}");
                    let out = m.rm(&root, &[&format!("/d/{name}")], RmOptions::default()).unwrap();
                    prop_assert_eq!(out.failures.is_empty(), model.remove(&name).is_some());
                    // The removed link is sized under its shard link name too.
                    if out.failures.is_empty() && sharded && est_of(&model).saturating_sub(PAD) <= threshold {
                        sharded = false;
                    }
                    root = out.root;
                }
            }
            let want_names: Vec<String> = model.keys().cloned().collect();
            prop_assert_eq!(&names(&m, &root, "/d"), &want_names);
            for (name, data) in &model {
                prop_assert_eq!(&read_all(&m, &root, &format!("/d/{name}")), data);
            }
            let entries: Vec<DirEntry> = model
                .keys()
                .map(|name| {
                    let st = m.stat(&root, &format!("/d/{name}"), false).unwrap();
                    DirEntry { name: name.clone().into(), cid: st.hash, tsize: st.cumulative_size }
                })
                .collect();
            let est: u64 = entries.iter().map(link_estimate).sum();
            let d = m.stat(&root, "/d", false).unwrap().hash;
            prop_assert_eq!(is_hamt(&m, &d), sharded, "estimate {} threshold {}", est, threshold);
            let mut sink = |_b: rubo_types::Block| Ok::<(), ()>(());
            let want = if sharded {
                hamt::build(&entries, hamt::Fanout::new(256).unwrap(), &CidPrefix::default(), None, None, &mut sink).unwrap().0
            } else {
                let opts = DirOptions { hamt_threshold: 0, ..Default::default() };
                build_directory(entries, &opts, &mut |_b| Ok::<(), ()>(())).map_err(|_| ()).unwrap().0
            };
            prop_assert_eq!(d, want);
        }
    }
}
