//! The gateway over a fresh repo holding one directory from disk, for
//! `bench/gateway`: `bench_server <repo> <dir> <port>` imports `<dir>`
//! (flat: regular files only), prints its root CID, and serves until killed.

use std::io::Write;

use rubo_node::rubo_repo::InitOptions;
use rubo_node::rubo_unixfs::import::{Entry, EntryKind};
use rubo_node::{AddEvent, AddOptions, LockMode, Node, NodeError, Repo};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, repo, dir, port] = args.as_slice() else {
        return Err("usage: bench_server <repo> <dir> <port>".into());
    };
    let repo = std::path::Path::new(repo);
    Repo::init(repo, &InitOptions { profiles: vec!["test".into()], ..Default::default() })?;
    let node = Node::open(repo, LockMode::Exclusive, "bench")?;
    let mut names: Vec<_> = std::fs::read_dir(dir)?.filter_map(|e| e.ok()).map(|e| e.file_name()).collect();
    names.sort();
    let mut entries: Vec<Result<Entry, NodeError>> =
        vec![Ok(Entry { path: "site".into(), kind: EntryKind::Dir, mode: None, mtime: None })];
    for n in names {
        let f = std::fs::File::open(std::path::Path::new(dir).join(&n))?;
        let path = format!("site/{}", n.to_string_lossy());
        entries.push(Ok(Entry { path: path.into(), kind: EntryKind::File(Box::new(f)), mode: None, mtime: None }));
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async move {
        let opts = AddOptions {
            import: Default::default(),
            wrap: false,
            only_hash: false,
            threads: 0,
            pin: Some(String::new()),
        };
        let mut rx = node.unixfs().add(Box::new(entries.into_iter()), opts);
        let mut root = None;
        while let Some(ev) = rx.recv().await {
            if let AddEvent::Added { path, cid, .. } = ev?
                && path == "site"
            {
                root = Some(cid);
            }
        }
        let root = root.ok_or("no root")?;
        println!("{root}");
        std::io::stdout().flush()?;
        let l = tokio::net::TcpListener::bind(("127.0.0.1", port.parse::<u16>()?)).await?;
        let cfg = rubo_gateway::GatewayConfig::from_config(node.repo().config().doc())?;
        rubo_gateway::serve(l, node, cfg, std::future::pending()).await?;
        Ok::<(), Box<dyn std::error::Error>>(())
    })
}
