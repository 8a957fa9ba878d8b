//! Inbound streams for protocol crates, queued.
//!
//! libp2p-stream hands each protocol's inbound streams over a channel with room for one: a
//! stream that arrives while the previous one is still waiting is reset. Peers open streams in
//! bursts (three attackers at once in our tests; go-libp2p peers that open a stream per message),
//! and a busy runtime does not take them out one by one in time. So inbound streams go through
//! this behaviour instead, with a queue per protocol ([`crate::NetConfig::inbound_stream_queue`]);
//! only past that is a stream reset, and counted. Outbound streams still use libp2p-stream.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::{Ready, ready};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

use libp2p::core::transport::PortUse;
use libp2p::core::upgrade::DeniedUpgrade;
use libp2p::core::{Endpoint, InboundUpgrade, UpgradeInfo};
use libp2p::swarm::handler::{ConnectionEvent, FullyNegotiatedInbound};
use libp2p::swarm::{
    ConnectionDenied, ConnectionHandler, ConnectionHandlerEvent, ConnectionId, FromSwarm, NetworkBehaviour,
    SubstreamProtocol, THandler, THandlerInEvent, THandlerOutEvent, ToSwarm,
};
use libp2p::{Multiaddr, PeerId, Stream, StreamProtocol};
use tokio::sync::mpsc;

use crate::error::NetError;

/// Registered protocols and their queues, shared by the behaviour, every connection's handler
/// and the handle.
#[derive(Default)]
pub(crate) struct Shared {
    queues: Mutex<HashMap<StreamProtocol, mpsc::Sender<(PeerId, Stream)>>>,
    /// Streams reset because their protocol's queue was full.
    pub(crate) dropped: AtomicU64,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, HashMap<StreamProtocol, mpsc::Sender<(PeerId, Stream)>>> {
        self.queues.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn protocols(&self) -> Vec<StreamProtocol> {
        self.lock().keys().cloned().collect()
    }

    fn deliver(&self, peer: PeerId, stream: Stream, protocol: StreamProtocol) {
        let mut q = self.lock();
        let Some(tx) = q.get(&protocol) else { return };
        match tx.try_send((peer, stream)) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                // Dropping the stream resets it: the peer sees its open fail and may retry.
                self.dropped.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(%peer, %protocol, "inbound stream queue full: stream reset");
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                q.remove(&protocol);
            }
        }
    }

    /// Starts taking `protocol`'s inbound streams, `queue` of them waiting at most.
    pub(crate) fn accept(self: &Arc<Self>, protocol: StreamProtocol, queue: usize) -> Result<Incoming, NetError> {
        let mut q = self.lock();
        if q.get(&protocol).is_some_and(|tx| !tx.is_closed()) {
            return Err(NetError::AlreadyAccepting(protocol.to_string()));
        }
        let (tx, rx) = mpsc::channel(queue.max(1));
        q.insert(protocol.clone(), tx);
        Ok(Incoming { rx, protocol, shared: self.clone() })
    }
}

/// Inbound streams of one protocol, with the peer that opened each. Dropping it stops
/// accepting the protocol.
pub struct Incoming {
    rx: mpsc::Receiver<(PeerId, Stream)>,
    protocol: StreamProtocol,
    shared: Arc<Shared>,
}

impl futures::Stream for Incoming {
    type Item = (PeerId, Stream);

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.rx.poll_recv(cx)
    }
}

impl Drop for Incoming {
    fn drop(&mut self) {
        // Closed first, so that our sender reads as closed; a registration made after ours
        // cannot exist while ours was open.
        self.rx.close();
        let mut q = self.shared.lock();
        if q.get(&self.protocol).is_some_and(mpsc::Sender::is_closed) {
            q.remove(&self.protocol);
        }
    }
}

/// The protocols registered when the connection asks: any of them is accepted.
pub(crate) struct Protocols(Vec<StreamProtocol>);

impl UpgradeInfo for Protocols {
    type Info = StreamProtocol;
    type InfoIter = std::vec::IntoIter<StreamProtocol>;

    fn protocol_info(&self) -> Self::InfoIter {
        self.0.clone().into_iter()
    }
}

impl InboundUpgrade<Stream> for Protocols {
    type Output = (Stream, StreamProtocol);
    type Error = Infallible;
    type Future = Ready<Result<Self::Output, Self::Error>>;

    fn upgrade_inbound(self, stream: Stream, protocol: StreamProtocol) -> Self::Future {
        ready(Ok((stream, protocol)))
    }
}

pub(crate) struct Handler {
    peer: PeerId,
    shared: Arc<Shared>,
}

impl ConnectionHandler for Handler {
    type FromBehaviour = Infallible;
    type ToBehaviour = Infallible;
    type InboundProtocol = Protocols;
    type OutboundProtocol = DeniedUpgrade;
    type InboundOpenInfo = ();
    type OutboundOpenInfo = ();

    fn listen_protocol(&self) -> SubstreamProtocol<Self::InboundProtocol> {
        SubstreamProtocol::new(Protocols(self.shared.protocols()), ())
    }

    fn poll(&mut self, _: &mut Context<'_>) -> Poll<ConnectionHandlerEvent<Self::OutboundProtocol, (), Infallible>> {
        Poll::Pending
    }

    fn on_behaviour_event(&mut self, e: Infallible) {
        match e {}
    }

    fn on_connection_event(&mut self, event: ConnectionEvent<Self::InboundProtocol, Self::OutboundProtocol>) {
        if let ConnectionEvent::FullyNegotiatedInbound(FullyNegotiatedInbound { protocol: (stream, p), .. }) = event {
            self.shared.deliver(self.peer, stream, p);
        }
    }
}

/// The behaviour: a handler per connection, nothing else.
pub(crate) struct Inbound {
    pub(crate) shared: Arc<Shared>,
}

impl NetworkBehaviour for Inbound {
    type ConnectionHandler = Handler;
    type ToSwarm = Infallible;

    fn handle_established_inbound_connection(
        &mut self,
        _: ConnectionId,
        peer: PeerId,
        _: &Multiaddr,
        _: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        Ok(Handler { peer, shared: self.shared.clone() })
    }

    fn handle_established_outbound_connection(
        &mut self,
        _: ConnectionId,
        peer: PeerId,
        _: &Multiaddr,
        _: Endpoint,
        _: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        Ok(Handler { peer, shared: self.shared.clone() })
    }

    fn on_swarm_event(&mut self, _: FromSwarm) {}

    fn on_connection_handler_event(&mut self, _: PeerId, _: ConnectionId, e: THandlerOutEvent<Self>) {
        match e {}
    }

    fn poll(&mut self, _: &mut Context<'_>) -> Poll<ToSwarm<Self::ToSwarm, THandlerInEvent<Self>>> {
        Poll::Pending
    }
}
