//! Answering `/ipfs/ping/1.0.0`, every stream.
//!
//! libp2p-ping answers one inbound ping stream per connection and drops the older one when a new
//! one arrives, so a `ping` command (a fresh stream, as Kubo's `ipfs ping` opens) and the
//! remote's periodic latency probe would cut each other off. go-libp2p answers every stream; so
//! does this behaviour, per connection, up to a bound. It sits before libp2p-ping in the
//! behaviour (the first handler offering a protocol gets its inbound streams), so libp2p-ping
//! only measures our own latency to peers.
//!
//! (libp2p-stream could accept the protocol too, but its accept queue holds a single stream:
//! two pings arriving together would lose one.)

use std::convert::Infallible;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use futures::{AsyncReadExt as _, AsyncWriteExt as _, FutureExt as _, StreamExt as _};
use libp2p::core::Endpoint;
use libp2p::core::transport::PortUse;
use libp2p::core::upgrade::{DeniedUpgrade, ReadyUpgrade};
use libp2p::swarm::handler::{ConnectionEvent, FullyNegotiatedInbound};
use libp2p::swarm::{
    ConnectionDenied, ConnectionHandler, ConnectionHandlerEvent, ConnectionId, FromSwarm, NetworkBehaviour,
    SubstreamProtocol, THandler, THandlerInEvent, THandlerOutEvent, ToSwarm,
};
use libp2p::{Multiaddr, PeerId, Stream};

use crate::handle::PING_PROTOCOL;

const PING_SIZE: usize = 32;
/// go-libp2p's ping service gives up on a stream silent for this long.
const IDLE: Duration = Duration::from_secs(60);
/// Ping streams answered at once per connection; more are dropped (reset).
const MAX_PER_CONNECTION: usize = 16;

#[derive(Default)]
pub(crate) struct Responder;

impl NetworkBehaviour for Responder {
    type ConnectionHandler = Handler;
    type ToSwarm = Infallible;

    fn handle_established_inbound_connection(
        &mut self,
        _: ConnectionId,
        _: PeerId,
        _: &Multiaddr,
        _: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        Ok(Handler::default())
    }

    fn handle_established_outbound_connection(
        &mut self,
        _: ConnectionId,
        _: PeerId,
        _: &Multiaddr,
        _: Endpoint,
        _: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        Ok(Handler::default())
    }

    fn on_swarm_event(&mut self, _: FromSwarm) {}

    fn on_connection_handler_event(&mut self, _: PeerId, _: ConnectionId, e: THandlerOutEvent<Self>) {
        match e {}
    }

    fn poll(&mut self, _: &mut Context<'_>) -> Poll<ToSwarm<Self::ToSwarm, THandlerInEvent<Self>>> {
        Poll::Pending
    }
}

#[derive(Default)]
pub(crate) struct Handler {
    pongs: FuturesUnordered<BoxFuture<'static, ()>>,
}

impl ConnectionHandler for Handler {
    type FromBehaviour = Infallible;
    type ToBehaviour = Infallible;
    type InboundProtocol = ReadyUpgrade<libp2p::StreamProtocol>;
    type OutboundProtocol = DeniedUpgrade;
    type InboundOpenInfo = ();
    type OutboundOpenInfo = ();

    fn listen_protocol(&self) -> SubstreamProtocol<Self::InboundProtocol> {
        SubstreamProtocol::new(ReadyUpgrade::new(PING_PROTOCOL), ())
    }

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<ConnectionHandlerEvent<DeniedUpgrade, (), Infallible>> {
        while let Poll::Ready(Some(())) = self.pongs.poll_next_unpin(cx) {}
        Poll::Pending
    }

    fn on_behaviour_event(&mut self, e: Infallible) {
        match e {}
    }

    fn on_connection_event(&mut self, event: ConnectionEvent<Self::InboundProtocol, DeniedUpgrade>) {
        if let ConnectionEvent::FullyNegotiatedInbound(FullyNegotiatedInbound { protocol: stream, .. }) = event {
            if self.pongs.len() < MAX_PER_CONNECTION {
                self.pongs.push(echo(stream).boxed());
            } else {
                tracing::debug!("too many ping streams on one connection; dropping one");
            }
        }
    }
}

async fn echo(mut stream: Stream) {
    let mut buf = [0u8; PING_SIZE];
    loop {
        match tokio::time::timeout(IDLE, stream.read_exact(&mut buf)).await {
            Ok(Ok(())) => {}
            // EOF, reset, or silent too long: done.
            _ => return,
        }
        if stream.write_all(&buf).await.is_err() || stream.flush().await.is_err() {
            return;
        }
    }
}
