//! The transport stack: TCP (noise or TLS, then yamux) and QUIC-v1, behind DNS, every
//! connection's muxer wrapped by [`crate::guard`].
//!
//! Built by hand rather than with `SwarmBuilder` so the guard can wrap both TCP and QUIC muxers
//! and the security order follows the config (`Swarm.Transports.Security`).

use std::sync::Arc;
use std::time::Duration;

use futures::future::{BoxFuture, Either};
use futures::{AsyncRead, AsyncWrite, FutureExt as _, TryFutureExt as _};
use libp2p::core::muxing::StreamMuxerBox;
use libp2p::core::transport::{Boxed, OptionalTransport, OrTransport};
use libp2p::core::upgrade::{self, InboundConnectionUpgrade, OutboundConnectionUpgrade, UpgradeInfo};
use libp2p::core::{ConnectedPoint, Transport as _};
use libp2p::identity::Keypair;
use libp2p::{PeerId, dns, noise, quic, tcp, tls, yamux};

use crate::config::SecurityProtocol;
use crate::error::NetError;
use crate::guard::Registry;

/// Noise and/or TLS, offered in the configured order (multistream-select picks the first one
/// both sides support).
#[derive(Clone)]
pub(crate) struct Security {
    noise: Option<noise::Config>,
    tls: Option<tls::Config>,
    order: Vec<SecurityProtocol>,
}

const NOISE: &str = "/noise";
const TLS: &str = "/tls/1.0.0";

impl Security {
    pub(crate) fn new(keypair: &Keypair, order: &[SecurityProtocol]) -> Result<Self, NetError> {
        let mut wanted: Vec<SecurityProtocol> = Vec::new();
        let order = if order.is_empty() { &[SecurityProtocol::Noise, SecurityProtocol::Tls][..] } else { order };
        for p in order {
            if !wanted.contains(p) {
                wanted.push(*p);
            }
        }
        let noise = if wanted.contains(&SecurityProtocol::Noise) {
            Some(noise::Config::new(keypair).map_err(|e| NetError::Transport(format!("noise: {e}")))?)
        } else {
            None
        };
        let tls = if wanted.contains(&SecurityProtocol::Tls) {
            Some(tls::Config::new(keypair).map_err(|e| NetError::Transport(format!("tls: {e}")))?)
        } else {
            None
        };
        Ok(Self { noise, tls, order: wanted })
    }
}

impl UpgradeInfo for Security {
    type Info = &'static str;
    type InfoIter = std::vec::IntoIter<&'static str>;

    fn protocol_info(&self) -> Self::InfoIter {
        self.order
            .iter()
            .map(|p| match p {
                SecurityProtocol::Noise => NOISE,
                SecurityProtocol::Tls => TLS,
            })
            .collect::<Vec<_>>()
            .into_iter()
    }
}

/// The secured stream, whichever protocol made it.
type Secured<C> = Either<noise::Output<C>, tls::TlsStream<C>>;

/// Either protocol's handshake error, as one error type.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SecurityError {
    #[error("noise: {0}")]
    Noise(#[from] noise::Error),
    #[error("tls: {0}")]
    Tls(#[from] tls::UpgradeError),
    #[error("negotiated {0}, which is not enabled")]
    NotEnabled(&'static str),
}

impl<C> InboundConnectionUpgrade<C> for Security
where
    C: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    type Output = (PeerId, Secured<C>);
    type Error = SecurityError;
    type Future = BoxFuture<'static, Result<Self::Output, Self::Error>>;

    fn upgrade_inbound(self, socket: C, info: Self::Info) -> Self::Future {
        match (info, self.noise, self.tls) {
            (NOISE, Some(n), _) => {
                n.upgrade_inbound(socket, info).map_ok(|(p, s)| (p, Either::Left(s))).err_into().boxed()
            }
            (TLS, _, Some(t)) => {
                t.upgrade_inbound(socket, info).map_ok(|(p, s)| (p, Either::Right(s))).err_into().boxed()
            }
            (other, _, _) => futures::future::ready(Err(SecurityError::NotEnabled(other))).boxed(),
        }
    }
}

impl<C> OutboundConnectionUpgrade<C> for Security
where
    C: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    type Output = (PeerId, Secured<C>);
    type Error = SecurityError;
    type Future = BoxFuture<'static, Result<Self::Output, Self::Error>>;

    fn upgrade_outbound(self, socket: C, info: Self::Info) -> Self::Future {
        match (info, self.noise, self.tls) {
            (NOISE, Some(n), _) => {
                n.upgrade_outbound(socket, info).map_ok(|(p, s)| (p, Either::Left(s))).err_into().boxed()
            }
            (TLS, _, Some(t)) => {
                t.upgrade_outbound(socket, info).map_ok(|(p, s)| (p, Either::Right(s))).err_into().boxed()
            }
            (other, _, _) => futures::future::ready(Err(SecurityError::NotEnabled(other))).boxed(),
        }
    }
}

pub(crate) struct TransportOptions<'a> {
    pub(crate) keypair: &'a Keypair,
    pub(crate) security: &'a [SecurityProtocol],
    pub(crate) tcp: bool,
    pub(crate) quic: bool,
    pub(crate) handshake_timeout: Duration,
    pub(crate) max_inbound_streams: usize,
}

/// Yamux refuses (by panicking) a stream limit above its receive window / 256 KiB = 4096.
const YAMUX_MAX_STREAMS: usize = 4096;

/// The address the swarm reports for this connection, which is how the actor finds its stats.
fn remote_of(endpoint: &ConnectedPoint) -> libp2p::Multiaddr {
    endpoint.get_remote_address().clone()
}

/// TCP and/or QUIC, each with its muxer boxed so both give the same output.
fn inner(opts: &TransportOptions<'_>) -> Result<Boxed<(PeerId, StreamMuxerBox)>, NetError> {
    let tcp = match opts.tcp {
        true => {
            let security = Security::new(opts.keypair, opts.security)?;
            let mut yamux = yamux::Config::default();
            // The guard enforces the real cap on streams and counts refusals; yamux's own limit
            // (which closes the whole connection) is only a backstop. It is set to the most yamux
            // allows for a reason: yamux grows a stream's receive window out of (1 GiB - 256 KiB
            // per allowed stream), which at this limit is nothing, so every stream keeps the
            // 256 KiB default window. A larger window lets js-libp2p's yamux (Helia) send data
            // frames as large as the window, and rust-yamux closes the connection on any frame
            // over 1 MiB (FrameTooLarge): Helia sending a 1 MiB block killed the connection.
            yamux.set_max_num_streams(YAMUX_MAX_STREAMS);
            let t = tcp::tokio::Transport::new(tcp::Config::new().nodelay(true))
                .upgrade(upgrade::Version::V1)
                .authenticate(security)
                .multiplex(yamux)
                .timeout(opts.handshake_timeout)
                .map(|(peer, muxer), _| (peer, StreamMuxerBox::new(muxer)));
            OptionalTransport::some(t)
        }
        false => OptionalTransport::none(),
    };
    let quic = match opts.quic {
        true => {
            let mut cfg = quic::Config::new(opts.keypair);
            cfg.handshake_timeout = opts.handshake_timeout;
            // QUIC's flow control stops the peer at the cap; the guard counts what gets past it.
            cfg.max_concurrent_stream_limit = u32::try_from(opts.max_inbound_streams).unwrap_or(u32::MAX);
            let t = quic::tokio::Transport::new(cfg).map(|(peer, conn), _| (peer, StreamMuxerBox::new(conn)));
            OptionalTransport::some(t)
        }
        false => OptionalTransport::none(),
    };
    Ok(OrTransport::new(quic, tcp)
        .map(|either, _| match either {
            Either::Left(out) | Either::Right(out) => out,
        })
        .boxed())
}

pub(crate) fn build(
    opts: &TransportOptions<'_>,
    registry: &Arc<Registry>,
) -> Result<Boxed<(PeerId, StreamMuxerBox)>, NetError> {
    // The resolver config is read once here; names are resolved only when an address is dialled.
    // Without a system config, /dns addresses fail to dial instead of going to a public resolver.
    let dns = match dns::tokio::Transport::system(inner(opts)?) {
        Ok(t) => t,
        Err(e) => {
            tracing::warn!("no system DNS configuration ({e}); /dns addresses will not resolve");
            let none = dns::ResolverConfig::from_parts(None, Vec::new(), Vec::new());
            dns::tokio::Transport::custom(inner(opts)?, none, dns::ResolverOpts::default())
        }
    };
    let reg = Arc::clone(registry);
    // Outermost, so the endpoint seen here is the one the swarm reports with the connection.
    Ok(dns.map(move |(peer, muxer), endpoint| (peer, reg.guard(peer, remote_of(&endpoint), muxer))).boxed())
}
