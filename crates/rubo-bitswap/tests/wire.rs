//! Message-level behaviour of the server, seen by a peer written in the test: want-have gets
//! HAVE (or a small block), DONT_HAVE only when asked for, wants stay until the block arrives
//! (notify), cancels, and the 1.0.0 dialect.

mod common;

use common::*;
use rubo_bitswap::message::{Entry, Message, Presence, ProtocolVersion, WantType};
use rubo_types::{Block, Bytes, Cid, Version, codec, hash};

const V120: &str = "/ipfs/bitswap/1.2.0";

fn raw_block(data: &[u8]) -> Block {
    Block::encode(Bytes::copy_from_slice(data), codec::RAW, hash::SHA2_256, None, Version::V1).expect("block")
}

fn wants(entries: Vec<Entry>) -> Bytes {
    Message { entries, ..Message::default() }.to_frame(ProtocolVersion::V120)
}

/// Collects what the server sends until `done` says enough.
async fn collect(
    r: &mut Raw,
    mut done: impl FnMut(&[(Cid, Presence)], &[Block]) -> bool,
) -> (Vec<(Cid, Presence)>, Vec<Block>) {
    let (mut presences, mut blocks) = (Vec::new(), Vec::new());
    while !done(&presences, &blocks) {
        let (_, m) = r.recv().await;
        presences.extend(m.presences);
        blocks.extend(m.blocks.iter().map(|b| b.verify().expect("server blocks verify")));
    }
    (presences, blocks)
}

#[test]
fn presences_and_pending_wants() {
    in_netns("presences_and_pending_wants", || async {
        let a = node().await;
        let mut r = Raw::start(V120).await;
        let big = raw_block(&data(300_000, 1));
        let small = raw_block(b"small enough to send instead of HAVE");
        let later_big = raw_block(&data(200_000, 2));
        let later_small = raw_block(&data(4000, 3));
        a.store.insert([big.clone(), small.clone()]);
        connect(&r.net, &a.addr).await;
        let mut s = r.open(a.id, V120).await;
        let c = |b: &Block| *b.cid();
        write(
            &mut s,
            &wants(vec![
                Entry::want(c(&big), 10, WantType::Have, true),
                Entry::want(c(&small), 9, WantType::Have, true),
                Entry::want(c(&later_big), 8, WantType::Have, true),
                // No send-dont-have: silence, but the want is kept.
                Entry::want(c(&later_small), 7, WantType::Block, false),
            ]),
        )
        .await
        .expect("write");
        let (p, blocks) = collect(&mut r, |p, b| p.len() >= 2 && !b.is_empty()).await;
        assert!(p.contains(&(c(&big), Presence::Have)), "{p:?}");
        assert!(p.contains(&(c(&later_big), Presence::DontHave)), "{p:?}");
        assert_eq!(blocks, vec![small.clone()], "blocks of at most 1 KiB answer a want-have");
        assert!(!p.iter().any(|(x, _)| *x == c(&later_small)), "no DONT_HAVE unless asked");
        let ledger = a.bs.wantlist(Some(r.id));
        assert!(ledger.contains(&c(&later_big)) && ledger.contains(&c(&later_small)), "{ledger:?}");
        assert!(!ledger.contains(&c(&big)) && !ledger.contains(&c(&small)), "answered wants leave");

        // The block itself, on request.
        write(&mut s, &wants(vec![Entry::want(c(&big), 10, WantType::Block, true)])).await.expect("write");
        let (_, blocks) = collect(&mut r, |_, b| !b.is_empty()).await;
        assert_eq!(blocks, vec![big.clone()]);

        // Blocks that arrive later go to the peers still waiting for them.
        a.store.insert([later_big.clone(), later_small.clone()]);
        a.bs.notify_new_blocks(&[later_big.clone(), later_small.clone()]);
        let (p, blocks) = collect(&mut r, |p, b| !p.is_empty() && !b.is_empty()).await;
        assert_eq!(p, vec![(c(&later_big), Presence::Have)]);
        assert_eq!(blocks, vec![later_small.clone()]);
        assert!(a.bs.wantlist(Some(r.id)).is_empty());

        // A cancelled want is forgotten; a marker want tells us the message was handled.
        let gone = raw_block(b"cancelled before it existed");
        let marker = raw_block(b"marker");
        write(&mut s, &wants(vec![Entry::want(c(&gone), 5, WantType::Block, true)])).await.expect("write");
        let (p, _) = collect(&mut r, |p, _| !p.is_empty()).await;
        assert_eq!(p, vec![(c(&gone), Presence::DontHave)]);
        write(&mut s, &wants(vec![Entry::cancel(c(&gone)), Entry::want(c(&marker), 5, WantType::Have, true)]))
            .await
            .expect("write");
        let (p, _) = collect(&mut r, |p, _| !p.is_empty()).await;
        assert_eq!(p, vec![(c(&marker), Presence::DontHave)]);
        assert_eq!(a.bs.wantlist(Some(r.id)), vec![c(&marker)]);

        // A full wantlist replaces the ledger.
        let full =
            Message { full: true, entries: vec![Entry::want(c(&big), 1, WantType::Have, true)], ..Message::default() };
        write(&mut s, &full.to_frame(ProtocolVersion::V120)).await.expect("write");
        let (p, _) = collect(&mut r, |p, _| !p.is_empty()).await;
        assert_eq!(p, vec![(c(&big), Presence::Have)]);
        assert!(a.bs.wantlist(Some(r.id)).is_empty(), "the full list dropped the marker");
        // Many messages on one stream, answers on the server's own stream: all were read.
        assert!(a.bs.stat().messages_received >= 5);
    });
}

#[test]
fn bitswap_1_0_0_peer() {
    in_netns("bitswap_1_0_0_peer", || async {
        const V100: &str = "/ipfs/bitswap/1.0.0";
        let a = node().await;
        let mut r = Raw::start(V100).await;
        let block = Block::encode(
            Bytes::from(rubo_types::dagpb::PbNode::with_data(&b"v0 node"[..]).encode()),
            codec::DAG_PB,
            hash::SHA2_256,
            None,
            Version::V0,
        )
        .expect("block");
        a.store.insert([block.clone()]);
        connect(&r.net, &a.addr).await;
        let mut s = r.open(a.id, V100).await;
        let m = Message { entries: vec![Entry::want(*block.cid(), 1, WantType::Block, true)], ..Message::default() };
        write(&mut s, &m.to_frame(ProtocolVersion::V100)).await.expect("write");
        let (_, got) = r.recv().await;
        assert_eq!(got.blocks.len(), 1);
        assert_eq!(got.blocks[0].prefix, None, "1.0.0 carries raw blocks");
        assert_eq!(got.blocks[0].verify().expect("verify"), block);
        assert!(got.presences.is_empty());
    });
}
