//! One module per Kubo command group.

pub(crate) mod bitswap;
pub(crate) mod block;
pub(crate) mod cid;
pub(crate) mod config;
pub(crate) mod dag;
pub(crate) mod files;
pub(crate) mod get;
pub(crate) mod id;
pub(crate) mod init;
pub(crate) mod key;
pub(crate) mod misc;
pub(crate) mod multibase;
pub(crate) mod name;
pub(crate) mod pin;
pub(crate) mod refs;
pub(crate) mod repo;
pub(crate) mod routing;
pub(crate) mod swarm;
pub(crate) mod unixfs;
pub(crate) mod values;
pub(crate) mod version;
