//! The targets, one module per crate under test.

pub mod bitswap;
pub mod commands;
pub mod dag;
pub mod gateway;
pub mod http;
pub mod ipns;
pub mod mfs;
pub mod repo;
pub mod routing;
pub mod types;
pub mod unixfs;
