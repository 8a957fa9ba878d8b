//! The rubo repo on disk.

pub mod datastore;
pub mod flatfs;
pub mod identity;
pub mod lock;
