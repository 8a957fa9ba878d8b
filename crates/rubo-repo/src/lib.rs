//! The rubo repo on disk: config, flatfs blocks, the metadata datastore, the
//! keystore and the lock. Everything above storage goes through [`Repo`] and the
//! [`Blockstore`] and [`Datastore`] traits.

pub mod blockstore;
pub mod config;
pub mod datastore;
pub mod flatfs;
pub mod identity;
pub mod keystore;
pub mod lock;
pub mod repo;

pub use blockstore::{Blockstore, BlockstoreError, FsBlockstore, MemBlockstore};
pub use datastore::{Batch, Datastore, DatastoreError, MemDatastore, RedbDatastore};
pub use lock::LockMode;
pub use repo::{InitOptions, REPO_VERSION, Repo, RepoError, config_file_path, is_initialized, validate_config};
