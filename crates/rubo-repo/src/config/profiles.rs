//! Config profiles: named transformations, with Kubo's names and effects.

use serde_json::{Value, json};

use super::{ConfigError, default_addresses, default_datastore_spec, set_path};

/// A named config transformation.
pub struct Profile {
    pub name: &'static str,
    pub description: &'static str,
    /// Changes the on-disk layout: only valid when a repo is created.
    pub init_only: bool,
    transform: fn(&mut Value) -> Result<(), ConfigError>,
}

/// Address ranges a public server should neither announce nor dial.
const SERVER_FILTERS: &[&str] = &[
    "/ip4/10.0.0.0/ipcidr/8",
    "/ip4/100.64.0.0/ipcidr/10",
    "/ip4/127.0.0.0/ipcidr/8",
    "/ip4/169.254.0.0/ipcidr/16",
    "/ip4/172.16.0.0/ipcidr/12",
    "/ip4/192.0.0.0/ipcidr/24",
    "/ip4/192.0.2.0/ipcidr/24",
    "/ip4/192.168.0.0/ipcidr/16",
    "/ip4/198.18.0.0/ipcidr/15",
    "/ip4/198.51.100.0/ipcidr/24",
    "/ip4/203.0.113.0/ipcidr/24",
    "/ip4/240.0.0.0/ipcidr/4",
    "/ip6/::/ipcidr/3",
    "/ip6/::1/ipcidr/128",
    "/ip6/100::/ipcidr/64",
    "/ip6/2001:2::/ipcidr/48",
    "/ip6/2001:db8::/ipcidr/32",
    "/ip6/fc00::/ipcidr/7",
    "/ip6/fe80::/ipcidr/10",
];

fn set(doc: &mut Value, key: &str, v: Value) -> Result<(), ConfigError> {
    set_path(doc, key, v)
}

fn remove(doc: &mut Value, key: &str) {
    let (parent, last) = key.rsplit_once('.').unwrap_or(("", key));
    let target = if parent.is_empty() { Some(doc) } else { doc.pointer_mut(&format!("/{}", parent.replace('.', "/"))) };
    if let Some(Value::Object(m)) = target {
        m.remove(last);
    }
}

fn strings_at(doc: &Value, key: &str) -> Vec<String> {
    doc.pointer(&format!("/{}", key.replace('.', "/")))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

fn append_filters(doc: &mut Value, key: &str) -> Result<(), ConfigError> {
    let mut v = strings_at(doc, key);
    for f in SERVER_FILTERS {
        if !v.iter().any(|x| x == f) {
            v.push((*f).to_string());
        }
    }
    set(doc, key, json!(v))
}

fn delete_filters(doc: &mut Value, key: &str) -> Result<(), ConfigError> {
    let v: Vec<String> = strings_at(doc, key).into_iter().filter(|x| !SERVER_FILTERS.contains(&x.as_str())).collect();
    set(doc, key, json!(v))
}

fn unixfs(doc: &mut Value, v1: bool) -> Result<(), ConfigError> {
    let (cid, raw, chunk, links, est) =
        if v1 { (1, true, "size-1048576", 1024, "block") } else { (0, false, "size-262144", 174, "links") };
    for (k, v) in [
        ("CidVersion", json!(cid)),
        ("UnixFSRawLeaves", json!(raw)),
        ("UnixFSChunker", json!(chunk)),
        ("HashFunction", json!("sha2-256")),
        ("UnixFSFileMaxLinks", json!(links)),
        ("UnixFSDirectoryMaxLinks", json!(0)),
        ("UnixFSHAMTDirectoryMaxFanout", json!(256)),
        ("UnixFSHAMTDirectorySizeThreshold", json!("256KiB")),
        ("UnixFSHAMTDirectorySizeEstimation", json!(est)),
        ("UnixFSDAGLayout", json!("balanced")),
    ] {
        set(doc, &format!("Import.{k}"), v)?;
    }
    Ok(())
}

fn no_pebble(_: &mut Value) -> Result<(), ConfigError> {
    Err(ConfigError::Profile(
        "rubo does not support the pebbleds datastore: blocks live in flatfs, the rest in redb".into(),
    ))
}

fn no_badger(_: &mut Value) -> Result<(), ConfigError> {
    Err(ConfigError::Profile(
        "rubo does not support the badgerds datastore: blocks live in flatfs, the rest in redb".into(),
    ))
}

fn free_port() -> Result<u16, ConfigError> {
    // Binding port 0 on loopback lets the kernel pick a free port; nothing is sent.
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| ConfigError::Profile(format!("cannot pick a free port: {e}")))
}

/// Every profile, by name.
pub static PROFILES: &[Profile] = &[
    Profile {
        name: "announce-off",
        description: "Disables the provide system (announcing to the Amino DHT).\n\n\
            USE WITH CAUTION: content of this node will not be announced, so other\n\
            peers can only fetch it when they are already connected to this node\n\
            (for instance through Peering.Peers).",
        init_only: false,
        transform: |d| {
            set(d, "Provide.Enabled", json!(false))?;
            set(d, "Provide.DHT.Interval", json!("0s"))
        },
    },
    Profile {
        name: "announce-on",
        description: "Re-enables the provide system (reverts announce-off).",
        init_only: false,
        transform: |d| {
            set(d, "Provide.Enabled", json!(true))?;
            set(d, "Provide.DHT.Interval", json!("22h0m0s"))
        },
    },
    Profile {
        name: "autoconf-off",
        description: "Disables AutoConf and empties the bootstrap peers, DNS resolvers, delegated\n\
            routers and IPNS delegated publishers, for manual configuration.",
        init_only: false,
        transform: |d| {
            for k in ["Bootstrap", "DNS.Resolvers", "Routing.DelegatedRouters", "Ipns.DelegatedPublishers"] {
                set(d, k, Value::Null)?;
            }
            set(d, "AutoConf.Enabled", json!(false))
        },
    },
    Profile {
        name: "autoconf-on",
        description: "Uses \"auto\" for the bootstrap peers, DNS resolvers, delegated routers and\n\
            IPNS delegated publishers, and enables AutoConf.",
        init_only: false,
        transform: |d| {
            set(d, "Bootstrap", json!(["auto"]))?;
            set(d, "DNS.Resolvers", json!({".": "auto"}))?;
            set(d, "Routing.DelegatedRouters", json!(["auto"]))?;
            set(d, "Ipns.DelegatedPublishers", json!(["auto"]))?;
            set(d, "AutoConf.Enabled", json!(true))?;
            if d.pointer("/AutoConf/URL").is_none_or(Value::is_null) {
                set(d, "AutoConf.URL", json!("https://conf.ipfs-mainnet.org/autoconf.json"))?;
            }
            Ok(())
        },
    },
    Profile {
        name: "badgerds",
        description: "Not supported by rubo (Kubo's deprecated badger datastore).",
        init_only: true,
        transform: no_badger,
    },
    Profile {
        name: "badgerds-measure",
        description: "Not supported by rubo (Kubo's deprecated badger datastore).",
        init_only: true,
        transform: no_badger,
    },
    Profile {
        name: "default-datastore",
        description: "Uses the default datastore: flatfs for blocks, redb for the rest.\n\
            This profile may only be applied when initializing a repo.",
        init_only: true,
        transform: |d| set(d, "Datastore.Spec", default_datastore_spec()),
    },
    Profile {
        name: "default-networking",
        description: "Restores default network settings.\nInverse profile of the test profile.",
        init_only: false,
        transform: |d| {
            set(d, "Addresses", default_addresses())?;
            set(d, "Bootstrap", json!(["auto"]))?;
            remove(d, "AutoConf.Enabled");
            remove(d, "AutoConf.URL");
            set(d, "Swarm.DisableNatPortMap", json!(false))?;
            set(d, "Discovery.MDNS.Enabled", json!(true))?;
            remove(d, "AutoTLS.Enabled");
            Ok(())
        },
    },
    Profile {
        name: "flatfs",
        description: "Stores blocks in flatfs, one file per block, in Kubo's layout (the default).\n\
            Durable, simple, and garbage collection frees space at once.\n\
            This profile may only be applied when initializing a repo.",
        init_only: true,
        transform: |d| set(d, "Datastore.Spec", default_datastore_spec()),
    },
    Profile {
        name: "flatfs-measure",
        description: "Same as flatfs (rubo always measures its datastores).\n\
            This profile may only be applied when initializing a repo.",
        init_only: true,
        transform: |d| set(d, "Datastore.Spec", default_datastore_spec()),
    },
    Profile {
        name: "legacy-cid-v0",
        description: "Alias for the unixfs-v0-2015 profile.",
        init_only: false,
        transform: |d| unixfs(d, false),
    },
    Profile {
        name: "local-discovery",
        description: "Sets default values to fields affected by the server\n\
            profile, enables discovery in local networks.",
        init_only: false,
        transform: |d| {
            delete_filters(d, "Addresses.NoAnnounce")?;
            delete_filters(d, "Swarm.AddrFilters")?;
            set(d, "Discovery.MDNS.Enabled", json!(true))?;
            set(d, "Swarm.DisableNatPortMap", json!(false))
        },
    },
    Profile {
        name: "lowpower",
        description: "Reduces daemon overhead on the system. May affect node\n\
            functionality: content discovery and data fetching may be slower.",
        init_only: false,
        transform: |d| {
            set(d, "Routing.Type", json!("autoclient"))?;
            set(d, "AutoNAT.ServiceMode", json!("disabled"))?;
            set(d, "Swarm.RelayService.Enabled", json!(false))?;
            set(d, "Swarm.ConnMgr.Type", json!("basic"))?;
            set(d, "Swarm.ConnMgr.LowWater", json!(20))?;
            set(d, "Swarm.ConnMgr.HighWater", json!(40))?;
            set(d, "Swarm.ConnMgr.GracePeriod", json!("1m0s"))
        },
    },
    Profile {
        name: "pebbleds",
        description: "Not supported by rubo (Kubo's pebble datastore).",
        init_only: true,
        transform: no_pebble,
    },
    Profile {
        name: "pebbleds-measure",
        description: "Not supported by rubo (Kubo's pebble datastore).",
        init_only: true,
        transform: no_pebble,
    },
    Profile {
        name: "randomports",
        description: "Use a random port number for swarm.",
        init_only: false,
        transform: |d| {
            let p = free_port()?;
            set(d, "Addresses.Swarm", json!([format!("/ip4/0.0.0.0/tcp/{p}"), format!("/ip6/::/tcp/{p}")]))
        },
    },
    Profile {
        name: "server",
        description: "Disables local host discovery, recommended when\n\
            running on machines with public IPv4 addresses.",
        init_only: false,
        transform: |d| {
            append_filters(d, "Addresses.NoAnnounce")?;
            append_filters(d, "Swarm.AddrFilters")?;
            set(d, "Discovery.MDNS.Enabled", json!(false))?;
            set(d, "Swarm.DisableNatPortMap", json!(true))
        },
    },
    Profile {
        name: "test",
        description: "Reduces external interference of the daemon: loopback\n\
            addresses on random ports, no bootstrap peers, no discovery. For tests.",
        init_only: false,
        transform: |d| {
            set(d, "Addresses.API", json!("/ip4/127.0.0.1/tcp/0"))?;
            set(d, "Addresses.Gateway", json!("/ip4/127.0.0.1/tcp/0"))?;
            set(d, "Addresses.Swarm", json!(["/ip4/127.0.0.1/tcp/0"]))?;
            set(d, "Swarm.DisableNatPortMap", json!(true))?;
            set(d, "Routing.LoopbackAddressesOnLanDHT", json!(true))?;
            set(d, "Bootstrap", json!([]))?;
            set(d, "Discovery.MDNS.Enabled", json!(false))?;
            set(d, "AutoTLS.Enabled", json!(false))?;
            set(d, "AutoConf.Enabled", json!(false))?;
            set(d, "DNS.Resolvers", json!({}))?;
            set(d, "Routing.DelegatedRouters", json!([]))?;
            set(d, "Ipns.DelegatedPublishers", json!([]))
        },
    },
    Profile {
        name: "unixfs-v0-2015",
        description: "Legacy UnixFS import settings for backward-compatible CIDs: CIDv0, no raw\n\
            leaves, sha2-256, 256 KiB chunks, 174 links per node, link-based HAMT size\n\
            estimation (IPIP-499). Alias: legacy-cid-v0",
        init_only: false,
        transform: |d| unixfs(d, false),
    },
    Profile {
        name: "unixfs-v1-2025",
        description: "Recommended UnixFS import settings for cross-implementation CID determinism:\n\
            CIDv1, raw leaves, sha2-256, 1 MiB chunks, 1024 links per file node, HAMT\n\
            fanout 256 with block-based size estimation (IPIP-499).",
        init_only: false,
        transform: |d| unixfs(d, true),
    },
];

/// Applies a profile to a config document. `initializing` allows the
/// init-only (layout-changing) profiles.
pub fn apply_profile(doc: &mut Value, name: &str, initializing: bool) -> Result<(), ConfigError> {
    let p = PROFILES.iter().find(|p| p.name == name).ok_or_else(|| ConfigError::UnknownProfile(name.to_string()))?;
    let before = doc.pointer("/Datastore/Spec").cloned();
    (p.transform)(doc)?;
    if p.init_only && !initializing && doc.pointer("/Datastore/Spec").cloned() != before {
        return Err(ConfigError::Profile(format!(
            "profile {name} changes the datastore layout and may only be applied when \
             initializing a repo ('rubo init --profile {name}')"
        )));
    }
    super::schema::validate(doc).map_err(ConfigError::Invalid)
}

#[cfg(test)]
mod tests {
    use super::super::default_config;
    use super::*;

    #[test]
    fn test_profile_is_loopback_only() {
        let mut d = default_config("x", "y");
        apply_profile(&mut d, "test", true).unwrap();
        assert_eq!(d.pointer("/Addresses/Swarm"), Some(&json!(["/ip4/127.0.0.1/tcp/0"])));
        assert_eq!(d.pointer("/Bootstrap"), Some(&json!([])));
        assert_eq!(d.pointer("/Discovery/MDNS/Enabled"), Some(&json!(false)));
        assert_eq!(d.pointer("/AutoConf/Enabled"), Some(&json!(false)));
    }

    #[test]
    fn server_then_local_discovery() {
        let mut d = default_config("x", "y");
        apply_profile(&mut d, "server", false).unwrap();
        assert_eq!(d.pointer("/Swarm/AddrFilters").unwrap().as_array().unwrap().len(), 19);
        apply_profile(&mut d, "server", false).unwrap();
        assert_eq!(d.pointer("/Swarm/AddrFilters").unwrap().as_array().unwrap().len(), 19);
        apply_profile(&mut d, "local-discovery", false).unwrap();
        assert_eq!(d.pointer("/Swarm/AddrFilters"), Some(&json!([])));
    }

    #[test]
    fn unknown_and_unsupported() {
        let mut d = default_config("x", "y");
        assert_eq!(apply_profile(&mut d, "nope", true).unwrap_err().to_string(), "nope is not a profile");
        assert!(apply_profile(&mut d, "pebbleds", true).is_err());
        // Same layout: allowed after init too.
        apply_profile(&mut d, "flatfs", false).unwrap();
        apply_profile(&mut d, "unixfs-v1-2025", false).unwrap();
        assert_eq!(d.pointer("/Import/CidVersion"), Some(&json!(1)));
    }

    #[test]
    fn names_sorted_and_unique() {
        let names: Vec<&str> = PROFILES.iter().map(|p| p.name).collect();
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(names, sorted);
    }
}
