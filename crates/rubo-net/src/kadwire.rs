//! The few Kademlia messages rubo writes itself (kad writes the rest): ADD_PROVIDER, sent in
//! runs by the sweeping provider. The wire format is go-libp2p-kad-dht's `dht.proto` `Message`,
//! each framed by its unsigned-varint length.

use libp2p::{Multiaddr, PeerId};

/// `Message.MessageType.ADD_PROVIDER`.
const ADD_PROVIDER: u64 = 2;

fn varint(mut n: u64, out: &mut Vec<u8>) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn bytes_field(tag: u64, b: &[u8], out: &mut Vec<u8>) {
    varint(tag << 3 | 2, out);
    varint(b.len() as u64, out);
    out.extend_from_slice(b);
}

/// Appends one framed ADD_PROVIDER message: `key` provided by `provider` at `addrs`.
pub(crate) fn add_provider(key: &[u8], provider: &PeerId, addrs: &[Multiaddr], out: &mut Vec<u8>) {
    // Peer { id = 1; repeated addrs = 2 }
    let mut peer = Vec::with_capacity(64);
    bytes_field(1, &provider.to_bytes(), &mut peer);
    for a in addrs {
        bytes_field(2, &a.to_vec(), &mut peer);
    }
    // Message { type = 1; key = 2; providerPeers = 9 }
    let mut msg = Vec::with_capacity(peer.len() + key.len() + 8);
    varint(1 << 3, &mut msg);
    varint(ADD_PROVIDER, &mut msg);
    bytes_field(2, key, &mut msg);
    bytes_field(9, &peer, &mut msg);
    varint(msg.len() as u64, out);
    out.extend_from_slice(&msg);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_provider_matches_the_dht_proto_layout() {
        let id: PeerId = "12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA".parse().expect("peer id");
        let addr: Multiaddr = "/ip4/127.0.0.1/tcp/4001".parse().expect("addr");
        let mut out = Vec::new();
        add_provider(b"\x12\x20key", &id, &[addr], &mut out);
        let idb = id.to_bytes();
        // Hand-assembled from dht.proto: field 1 varint 2; field 2 bytes; field 9 Peer{1: id, 2: addr}.
        let mut peer = vec![0x0a, idb.len() as u8];
        peer.extend_from_slice(&idb);
        peer.extend_from_slice(&[0x12, 8, 0x04, 127, 0, 0, 1, 0x06, 0x0f, 0xa1]);
        let mut msg = vec![0x08, 0x02, 0x12, 5, 0x12, 0x20, b'k', b'e', b'y', 0x4a, peer.len() as u8];
        msg.extend_from_slice(&peer);
        let mut want = vec![msg.len() as u8];
        want.extend_from_slice(&msg);
        assert_eq!(out, want);
    }
}
