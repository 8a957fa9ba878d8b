//! Content routing for rubo.
//!
//! Today: the delegated routing client ([`DelegatedClient`]), which asks
//! `/routing/v1` HTTP endpoints (ipfs/specs `src/routing/http-routing-v1.md`,
//! Kubo's `Routing.DelegatedRouters`) who provides a CID. The Amino DHT
//! (`/ipfs/kad/1.0.0`, providing, reproviding) is the next piece; it will sit
//! beside this behind the same [`Provider`] answers.

mod http;

pub use http::{DelegatedClient, Endpoint, Provider, RoutingError, parse_providers};
