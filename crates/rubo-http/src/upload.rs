//! A request's multipart body into the command's [`Inputs`]: each part
//! becomes an [`InputEntry`] (path, kind, mode, mtime, as [`part_info`]
//! reads them), a file part's bytes following on its own bounded stream as
//! they arrive, so a slow command slows the upload and nothing is held whole.
//!
//! A body that is malformed, that stops before its closing boundary, or
//! whose connection breaks ends the inputs with an error (on the current
//! file's stream and on the entry stream), never with a clean end: a command
//! reading it (`add`) fails and pins nothing.

use bytes::Bytes;
use http_body::Body;
use http_body_util::BodyExt;
use rubo_commands::CmdError;
use rubo_commands::input::{ByteSender, ByteStream, InputEntry, InputKind, InputSender};
use rubo_types::BString;

use crate::multipart::{Event, Limits, Parser, PartKind, part_info};

/// A symlink part's content (its target) at most.
const MAX_SYMLINK: usize = 64 << 10;

enum Current {
    None,
    /// A file; `None` once its reader went away (the rest is skipped).
    File(Option<ByteSender>),
    Dir,
    Symlink(InputEntry, Vec<u8>),
}

/// Reads `body` into `tx` until the closing boundary, an error, or the
/// command dropping its inputs.
pub(crate) async fn feed<B>(mut body: B, boundary: String, tx: InputSender)
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    let mut parser = match Parser::new(&boundary, Limits::default()) {
        Ok(p) => p,
        Err(e) => {
            let _ = tx.send(Err(CmdError::client(e.to_string()))).await;
            return;
        }
    };
    let mut cur = Current::None;
    let failure = loop {
        let ev = match parser.next_event() {
            Ok(Some(ev)) => ev,
            Ok(None) => {
                match body.frame().await {
                    Some(Ok(frame)) => {
                        if let Ok(data) = frame.into_data() {
                            parser.feed(&data);
                        }
                    }
                    Some(Err(e)) => break format!("reading the request body: {e}"),
                    None => parser.finish(),
                }
                continue;
            }
            Err(e) => break e.to_string(),
        };
        match ev {
            Event::Part(headers) => {
                let info = match part_info(&headers) {
                    Ok(i) => i,
                    Err(e) => break e.to_string(),
                };
                let entry = |kind| InputEntry { path: info.path.clone(), kind, mode: info.mode, mtime: info.mtime };
                cur = match info.kind {
                    PartKind::File => {
                        let (btx, stream) = ByteStream::channel();
                        if tx.send(Ok(entry(InputKind::File(stream)))).await.is_err() {
                            return;
                        }
                        Current::File(Some(btx))
                    }
                    PartKind::Dir => {
                        if tx.send(Ok(entry(InputKind::Dir))).await.is_err() {
                            return;
                        }
                        Current::Dir
                    }
                    PartKind::Symlink => Current::Symlink(entry(InputKind::Dir), Vec::new()),
                };
            }
            Event::Data(data) => match &mut cur {
                Current::File(sender) => {
                    if let Some(s) = sender
                        && s.send(Ok(data)).await.is_err()
                    {
                        // The command read what it wanted of this file.
                        *sender = None;
                    }
                }
                Current::Symlink(_, target) => {
                    if target.len() + data.len() > MAX_SYMLINK {
                        break format!("multipart: symlink target longer than {MAX_SYMLINK} bytes");
                    }
                    target.extend_from_slice(&data);
                }
                Current::Dir | Current::None => {}
            },
            Event::PartEnd => {
                if let Current::Symlink(mut entry, target) = std::mem::replace(&mut cur, Current::None) {
                    entry.kind = InputKind::Symlink(BString::from(target));
                    if tx.send(Ok(entry)).await.is_err() {
                        return;
                    }
                }
                // Dropping a file's sender ends its stream cleanly.
                cur = Current::None;
            }
            Event::End => return,
        }
    };
    // The current file ends in an error, then the entries do.
    if let Current::File(Some(s)) = &cur {
        let _ = s.send(Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, failure.clone()))).await;
    }
    drop(cur);
    let _ = tx.send(Err(CmdError::client(failure))).await;
}
