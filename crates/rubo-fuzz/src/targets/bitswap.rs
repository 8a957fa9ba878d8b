//! rubo-bitswap: the message decoder and its framing, as a peer's bytes reach them.

use bytes::Bytes;
use rubo_bitswap::message::{MAX_MESSAGE_SIZE, Message, Prefix, ProtocolVersion, Received, prefix_of, read_frame};

use crate::targets::types::check_cid;

/// Frames read one after another (as from a stream), and the whole input as one body; every
/// decoded message re-encodes to one that decodes to the same entries, presences and blocks.
pub fn message(data: &[u8]) {
    let mut bodies = vec![Bytes::copy_from_slice(data)];
    let mut r = data;
    futures::executor::block_on(async {
        while bodies.len() < 64 {
            match read_frame(&mut r, MAX_MESSAGE_SIZE).await {
                Ok(Some(b)) => {
                    assert!(b.len() <= MAX_MESSAGE_SIZE);
                    bodies.push(b);
                }
                Ok(None) | Err(_) => break,
            }
        }
    });
    for body in bodies {
        let Ok(m) = Received::decode(body) else { continue };
        for e in &m.entries {
            check_cid(&e.cid);
        }
        let mut blocks = Vec::new();
        for raw in &m.blocks {
            let Ok(b) = raw.verify() else { continue };
            if let Some(p) = raw.prefix {
                assert_eq!(Prefix::parse(&prefix_of(b.cid())).ok(), Some(p), "a verified block keeps its prefix");
            }
            blocks.push(b);
        }
        let out = Message {
            full: m.full,
            entries: m.entries.clone(),
            blocks: blocks.clone(),
            presences: m.presences.clone(),
            pending_bytes: m.pending_bytes,
        };
        let frame = out.to_frame(ProtocolVersion::V120);
        let mut f = &frame[..];
        let body = futures::executor::block_on(read_frame(&mut f, usize::MAX))
            .expect("our frame reads back")
            .expect("one frame");
        assert!(f.is_empty(), "one frame, nothing after it");
        let back = Received::decode(body).expect("our encoding decodes");
        assert_eq!(back.entries, m.entries);
        assert_eq!(back.presences, m.presences);
        assert_eq!(back.full, m.full);
        let again: Vec<_> = back.blocks.iter().map(|b| b.verify().expect("our blocks verify")).collect();
        assert_eq!(again, blocks);
    }
}
