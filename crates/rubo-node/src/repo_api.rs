//! Repo maintenance: statistics and verification.

use std::sync::{Arc, Mutex};

use rubo_repo::blockstore::StoredKey;
use rubo_repo::config::units::parse_bytes;
use rubo_types::{Cid, codec, hash};
use tokio::sync::mpsc;

use crate::{Node, NodeError};

/// What `repo stat` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoStat {
    pub repo_size: u64,
    pub storage_max: u64,
    pub num_objects: u64,
    pub repo_path: String,
    pub version: String,
}

/// One step of a verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyEvent {
    /// Blocks checked so far.
    Progress(u64),
    /// A block whose bytes do not match its hash (shown as a CIDv1 raw, as Kubo
    /// does). `removed` tells what `--drop` did with it.
    Corrupt { cid: Cid, reason: String, removed: Option<Result<(), String>> },
    /// A file in the block store that is not a block.
    Foreign(String),
    /// A failure that stopped the walk.
    Failed(String),
}

/// The repo API of a node.
#[derive(Clone)]
pub struct RepoApi {
    pub(crate) node: Node,
}

/// The repo format version string (`rubo-repo@1`).
pub fn version_string() -> String {
    format!("rubo-repo@{}", rubo_repo::REPO_VERSION)
}

impl RepoApi {
    /// Sizes; `size_only` skips counting blocks.
    pub async fn stat(&self, size_only: bool) -> Result<RepoStat, NodeError> {
        let node = self.node.clone();
        tokio::task::spawn_blocking(move || {
            let repo = node.repo();
            let cfg = repo.config().typed()?;
            let storage_max = match cfg.datastore.storage_max.as_str() {
                "" => u64::MAX,
                s => parse_bytes(s).map_err(NodeError::InvalidInput)?,
            };
            let repo_size = repo.disk_usage()?;
            if size_only {
                return Ok(RepoStat {
                    repo_size,
                    storage_max,
                    num_objects: 0,
                    repo_path: String::new(),
                    version: String::new(),
                });
            }
            let mut n = 0u64;
            for k in repo.blockstore().keys()? {
                if let StoredKey::Block(_) = k? {
                    n += 1;
                }
            }
            Ok(RepoStat {
                repo_size,
                storage_max,
                num_objects: n,
                repo_path: repo.path().display().to_string(),
                version: version_string(),
            })
        })
        .await?
    }

    /// Re-hashes every stored block. Events arrive as the walk goes; the channel
    /// closes when it ends. `drop` removes corrupt blocks.
    pub fn verify(&self, drop: bool) -> mpsc::Receiver<VerifyEvent> {
        let (tx, rx) = mpsc::channel(256);
        let bs = self.node.repo().blockstore();
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 8);
        std::thread::spawn(move || {
            let keys = match bs.keys() {
                Ok(k) => k,
                Err(e) => {
                    let _ = tx.blocking_send(VerifyEvent::Failed(e.to_string()));
                    return;
                }
            };
            let keys = Mutex::new(keys);
            let done = Arc::new(std::sync::atomic::AtomicU64::new(0));
            std::thread::scope(|s| {
                for _ in 0..workers {
                    let tx = tx.clone();
                    let keys = &keys;
                    let bs = &bs;
                    let done = done.clone();
                    s.spawn(move || {
                        loop {
                            let next = match keys.lock() {
                                Ok(mut k) => k.next(),
                                Err(_) => None,
                            };
                            let ev = match next {
                                None => return,
                                Some(Err(e)) => VerifyEvent::Failed(e.to_string()),
                                Some(Ok(StoredKey::Foreign(p))) => VerifyEvent::Foreign(p),
                                Some(Ok(StoredKey::Block(mh))) => {
                                    let cid = Cid::new_v1(codec::RAW, mh);
                                    let bad = match bs.get_raw(&mh) {
                                        Ok(Some(data)) => match hash::verify(&mh, &data) {
                                            Ok(true) => None,
                                            Ok(false) => {
                                                Some("block in storage has different hash than requested".to_string())
                                            }
                                            Err(e) => Some(e.to_string()),
                                        },
                                        // Removed while we walked (gc): not corruption.
                                        Ok(None) => None,
                                        Err(e) => Some(e.to_string()),
                                    };
                                    match bad {
                                        Some(reason) => {
                                            let removed =
                                                drop.then(|| bs.delete(&cid).map(|_| ()).map_err(|e| e.to_string()));
                                            VerifyEvent::Corrupt { cid, reason, removed }
                                        }
                                        None => {
                                            let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                                            VerifyEvent::Progress(n)
                                        }
                                    }
                                }
                            };
                            if tx.blocking_send(ev).is_err() {
                                return;
                            }
                        }
                    });
                }
            });
        });
        rx
    }
}
