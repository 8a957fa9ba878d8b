//! The IPFS HTTP gateway of rubo, behaving as Kubo's (boxo `gateway/`).
//!
//! - Path gateway: `/ipfs/<cid>/<path>`, `/ipns/<name>/<path>` (names are
//!   resolved through a [`NameResolver`]; until IPNS lands they answer 501).
//! - Subdomain gateway: `<cid>.ipfs.<host>` origins for every configured
//!   host with `UseSubdomains` (Kubo's implicit `localhost` included); path
//!   requests there are redirected to their subdomain form.
//! - Deserialized UnixFS responses (files with content types, `index.html`,
//!   HTML listings streamed entry by entry, symlinks, `_redirects`), and
//!   trustless ones: raw blocks, CAR streams written while the DAG is walked,
//!   TAR, DAG-JSON/DAG-CBOR/JSON/CBOR blocks.
//!
//! Every block is read through the node's block service on blocking
//! threads, behind a bounded cache of verified blocks; bodies reach the
//! client through bounded channels, so a slow reader slows its producer and a
//! client that stops reading is dropped after `write_timeout`.

mod accept;
mod body;
mod car;
mod config;
mod date;
mod handler;
mod host;
mod html;
mod mime;
mod range;
mod redirects;
mod routing_api;
mod server;
mod store;
mod tar;
mod url;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

pub use config::{ConfigError, GatewayConfig, PublicGateway};
use rubo_node::Node;

/// Parsers exposed for the fuzz targets (`rubo-fuzz`); not a stable API.
#[doc(hidden)]
pub mod parsers {
    pub use crate::accept::{Format, Negotiated, negotiate, parse_media_type};
    pub use crate::car::{CarParams, EntityBytes, parse_entity_bytes};
    pub use crate::host::{
        Gateways, inline_dnslink, is_subdomain_namespace, subdomain_url, to_dns_label, uninline_dnslink,
    };
    pub use crate::range::{ByteRange, MAX_RANGES, RangeSpec, parse as parse_range, resolve as resolve_range};
    pub use crate::redirects::{
        MAX_TARGET as MAX_REDIRECT_TARGET, Rule, find as find_redirect, parse as parse_redirects,
    };
    pub use crate::url::{clean_path, parse_query, unescape};
}

/// Why the gateway could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GatewayError {
    #[error("gateway listener: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// What a mutable name (`/ipns/<name>`) points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    /// An immutable content path: `/ipfs/<cid>[/<path>]`.
    pub path: String,
    /// How long the answer may be cached (IPNS record or DNSLink TTL).
    pub ttl: Option<Duration>,
    /// When the name was last changed, if known.
    pub last_modified: Option<SystemTime>,
}

/// Why a name did not resolve.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameError {
    /// This node cannot resolve such names yet (answered 501).
    #[error("{0}")]
    NotImplemented(String),
    /// No such name, or no record for it (answered 404).
    #[error("{0}")]
    NotFound(String),
    /// The resolution failed (answered 502: it may work later).
    #[error("{0}")]
    Failed(String),
}

/// A boxed future, for the object-safe [`NameResolver`].
pub type NameFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Resolves IPNS names and DNSLink domains. The IPNS work implements it;
/// [`Unresolvable`] answers every name with [`NameError::NotImplemented`].
pub trait NameResolver: Send + Sync + 'static {
    /// `name` is the first segment after `/ipns/` (a key or a domain).
    fn resolve<'a>(&'a self, name: &'a str) -> NameFuture<'a, Result<Resolution, NameError>>;

    /// The signed IPNS record of `name` (`?format=ipns-record`).
    fn record<'a>(&'a self, name: &'a str) -> NameFuture<'a, Result<Vec<u8>, NameError>> {
        Box::pin(async move { Err(NameError::NotImplemented(format!("IPNS records cannot be served yet ({name})"))) })
    }

    /// Whether `host` has a DNSLink record (DNSLink gateway hosts).
    fn has_dnslink<'a>(&'a self, _host: &'a str) -> NameFuture<'a, bool> {
        Box::pin(async { false })
    }
}

/// The resolver of a node without IPNS or DNSLink support.
#[derive(Debug, Clone, Copy, Default)]
pub struct Unresolvable;

impl NameResolver for Unresolvable {
    fn resolve<'a>(&'a self, name: &'a str) -> NameFuture<'a, Result<Resolution, NameError>> {
        Box::pin(async move {
            Err(NameError::NotImplemented(format!(
                "cannot resolve /ipns/{name}: IPNS names and DNSLink are not supported by this node yet"
            )))
        })
    }
}

/// Serves the gateway on `listener` until `shutdown` completes, then stops
/// accepting, lets requests in flight finish, and returns.
pub async fn serve(
    listener: tokio::net::TcpListener,
    node: Node,
    cfg: GatewayConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<(), GatewayError> {
    serve_with_resolver(listener, node, cfg, Arc::new(Unresolvable), shutdown).await
}

/// [`serve`], with names resolved by `resolver`.
pub async fn serve_with_resolver(
    listener: tokio::net::TcpListener,
    node: Node,
    cfg: GatewayConfig,
    resolver: Arc<dyn NameResolver>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), GatewayError> {
    let state = Arc::new(handler::State::new(node, cfg, resolver));
    server::run(listener, state, shutdown).await
}
