//! The metadata datastore: pins, the MFS root, IPNS records, peers and the like.
//!
//! Keys are byte strings, by convention Kubo's slash-separated names
//! (`/local/filesroot`, `/pins/...`). Every write is atomic and durable when it
//! returns. [`Datastore`] is the seam for other backends; [`RedbDatastore`] is
//! the default, [`MemDatastore`] serves tests.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

use redb::{ReadableDatabase, TableDefinition};
use thiserror::Error;

/// A datastore failure.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum DatastoreError {
    #[error("datastore {path}: {message}")]
    Backend { path: PathBuf, message: String },
    #[error("datastore opened read-only")]
    ReadOnly,
    #[error("datastore lock poisoned")]
    Poisoned,
}

/// One operation of an atomic batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Put(Vec<u8>, Vec<u8>),
    Delete(Vec<u8>),
}

/// Operations applied all together or not at all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Batch {
    ops: Vec<Op>,
}

impl Batch {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn put(&mut self, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) -> &mut Self {
        self.ops.push(Op::Put(key.into(), value.into()));
        self
    }

    pub fn delete(&mut self, key: impl Into<Vec<u8>>) -> &mut Self {
        self.ops.push(Op::Delete(key.into()));
        self
    }

    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    pub fn len(&self) -> usize {
        self.ops.len()
    }

    pub fn ops(&self) -> &[Op] {
        &self.ops
    }
}

/// A scan visitor: gets each key and value, says whether to go on.
pub type Visitor<'a> = dyn FnMut(&[u8], &[u8]) -> ControlFlow<()> + 'a;

/// A key-value store with atomic batches and ordered prefix scans.
pub trait Datastore: Send + Sync + 'static {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, DatastoreError>;

    fn has(&self, key: &[u8]) -> Result<bool, DatastoreError> {
        Ok(self.get(key)?.is_some())
    }

    /// Applies a batch atomically; it is durable when this returns.
    fn commit(&self, batch: Batch) -> Result<(), DatastoreError>;

    fn put(&self, key: &[u8], value: &[u8]) -> Result<(), DatastoreError> {
        let mut b = Batch::new();
        b.put(key, value);
        self.commit(b)
    }

    fn delete(&self, key: &[u8]) -> Result<(), DatastoreError> {
        let mut b = Batch::new();
        b.delete(key);
        self.commit(b)
    }

    /// Visits the entries whose key starts with `prefix`, in key order, from one
    /// consistent snapshot, until `f` breaks.
    fn scan(&self, prefix: &[u8], f: &mut Visitor<'_>) -> Result<(), DatastoreError>;

    /// Like [`Datastore::scan`], starting at the first key not below `start` (a long scan resumed
    /// from where it stopped, or a range of a sorted keyspace, without visiting what precedes).
    fn scan_from(&self, prefix: &[u8], start: &[u8], f: &mut Visitor<'_>) -> Result<(), DatastoreError> {
        self.scan(prefix, &mut |k, v| if k < start { ControlFlow::Continue(()) } else { f(k, v) })
    }

    /// Bytes the store takes on disk.
    fn disk_usage(&self) -> Result<u64, DatastoreError>;
}

/// redb's page cache. Its default (1 GiB) would let the pins, MFS root, DHT records and the
/// provider keystore grow a daemon's memory by as much; the OS page cache serves the rest.
const CACHE: usize = 64 << 20;

const KV: TableDefinition<&[u8], &[u8]> = TableDefinition::new("kv-v1");

enum Db {
    ReadWrite(redb::Database),
    ReadOnly(redb::ReadOnlyDatabase),
    /// Dropped after a failed commit, before being opened again.
    Closed,
}

/// Space the datastore holds back, in a file beside it, for a full disk.
///
/// Removing a pin rewrites B-tree pages, so it needs free space even though
/// it frees some. When a commit fails for want of space, the reserve is given
/// back and the commit tried again: `pin rm` works on a full disk, and once
/// `repo gc` has freed space the next writer sets the reserve aside again.
pub const RESERVE_BYTES: u64 = 1 << 20;

/// The default datastore: one redb file.
pub struct RedbDatastore {
    path: PathBuf,
    db: RwLock<Db>,
}

impl RedbDatastore {
    fn err(path: &Path) -> impl Fn(String) -> DatastoreError + '_ {
        move |message| DatastoreError::Backend { path: path.to_path_buf(), message }
    }

    /// Creates the file if needed and opens it for writing.
    ///
    /// Opening an existing store writes nothing of its own (a full disk must
    /// not keep a writer from removing pins), except the reserve when it is
    /// missing and there is room for it.
    pub fn open(path: &Path) -> Result<Self, DatastoreError> {
        let e = Self::err(path);
        let db = redb::Database::builder().set_cache_size(CACHE).create(path).map_err(|x| e(x.to_string()))?;
        // Make sure the table exists so readers never see "table missing".
        let has_table = {
            let tx = db.begin_read().map_err(|x| e(x.to_string()))?;
            match tx.open_table(KV) {
                Ok(_) => true,
                Err(redb::TableError::TableDoesNotExist(_)) => false,
                Err(x) => return Err(e(x.to_string())),
            }
        };
        if !has_table {
            let tx = db.begin_write().map_err(|x| e(x.to_string()))?;
            tx.open_table(KV).map_err(|x| e(x.to_string()))?;
            tx.commit().map_err(|x| e(x.to_string()))?;
        }
        take_reserve(&reserve_path(path));
        Ok(Self { path: path.to_path_buf(), db: RwLock::new(Db::ReadWrite(db)) })
    }

    /// Opens an existing file for reading only; other readers may share it.
    ///
    /// A file last left open by a writer that died needs recovery, which a
    /// read-only open cannot do. Recovery rewrites no data, so a reader (which
    /// holds the repo's shared lock: no writer runs) does it with a short
    /// read-write open. Concurrent readers race for redb's own file lock; the
    /// losers retry once the winner is done.
    pub fn open_read_only(path: &Path) -> Result<Self, DatastoreError> {
        let e = Self::err(path);
        let recovering = |x: redb::Error| e(format!("recovering after a crash: {x}"));
        let mut attempts = 0;
        loop {
            match redb::Database::builder().set_cache_size(CACHE).open_read_only(path) {
                Ok(db) => return Ok(Self { path: path.to_path_buf(), db: RwLock::new(Db::ReadOnly(db)) }),
                Err(redb::DatabaseError::RepairAborted) if attempts < 100 => {
                    attempts += 1;
                    match redb::Database::open(path) {
                        Ok(db) => {
                            // An empty commit finishes the repair, so that close
                            // marks the file consistent.
                            let tx = db.begin_write().map_err(|x| recovering(x.into()))?;
                            tx.commit().map_err(|x| recovering(x.into()))?;
                            db.close().map_err(|x| recovering(x.into()))?;
                        }
                        Err(redb::DatabaseError::DatabaseAlreadyOpen) => {
                            // Another reader is recovering it: wait for it to finish.
                            std::thread::sleep(std::time::Duration::from_millis(20));
                        }
                        Err(x) => return Err(recovering(x.into())),
                    }
                }
                Err(x) => return Err(e(x.to_string())),
            }
        }
    }

    fn read_tx(&self) -> Result<redb::ReadTransaction, DatastoreError> {
        let e = Self::err(&self.path);
        match &*self.db.read().map_err(|_| DatastoreError::Poisoned)? {
            Db::ReadWrite(db) => db.begin_read().map_err(|x| e(x.to_string())),
            Db::ReadOnly(db) => db.begin_read().map_err(|x| e(x.to_string())),
            Db::Closed => Err(e("closed after a failed commit".into())),
        }
    }

    /// Applies `batch` in one write transaction of the open database.
    fn try_commit(&self, batch: &Batch) -> Result<(), redb::Error> {
        let guard = self.db.read().map_err(|_| redb::Error::DatabaseClosed)?;
        let Db::ReadWrite(db) = &*guard else {
            return Err(redb::Error::DatabaseClosed);
        };
        let tx = db.begin_write()?;
        {
            let mut table = tx.open_table(KV)?;
            for op in batch.ops() {
                match op {
                    Op::Put(k, v) => {
                        table.insert(k.as_slice(), v.as_slice())?;
                    }
                    Op::Delete(k) => {
                        table.remove(k.as_slice())?;
                    }
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Drops the database (after an I/O error it refuses every operation) and
    /// opens it again, which recovers the last commit.
    fn reopen(&self) -> Result<(), DatastoreError> {
        let e = Self::err(&self.path);
        let mut guard = self.db.write().map_err(|_| DatastoreError::Poisoned)?;
        *guard = Db::Closed;
        *guard = Db::ReadWrite(
            redb::Database::builder().set_cache_size(CACHE).open(&self.path).map_err(|x| e(x.to_string()))?,
        );
        Ok(())
    }
}

fn reserve_path(db: &Path) -> PathBuf {
    let mut name = db.file_name().unwrap_or_default().to_os_string();
    name.push(".reserve");
    db.with_file_name(name)
}

/// Sets the reserve aside if it is not there yet; gives up quietly when the
/// disk has no room for it.
fn take_reserve(path: &Path) {
    if std::fs::metadata(path).is_ok_and(|m| m.len() >= RESERVE_BYTES) {
        return;
    }
    let made = (|| -> std::io::Result<()> {
        let f = std::fs::OpenOptions::new().write(true).create(true).truncate(false).open(path)?;
        match rustix::fs::fallocate(&f, rustix::fs::FallocateFlags::empty(), 0, RESERVE_BYTES) {
            Ok(()) => Ok(()),
            // The space must really be taken: a sparse file would hold nothing back.
            Err(rustix::io::Errno::OPNOTSUPP | rustix::io::Errno::NOSYS) => {
                use std::io::Write;
                let mut w = std::io::BufWriter::new(f);
                let zeros = [0u8; 64 << 10];
                for _ in 0..RESERVE_BYTES / zeros.len() as u64 {
                    w.write_all(&zeros)?;
                }
                w.flush()
            }
            Err(e) => Err(e.into()),
        }
    })();
    if made.is_err() {
        let _ = std::fs::remove_file(path);
    }
}

/// Gives the reserve back to the filesystem; true if there was one.
fn release_reserve(path: &Path) -> bool {
    std::fs::remove_file(path).is_ok()
}

fn is_out_of_space(e: &redb::Error) -> bool {
    matches!(e, redb::Error::Io(io) if io.kind() == std::io::ErrorKind::StorageFull)
}

impl Datastore for RedbDatastore {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, DatastoreError> {
        let e = Self::err(&self.path);
        let tx = self.read_tx()?;
        let table = tx.open_table(KV).map_err(|x| e(x.to_string()))?;
        let v = table.get(key).map_err(|x| e(x.to_string()))?;
        Ok(v.map(|v| v.value().to_vec()))
    }

    fn commit(&self, batch: Batch) -> Result<(), DatastoreError> {
        if matches!(&*self.db.read().map_err(|_| DatastoreError::Poisoned)?, Db::ReadOnly(_)) {
            return Err(DatastoreError::ReadOnly);
        }
        if batch.is_empty() {
            return Ok(());
        }
        let e = Self::err(&self.path);
        match self.try_commit(&batch) {
            Ok(()) => Ok(()),
            Err(x) if is_out_of_space(&x) && release_reserve(&reserve_path(&self.path)) => {
                tracing::debug!("datastore full: using the reserve ({x})");
                self.reopen()?;
                self.try_commit(&batch).map_err(|x| e(x.to_string()))
            }
            Err(x) => Err(e(x.to_string())),
        }
    }

    fn scan(&self, prefix: &[u8], f: &mut Visitor<'_>) -> Result<(), DatastoreError> {
        self.scan_from(prefix, prefix, f)
    }

    fn scan_from(&self, prefix: &[u8], start: &[u8], f: &mut Visitor<'_>) -> Result<(), DatastoreError> {
        let e = Self::err(&self.path);
        let tx = self.read_tx()?;
        let table = tx.open_table(KV).map_err(|x| e(x.to_string()))?;
        let from = if start > prefix { start } else { prefix };
        for item in table.range(from..).map_err(|x| e(x.to_string()))? {
            let (k, v) = item.map_err(|x| e(x.to_string()))?;
            let k = k.value();
            if !k.starts_with(prefix) {
                break;
            }
            if f(k, v.value()).is_break() {
                break;
            }
        }
        Ok(())
    }

    fn disk_usage(&self) -> Result<u64, DatastoreError> {
        std::fs::metadata(&self.path).map(|m| m.len()).map_err(|x| Self::err(&self.path)(x.to_string()))
    }
}

/// An in-memory datastore for tests and `--offline` throwaway nodes.
#[derive(Default)]
pub struct MemDatastore {
    map: RwLock<BTreeMap<Vec<u8>, Vec<u8>>>,
}

impl MemDatastore {
    pub fn new() -> Self {
        Self::default()
    }
}

impl Datastore for MemDatastore {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, DatastoreError> {
        Ok(self.map.read().map_err(|_| DatastoreError::Poisoned)?.get(key).cloned())
    }

    fn commit(&self, batch: Batch) -> Result<(), DatastoreError> {
        let mut m = self.map.write().map_err(|_| DatastoreError::Poisoned)?;
        for op in batch.ops {
            match op {
                Op::Put(k, v) => {
                    m.insert(k, v);
                }
                Op::Delete(k) => {
                    m.remove(&k);
                }
            }
        }
        Ok(())
    }

    fn scan(&self, prefix: &[u8], f: &mut Visitor<'_>) -> Result<(), DatastoreError> {
        self.scan_from(prefix, prefix, f)
    }

    fn scan_from(&self, prefix: &[u8], start: &[u8], f: &mut Visitor<'_>) -> Result<(), DatastoreError> {
        let m = self.map.read().map_err(|_| DatastoreError::Poisoned)?;
        let from = if start > prefix { start } else { prefix };
        for (k, v) in m.range(from.to_vec()..) {
            if !k.starts_with(prefix) || f(k, v).is_break() {
                break;
            }
        }
        Ok(())
    }

    fn disk_usage(&self) -> Result<u64, DatastoreError> {
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conformance(ds: &dyn Datastore) {
        assert_eq!(ds.get(b"/a").unwrap(), None);
        ds.put(b"/a", b"1").unwrap();
        ds.put(b"/b/1", b"x").unwrap();
        ds.put(b"/b/2", b"y").unwrap();
        ds.put(b"/c", b"z").unwrap();
        assert_eq!(ds.get(b"/a").unwrap(), Some(b"1".to_vec()));
        assert!(ds.has(b"/c").unwrap());
        let mut seen = Vec::new();
        ds.scan(b"/b/", &mut |k, v| {
            seen.push((k.to_vec(), v.to_vec()));
            ControlFlow::Continue(())
        })
        .unwrap();
        assert_eq!(seen, vec![(b"/b/1".to_vec(), b"x".to_vec()), (b"/b/2".to_vec(), b"y".to_vec())]);
        let mut first = None;
        ds.scan(b"/", &mut |k, _| {
            first = Some(k.to_vec());
            ControlFlow::Break(())
        })
        .unwrap();
        assert_eq!(first, Some(b"/a".to_vec()));
        let mut from = Vec::new();
        ds.scan_from(b"/b/", b"/b/15", &mut |k, _| {
            from.push(k.to_vec());
            ControlFlow::Continue(())
        })
        .unwrap();
        assert_eq!(from, vec![b"/b/2".to_vec()], "starts at the first key not below start, stays in the prefix");
        let mut b = Batch::new();
        b.delete(b"/a".to_vec()).put(b"/d".to_vec(), b"w".to_vec());
        ds.commit(b).unwrap();
        assert_eq!(ds.get(b"/a").unwrap(), None);
        assert_eq!(ds.get(b"/d").unwrap(), Some(b"w".to_vec()));
    }

    #[test]
    fn mem_conformance() {
        conformance(&MemDatastore::new());
    }

    #[test]
    fn reader_recovers_after_a_crashed_writer() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("ds.redb");
        let ds = RedbDatastore::open(&p).unwrap();
        ds.put(b"/k", b"v").unwrap();
        // The file as a killed writer leaves it: copied while still open.
        let crashed = dir.path().join("crashed.redb");
        std::fs::copy(&p, &crashed).unwrap();
        drop(ds);
        assert!(matches!(redb::ReadOnlyDatabase::open(&crashed), Err(redb::DatabaseError::RepairAborted)));
        let ro = RedbDatastore::open_read_only(&crashed).unwrap();
        assert_eq!(ro.get(b"/k").unwrap(), Some(b"v".to_vec()));
    }

    #[test]
    fn a_writer_sets_the_reserve_aside() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("ds.redb");
        drop(RedbDatastore::open(&p).unwrap());
        let reserve = dir.path().join("ds.redb.reserve");
        assert_eq!(std::fs::metadata(&reserve).unwrap().len(), RESERVE_BYTES);
        // Given back (as on a full disk), it is taken again by the next writer.
        assert!(release_reserve(&reserve));
        drop(RedbDatastore::open_read_only(&p).unwrap());
        assert!(!reserve.exists());
        drop(RedbDatastore::open(&p).unwrap());
        assert_eq!(std::fs::metadata(&reserve).unwrap().len(), RESERVE_BYTES);
    }

    #[test]
    fn redb_conformance_and_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("ds.redb");
        {
            let ds = RedbDatastore::open(&p).unwrap();
            conformance(&ds);
        }
        let ro = RedbDatastore::open_read_only(&p).unwrap();
        assert_eq!(ro.get(b"/d").unwrap(), Some(b"w".to_vec()));
        assert!(matches!(ro.put(b"/x", b"y"), Err(DatastoreError::ReadOnly)));
    }
}
