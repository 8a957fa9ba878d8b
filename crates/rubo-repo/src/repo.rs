//! A repo on disk: config, blocks, metadata datastore, keystore, held under the lock.
//!
//! ```text
//! $RUBO_PATH/
//!   config           JSON, Kubo's keys (0600)
//!   version          repo format version
//!   datastore_spec   the on-disk layout the config asked for at init
//!   repo.lock        flock: one writer or many readers
//!   blocks/          flatfs, Kubo's layout
//!   datastore.redb   pins, MFS root, IPNS records, ...
//!   keystore/        named keys (0700)
//! ```

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use base64::Engine as _;
use serde_json::{Value, json};
use thiserror::Error;

use crate::blockstore::{Blockstore, BlockstoreError, FsBlockstore};
use crate::config::{ConfigError, ConfigFile, apply_profile, default_config};
use crate::datastore::{Datastore, DatastoreError, RedbDatastore};
use crate::flatfs::{FlatFs, FlatFsError, Shard, SyncMode, check_shard, write_durably};
use crate::identity::{KeyError, KeyType, PrivateKey};
use crate::keystore::{Keystore, KeystoreError};
use crate::lock::{LockError, LockMode, RepoLock};

/// The repo format this build reads and writes.
pub const REPO_VERSION: u32 = 1;
const VERSION_FILE: &str = "version";
const SPEC_FILE: &str = "datastore_spec";
const KEYSTORE_DIR: &str = "keystore";

/// A repo failure.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum RepoError {
    #[error("no rubo repo found in {0}.\nplease run: 'rubo init'")]
    NotInitialized(PathBuf),
    #[error("rubo configuration file already exists in {0}!\nReinitializing would overwrite your keys")]
    AlreadyInitialized(PathBuf),
    #[error("repo {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("invalid data in repo version file {0}")]
    BadVersion(PathBuf),
    #[error("repo version {found} in {path} is not supported by this rubo (it reads version {REPO_VERSION})")]
    UnsupportedVersion { path: PathBuf, found: String },
    #[error("datastore configuration of '{on_disk}' does not match what is on disk '{configured}'")]
    SpecMismatch { on_disk: String, configured: String },
    #[error("unsupported Datastore.Spec: {0}")]
    BadSpec(String),
    #[error("invalid configuration profile: {0}")]
    BadProfile(String),
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    FlatFs(#[from] FlatFsError),
    #[error(transparent)]
    Blockstore(#[from] BlockstoreError),
    #[error(transparent)]
    Datastore(#[from] DatastoreError),
    #[error(transparent)]
    Keystore(#[from] KeystoreError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("invalid Identity.PrivKey in config: {0}")]
    BadIdentity(String),
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> RepoError + '_ {
    move |source| RepoError::Io { path: path.to_path_buf(), source }
}

/// What `init` should create.
#[derive(Debug, Clone)]
pub struct InitOptions {
    pub key_type: KeyType,
    /// RSA key size (Kubo's default: 2048).
    pub bits: u32,
    pub profiles: Vec<String>,
    /// A whole config to start from instead of the default (`init <file>`).
    /// It must carry its own identity.
    pub config: Option<Value>,
}

impl Default for InitOptions {
    fn default() -> Self {
        Self { key_type: KeyType::Ed25519, bits: 2048, profiles: Vec::new(), config: None }
    }
}

/// The on-disk layout a config asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Layout {
    blocks_path: PathBuf,
    shard: Shard,
    sync: bool,
    datastore_path: PathBuf,
    disk_spec: String,
}

fn layout(repo: &Path, spec: &Value) -> Result<Layout, RepoError> {
    let bad = |m: &str| RepoError::BadSpec(m.to_string());
    if spec.is_null() {
        return Err(bad("required Datastore.Spec entry missing from config file"));
    }
    if spec.get("type").and_then(Value::as_str) != Some("mount") {
        return Err(bad("the top level must be a \"mount\" of /blocks (flatfs) and / (redb)"));
    }
    let mounts = spec.get("mounts").and_then(Value::as_array).ok_or_else(|| bad("no mounts"))?;
    let mut blocks = None;
    let mut meta = None;
    for m in mounts {
        let point = m.get("mountpoint").and_then(Value::as_str).unwrap_or_default();
        let ty = m.get("type").and_then(Value::as_str).unwrap_or_default();
        let path = m.get("path").and_then(Value::as_str).ok_or_else(|| bad("a mount without a path"))?;
        match (point, ty) {
            ("/blocks", "flatfs") => {
                let shard =
                    m.get("shardFunc").and_then(Value::as_str).unwrap_or(crate::flatfs::DEFAULT_SHARDING).to_string();
                let sync = m.get("sync").and_then(Value::as_bool).unwrap_or(true);
                blocks = Some((path.to_string(), shard, sync));
            }
            ("/", "redb") => meta = Some(path.to_string()),
            (p, t) => {
                return Err(RepoError::BadSpec(format!(
                    "mount {p:?} of type {t:?}: rubo supports flatfs at /blocks and redb at /"
                )));
            }
        }
    }
    let (bpath, shard, sync) = blocks.ok_or_else(|| bad("no flatfs mount at /blocks"))?;
    let mpath = meta.ok_or_else(|| bad("no redb mount at /"))?;
    let disk_spec = serde_json::to_string(&json!({
        "mounts": [
            {"mountpoint": "/blocks", "path": bpath, "shardFunc": shard, "type": "flatfs"},
            {"mountpoint": "/", "path": mpath, "type": "redb"}
        ],
        "type": "mount"
    }))
    .map_err(|e| bad(&e.to_string()))?;
    Ok(Layout {
        blocks_path: repo.join(&bpath),
        shard: Shard::parse(&shard)?,
        sync,
        datastore_path: repo.join(&mpath),
        disk_spec,
    })
}

/// Checks that `config` can open the repo at `path`: a usable identity and
/// the datastore layout that is on disk. Returns both.
fn check_config(path: &Path, config: &ConfigFile) -> Result<(PrivateKey, Layout), RepoError> {
    let typed = config.typed()?;
    let identity = decode_identity(&typed.identity.priv_key)?;
    let layout = layout(path, &typed.datastore.spec)?;
    let spec_path = path.join(SPEC_FILE);
    match fs::read_to_string(&spec_path) {
        Ok(on_disk) if on_disk.trim() != layout.disk_spec => {
            Err(RepoError::SpecMismatch { on_disk: on_disk.trim().to_string(), configured: layout.disk_spec })
        }
        Ok(_) => Ok((identity, layout)),
        Err(e) => Err(io_err(&spec_path)(e)),
    }
}

/// Whether a config file (say, one just edited by hand) would open the repo
/// at `path`; the error says why not.
pub fn validate_config(path: &Path, config: &ConfigFile) -> Result<(), RepoError> {
    check_config(path, config).map(|_| ())
}

/// An open repo.
pub struct Repo {
    path: PathBuf,
    config: RwLock<ConfigFile>,
    identity: PrivateKey,
    blocks: Arc<FsBlockstore>,
    /// Opened on first use: commands that only touch blocks never open it,
    /// so a crash during them leaves it with nothing to recover.
    datastore: Mutex<Option<Arc<dyn Datastore>>>,
    datastore_path: PathBuf,
    keystore: Keystore,
    mode: LockMode,
    // Dropped last: the lock outlives every file handle above.
    _lock: RepoLock,
}

impl std::fmt::Debug for Repo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Repo").field("path", &self.path).field("mode", &self.mode).finish()
    }
}

/// The block of an empty UnixFS directory, which every repo holds (as Kubo's does).
pub const EMPTY_DIR_BLOCK: &[u8] = &[0x0a, 0x02, 0x08, 0x01];

/// The config file a `--config-file` value names (Kubo's `config.Filename`):
/// a bare file name is taken in the repo, any other path as given.
pub fn config_file_path(repo: &Path, user: &Path) -> PathBuf {
    match user.parent() {
        Some(p) if p.as_os_str().is_empty() || p == Path::new(".") => repo.join(user),
        _ => user.to_path_buf(),
    }
}

/// Whether `path` holds an initialized repo.
pub fn is_initialized(path: &Path) -> bool {
    path.join(crate::config::CONFIG_FILE).is_file()
}

impl Repo {
    /// Creates a repo at `path`. Writes the config last, so that a crash part
    /// way leaves a directory that is not yet a repo and can be initialized again.
    /// Returns the node's identity.
    pub fn init(path: &Path, opts: &InitOptions) -> Result<PrivateKey, RepoError> {
        let config_path = path.join(crate::config::CONFIG_FILE);
        if config_path.exists() {
            return Err(RepoError::AlreadyInitialized(path.to_path_buf()));
        }
        fs::create_dir_all(path).map_err(io_err(path))?;
        let _lock = RepoLock::acquire(path, LockMode::Exclusive, "rubo init")?;

        let (mut doc, identity) = match &opts.config {
            Some(doc) => {
                let b64 = doc.pointer("/Identity/PrivKey").and_then(Value::as_str).unwrap_or_default();
                let key = decode_identity(b64)?;
                (doc.clone(), key)
            }
            None => {
                let key = PrivateKey::generate(opts.key_type, opts.bits)?;
                let b64 = base64::engine::general_purpose::STANDARD.encode(key.encoded());
                (default_config(&key.peer_id().to_string(), &b64), key)
            }
        };
        for p in &opts.profiles {
            apply_profile(&mut doc, p, true).map_err(|e| match e {
                ConfigError::UnknownProfile(n) => RepoError::BadProfile(n),
                e => RepoError::Config(e),
            })?;
        }
        let config = ConfigFile::new(&config_path, doc)?;
        let typed = config.typed()?;
        let layout = layout(path, &typed.datastore.spec)?;

        if layout.blocks_path.join("SHARDING").exists() {
            check_shard(&layout.blocks_path, layout.shard)?;
        } else {
            FlatFs::create(&layout.blocks_path, layout.shard)?;
        }
        RedbDatastore::open(&layout.datastore_path)?;
        Keystore::open(&path.join(KEYSTORE_DIR))?;
        write_durably(&path.join(VERSION_FILE), format!("{REPO_VERSION}\n").as_bytes())?;
        write_durably(&path.join(SPEC_FILE), layout.disk_spec.as_bytes())?;
        {
            // Every repo holds the empty directory, as Kubo's does.
            let fs = FlatFs::open(&layout.blocks_path, SyncMode::Auto, true)?;
            let mh = rubo_types::hash::sha2_256(EMPTY_DIR_BLOCK);
            fs.put(&mh, EMPTY_DIR_BLOCK)?;
            fs.close()?;
        }
        config.save()?;
        Ok(identity)
    }

    /// Opens a repo. `Exclusive` for anything that writes; `Shared` lets
    /// several readers in at once.
    pub fn open(path: &Path, mode: LockMode, purpose: &str) -> Result<Self, RepoError> {
        Self::open_with_config(path, None, mode, purpose)
    }

    /// Opens a repo with its config read from (and saved to) `config`
    /// instead of `<path>/config` (`--config-file`). The repo must still be
    /// initialized.
    pub fn open_with_config(
        path: &Path,
        config: Option<&Path>,
        mode: LockMode,
        purpose: &str,
    ) -> Result<Self, RepoError> {
        if !is_initialized(path) {
            return Err(RepoError::NotInitialized(path.to_path_buf()));
        }
        let lock = RepoLock::acquire(path, mode, purpose)?;
        check_version(path)?;
        let config_path = config.map_or_else(|| path.join(crate::config::CONFIG_FILE), Path::to_path_buf);
        let config = ConfigFile::load(&config_path)?;
        let (identity, layout) = check_config(path, &config)?;
        let writable = mode == LockMode::Exclusive;
        let sync = if layout.sync { SyncMode::Auto } else { SyncMode::None };
        check_shard(&layout.blocks_path, layout.shard)?;
        let blocks = Arc::new(FsBlockstore::new(FlatFs::open(&layout.blocks_path, sync, writable)?));
        let keystore = Keystore::open(&path.join(KEYSTORE_DIR))?;
        Ok(Self {
            path: path.to_path_buf(),
            config: RwLock::new(config),
            identity,
            blocks,
            datastore: Mutex::new(None),
            datastore_path: layout.datastore_path,
            keystore,
            mode,
            _lock: lock,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn mode(&self) -> LockMode {
        self.mode
    }

    pub fn identity(&self) -> &PrivateKey {
        &self.identity
    }

    /// A snapshot of the config file.
    pub fn config(&self) -> ConfigFile {
        match self.config.read() {
            Ok(c) => c.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Changes the config through `f` and saves it; on error nothing changes,
    /// and a change that would leave the repo unopenable (no identity, another
    /// datastore layout than the one on disk) is an error.
    pub fn update_config<T>(&self, f: impl FnOnce(&mut ConfigFile) -> Result<T, ConfigError>) -> Result<T, RepoError> {
        let mut guard = match self.config.write() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        let mut next = guard.clone();
        let out = f(&mut next)?;
        check_config(&self.path, &next)?;
        next.save()?;
        *guard = next;
        Ok(out)
    }

    pub fn blocks(&self) -> Arc<FsBlockstore> {
        self.blocks.clone()
    }

    pub fn blockstore(&self) -> Arc<dyn Blockstore> {
        self.blocks.clone()
    }

    /// The metadata datastore, opened on first use.
    pub fn datastore(&self) -> Result<Arc<dyn Datastore>, RepoError> {
        // Held while opening: redb refuses a second read-write open of a file.
        let mut slot = match self.datastore.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        if let Some(ds) = slot.as_ref() {
            return Ok(ds.clone());
        }
        let ds: Arc<dyn Datastore> = if self.mode == LockMode::Exclusive {
            Arc::new(RedbDatastore::open(&self.datastore_path)?)
        } else {
            Arc::new(RedbDatastore::open_read_only(&self.datastore_path)?)
        };
        *slot = Some(ds.clone());
        Ok(ds)
    }

    pub fn keystore(&self) -> &Keystore {
        &self.keystore
    }

    /// Bytes the repo takes: blocks plus metadata.
    pub fn disk_usage(&self) -> Result<u64, RepoError> {
        let meta = fs::metadata(&self.datastore_path).map(|m| m.len()).unwrap_or(0);
        Ok(self.blocks.disk_usage()? + meta)
    }

    /// Closes cleanly, saving what lets the next open skip work.
    pub fn close(self) -> Result<(), RepoError> {
        self.blocks.flatfs().close()?;
        Ok(())
    }
}

impl Drop for Repo {
    fn drop(&mut self) {
        if let Err(e) = self.blocks.flatfs().close() {
            tracing::warn!("closing the block store: {e}");
        }
    }
}

fn decode_identity(b64: &str) -> Result<PrivateKey, RepoError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|e| RepoError::BadIdentity(e.to_string()))?;
    PrivateKey::decode(&bytes).map_err(|e| RepoError::BadIdentity(e.to_string()))
}

fn check_version(path: &Path) -> Result<(), RepoError> {
    let vpath = path.join(VERSION_FILE);
    let text = fs::read_to_string(&vpath).map_err(io_err(&vpath))?;
    let found = text.trim();
    let v: u32 = found.parse().map_err(|_| RepoError::BadVersion(vpath.clone()))?;
    if v != REPO_VERSION {
        return Err(RepoError::UnsupportedVersion { path: path.to_path_buf(), found: found.to_string() });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rubo_types::{Block, Bytes, Version, codec, hash};

    fn test_opts() -> InitOptions {
        InitOptions { profiles: vec!["test".into()], ..Default::default() }
    }

    #[test]
    fn init_open_roundtrip() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("repo");
        let id = Repo::init(&p, &test_opts()).unwrap();
        assert!(matches!(Repo::init(&p, &test_opts()), Err(RepoError::AlreadyInitialized(_))));
        let repo = Repo::open(&p, LockMode::Exclusive, "test").unwrap();
        assert_eq!(repo.identity().peer_id(), id.peer_id());
        // The empty directory block is there.
        let empty = rubo_types::parse_cid("QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn").unwrap();
        assert!(repo.blocks().has(&empty).unwrap());
        let b = Block::encode(Bytes::from_static(b"hi\n"), codec::RAW, hash::SHA2_256, None, Version::V1).unwrap();
        repo.blocks().put(&b).unwrap();
        // A second writer is refused; the message names the holder.
        let err = Repo::open(&p, LockMode::Exclusive, "other").unwrap_err();
        assert!(err.to_string().contains("pid"), "{err}");
        repo.close().unwrap();
        let ro = Repo::open(&p, LockMode::Shared, "reader").unwrap();
        assert_eq!(ro.blocks().get(b.cid()).unwrap(), Some(b));
        let ro2 = Repo::open(&p, LockMode::Shared, "reader").unwrap();
        drop((ro, ro2));
    }

    #[test]
    fn open_errors() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(Repo::open(dir.path(), LockMode::Shared, "x"), Err(RepoError::NotInitialized(_))));
        let p = dir.path().join("repo");
        Repo::init(&p, &test_opts()).unwrap();
        // A broken config is a clear error, not a panic.
        fs::write(p.join("config"), b"{not json").unwrap();
        let e = Repo::open(&p, LockMode::Shared, "x").unwrap_err();
        assert!(e.to_string().contains("failure to decode config"), "{e}");
    }

    #[test]
    fn bad_profile() {
        let dir = tempfile::tempdir().unwrap();
        let opts = InitOptions { profiles: vec!["nope".into()], ..Default::default() };
        let e = Repo::init(dir.path(), &opts).unwrap_err();
        assert_eq!(e.to_string(), "invalid configuration profile: nope");
        assert!(!is_initialized(dir.path()));
    }
}
