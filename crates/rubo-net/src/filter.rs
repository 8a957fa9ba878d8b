//! CIDR address filters (`Swarm.AddrFilters`, `Addresses.NoAnnounce`).
//!
//! go-libp2p writes an IP network as a multiaddr: `/ip4/10.0.0.0/ipcidr/8`. We parse that form
//! ourselves rather than pulling in a CIDR crate: it is a mask and a compare.

use std::net::IpAddr;

use libp2p::Multiaddr;
use libp2p::multiaddr::Protocol;

/// An IP network: an address with a prefix length; host bits are cleared on construction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IpCidr {
    addr: IpAddr,
    prefix: u8,
}

impl IpCidr {
    /// A network from an address and a prefix length (0..=32 for IPv4, 0..=128 for IPv6).
    pub fn new(addr: IpAddr, prefix: u8) -> Result<Self, String> {
        let max = if addr.is_ipv4() { 32 } else { 128 };
        if prefix > max {
            return Err(format!("prefix /{prefix} is longer than {max} bits"));
        }
        Ok(Self { addr: mask(addr, prefix), prefix })
    }

    /// Parses `/ip4/<addr>/ipcidr/<n>` or `/ip6/<addr>/ipcidr/<n>`, nothing more and nothing less.
    pub fn from_multiaddr(ma: &Multiaddr) -> Result<Self, String> {
        let mut it = ma.iter();
        let addr = match it.next() {
            Some(Protocol::Ip4(a)) => IpAddr::V4(a),
            Some(Protocol::Ip6(a)) => IpAddr::V6(a),
            _ => return Err("must start with /ip4 or /ip6".into()),
        };
        let prefix = match it.next() {
            Some(Protocol::Ipcidr(n)) => n,
            _ => return Err("must be followed by /ipcidr/<prefix length>".into()),
        };
        if it.next().is_some() {
            return Err("nothing may follow /ipcidr/<n>".into());
        }
        Self::new(addr, prefix)
    }

    /// The go-libp2p spelling of this network.
    pub fn to_multiaddr(&self) -> Multiaddr {
        let ip = match self.addr {
            IpAddr::V4(a) => Protocol::Ip4(a),
            IpAddr::V6(a) => Protocol::Ip6(a),
        };
        Multiaddr::empty().with(ip).with(Protocol::Ipcidr(self.prefix))
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        // An IPv4-mapped IPv6 peer address is matched as IPv4, as go-libp2p does.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        ip.is_ipv4() == self.addr.is_ipv4() && mask(ip, self.prefix) == self.addr
    }
}

fn mask(addr: IpAddr, prefix: u8) -> IpAddr {
    match addr {
        IpAddr::V4(a) => {
            let bits = u32::from(a);
            let m = if prefix == 0 { 0 } else { u32::MAX << (32 - u32::from(prefix)) };
            IpAddr::V4((bits & m).into())
        }
        IpAddr::V6(a) => {
            let bits = u128::from(a);
            let m = if prefix == 0 { 0 } else { u128::MAX << (128 - u32::from(prefix)) };
            IpAddr::V6((bits & m).into())
        }
    }
}

/// The first IP address in a multiaddr (`/ip4/…`, `/ip6/…`), if any; DNS names have none.
pub(crate) fn ip_of(ma: &Multiaddr) -> Option<IpAddr> {
    ma.iter().find_map(|p| match p {
        Protocol::Ip4(a) => Some(IpAddr::V4(a)),
        Protocol::Ip6(a) => Some(IpAddr::V6(a)),
        _ => None,
    })
}

/// The deny-list of `Swarm.AddrFilters`: no dial to and no connection from these networks.
#[derive(Clone, Debug, Default)]
pub(crate) struct AddrFilters {
    nets: Vec<IpCidr>,
}

impl AddrFilters {
    pub(crate) fn blocks(&self, ma: &Multiaddr) -> bool {
        ip_of(ma).is_some_and(|ip| self.nets.iter().any(|n| n.contains(ip)))
    }

    /// Adds a network; false when it was already there.
    pub(crate) fn add(&mut self, net: IpCidr) -> bool {
        if self.nets.contains(&net) {
            return false;
        }
        self.nets.push(net);
        true
    }

    /// Removes a network; false when it was not there.
    pub(crate) fn remove(&mut self, net: &IpCidr) -> bool {
        let before = self.nets.len();
        self.nets.retain(|n| n != net);
        self.nets.len() != before
    }

    pub(crate) fn len(&self) -> usize {
        self.nets.len()
    }

    pub(crate) fn list(&self) -> Vec<Multiaddr> {
        self.nets.iter().map(IpCidr::to_multiaddr).collect()
    }
}

/// One `Addresses.NoAnnounce` entry: an exact address, or a network in the ipcidr form.
#[derive(Clone, Debug)]
pub(crate) enum NoAnnounce {
    Exact(Multiaddr),
    Net(IpCidr),
}

impl NoAnnounce {
    pub(crate) fn parse(ma: Multiaddr) -> Self {
        let is_cidr = ma.iter().any(|p| matches!(p, Protocol::Ipcidr(_)));
        match IpCidr::from_multiaddr(&ma) {
            Ok(net) if is_cidr => NoAnnounce::Net(net),
            _ => NoAnnounce::Exact(ma),
        }
    }

    pub(crate) fn matches(&self, ma: &Multiaddr) -> bool {
        match self {
            NoAnnounce::Exact(a) => a == ma,
            NoAnnounce::Net(net) => ip_of(ma).is_some_and(|ip| net.contains(ip)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ma(s: &str) -> Multiaddr {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn cidr_parse_and_match() {
        let net = IpCidr::from_multiaddr(&ma("/ip4/10.1.2.3/ipcidr/8")).unwrap();
        assert_eq!(net.to_multiaddr(), ma("/ip4/10.0.0.0/ipcidr/8"));
        assert!(net.contains("10.200.0.1".parse().unwrap()));
        assert!(!net.contains("11.0.0.1".parse().unwrap()));
        assert!(net.contains("::ffff:10.0.0.9".parse().unwrap()));
        assert!(!net.contains("fe80::1".parse().unwrap()));

        let all = IpCidr::from_multiaddr(&ma("/ip6/::/ipcidr/0")).unwrap();
        assert!(all.contains("2001:db8::1".parse().unwrap()));
        let host = IpCidr::from_multiaddr(&ma("/ip4/127.0.0.1/ipcidr/32")).unwrap();
        assert!(host.contains("127.0.0.1".parse().unwrap()));
        assert!(!host.contains("127.0.0.2".parse().unwrap()));
    }

    #[test]
    fn cidr_rejects_bad_forms() {
        assert!(IpCidr::from_multiaddr(&ma("/ip4/10.0.0.0/ipcidr/33")).is_err());
        assert!(IpCidr::from_multiaddr(&ma("/ip4/10.0.0.0")).is_err());
        assert!(IpCidr::from_multiaddr(&ma("/ip4/10.0.0.0/ipcidr/8/tcp/1")).is_err());
        assert!(IpCidr::from_multiaddr(&ma("/dns4/example.com/tcp/1")).is_err());
    }

    #[test]
    fn filters_and_no_announce() {
        let mut f = AddrFilters::default();
        assert!(f.add(IpCidr::from_multiaddr(&ma("/ip4/192.168.0.0/ipcidr/16")).unwrap()));
        assert!(!f.add(IpCidr::from_multiaddr(&ma("/ip4/192.168.1.0/ipcidr/16")).unwrap()));
        assert!(f.blocks(&ma("/ip4/192.168.4.5/tcp/4001")));
        assert!(!f.blocks(&ma("/ip4/127.0.0.1/tcp/4001")));
        assert!(!f.blocks(&ma("/dns4/example.com/tcp/4001")));

        let exact = NoAnnounce::parse(ma("/ip4/1.2.3.4/tcp/4001"));
        assert!(exact.matches(&ma("/ip4/1.2.3.4/tcp/4001")));
        assert!(!exact.matches(&ma("/ip4/1.2.3.4/tcp/4002")));
        let net = NoAnnounce::parse(ma("/ip4/127.0.0.0/ipcidr/8"));
        assert!(net.matches(&ma("/ip4/127.0.0.1/udp/1/quic-v1")));
    }
}
