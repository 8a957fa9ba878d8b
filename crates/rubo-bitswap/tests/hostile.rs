//! Hostile peers written in the test: garbage frames, an oversized length prefix, 100,000 wants
//! (against the server) and blocks that lie about their CID (against the client). Each is cut
//! off, while a well-behaved peer fetching at the same time completes byte-identically.

mod common;

use common::*;
use futures::StreamExt as _;
use rubo_bitswap::message::{Entry, Message, Presence, ProtocolVersion, WantType};
use rubo_net::libp2p::PeerId;
use rubo_types::pb::put_uvarint;
use rubo_types::{Block, Bytes, Cid, Version, codec, hash};

const V120: &str = "/ipfs/bitswap/1.2.0";

/// A peer that sends `frame` to `target` and waits to be cut off.
async fn attack(target: PeerId, addr: &rubo_net::libp2p::Multiaddr, frames: Vec<Bytes>) -> PeerId {
    let h = Raw::start(V120).await;
    let mut events = h.net.subscribe();
    connect(&h.net, addr).await;
    let mut s = h.open(target, V120).await;
    for f in frames {
        // The target may hang up part way: that is the point.
        if write(&mut s, &f).await.is_err() {
            break;
        }
    }
    disconnected(&h.net, &mut events, target).await;
    h.id
}

fn random_cid(i: u64) -> Cid {
    Cid::new_v1(codec::RAW, hash::sha2_256(&i.to_le_bytes()))
}

/// Answers every want it gets with HAVE and a pile of blocks that carry the wanted CID's prefix
/// but other bytes: re-hashed, they are blocks nobody asked for.
async fn liar(mut h: Raw) {
    let mut out = None;
    let mut n = 0u64;
    loop {
        let (peer, m) = h.recv().await;
        if out.is_none() {
            out = Some(h.open(peer, V120).await);
        }
        let Some(s) = out.as_mut() else { return };
        let mut payload = Vec::new();
        for e in m.entries.iter().filter(|e| !e.cancel) {
            let mut msg = Message { presences: vec![(e.cid, Presence::Have)], ..Message::default() };
            for _ in 0..20 {
                n += 1;
                // Honest blocks to build the frame, with the prefix swapped for the wanted one.
                msg.blocks.push(Block::new_unchecked(e.cid, Bytes::from(data(1000, n))));
            }
            payload.push(msg.to_frame(ProtocolVersion::V120));
        }
        for f in payload {
            if write(s, &f).await.is_err() {
                return;
            }
        }
    }
}

#[test]
fn hostile_peers_are_cut_off() {
    in_netns("hostile_peers_are_cut_off", || async {
        let a = node().await;
        let b = node().await;
        let bytes = data(64 << 20, 5);
        let (root, blocks) = file_dag(&bytes);
        a.store.insert(blocks);

        // The fetcher starts with the liar as its only peer, so the liar is asked for the root
        // (by broadcast, or as a newcomer while the root is searched for) and answers with lies.
        let liar_peer = Raw::start(V120).await;
        let liar_id = liar_peer.id;
        let mut liar_events = liar_peer.net.subscribe();
        let liar_peer_net = liar_peer.net.clone();
        connect(&liar_peer.net, &b.addr).await;
        let liar_task = tokio::spawn(liar(liar_peer));
        let fetcher = b.bs.clone();
        let fetch = tokio::spawn(async move { fetch_dag(&fetcher, root).await });
        disconnected(&liar_peer_net, &mut liar_events, b.id).await;
        liar_task.abort();
        let garbage = Bytes::from_static(&[0x06, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
        let mut oversized = Vec::new();
        put_uvarint(&mut oversized, 5 << 20);
        oversized.extend_from_slice(&[0u8; 1024]);
        let flood: Vec<Bytes> = (0..20u64)
            .map(|m| {
                let entries =
                    (0..5000u64).map(|i| Entry::want(random_cid(m * 5000 + i), 1, WantType::Block, true)).collect();
                Message { entries, ..Message::default() }.to_frame(ProtocolVersion::V120)
            })
            .collect();
        // The honest provider joins while the server is attacked.
        let (g, o, f, ()) = tokio::join!(
            attack(a.id, &a.addr, vec![garbage]),
            attack(a.id, &a.addr, vec![Bytes::from(oversized)]),
            attack(a.id, &a.addr, flood),
            b.connect(&a),
        );
        let n = fetch.await.expect("fetch task");
        assert!(n > 0);
        assert_eq!(read_file(&b.store, &root), bytes, "the honest fetch completed byte-identically");
        for (who, id) in [("garbage", g), ("oversized", o), ("flood", f)] {
            assert!(a.bs.is_banned(&id), "{who} peer is banned");
            assert!(a.bs.wantlist(Some(id)).is_empty(), "{who} peer's ledger is gone");
        }
        assert!(b.bs.is_banned(&liar_id), "the liar is banned by the fetcher");
        assert!(!a.bs.is_banned(&b.id) && !b.bs.is_banned(&a.id));
        // Lies never reach the store.
        let (_, from_liar) = b.bs.block_counts(&liar_id);
        assert_eq!(from_liar, 0);
        // Still serving: a fresh fetch after the attacks.
        let extra =
            Block::encode(Bytes::from(data(2000, 99)), codec::RAW, hash::SHA2_256, None, Version::V1).expect("block");
        a.store.insert([extra.clone()]);
        let got = tokio::time::timeout(WAIT, b.bs.get(extra.cid())).await.expect("in time").expect("block");
        assert_eq!(got, extra);
        let mut s = b.bs.session().get_many([root]);
        assert!(s.next().await.is_some_and(|r| r.is_ok()));
    });
}
