//! `rubo daemon`'s lifecycle, as Kubo's: the start lines, the `api` and
//! `gateway` files, `--init`, the repo lock, `rubo shutdown` and signals, a
//! stale `api` file, `--api`, `--offline`, commands that need the repo to
//! themselves, `--enable-gc`, `log level` and the Prometheus metrics. Every
//! daemon runs on a `test`-profile repo inside a private network namespace
//! (`in_netns`).

mod common;

use std::time::{Duration, Instant};

use common::TestRepo;
use common::daemon::{Daemon, http_get};
use common::peers::in_netns;

/// Kubo's error for a command that needs the network on an offline node.
const OFFLINE: &str = "Error: this command must be run in online mode. Try running 'rubo daemon' first\n";

/// Kubo's error when `--api` names an address where no daemon answers
/// (go-ipfs-cmds' client; `$IPFS_PATH` is `$RUBO_PATH` here).
const CANNOT_CONNECT: &str = "Error: cannot connect to the api. Is the daemon running? \
                              To run as a standalone CLI command remove the api file in `$RUBO_PATH/api`\n";

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The port in a `.../tcp/<port>` multiaddr or a `host:port`.
fn port_of(s: &str) -> u16 {
    s.rsplit(['/', ':']).next().and_then(|p| p.parse().ok()).unwrap_or_else(|| panic!("no port in {s:?}"))
}

/// Polls `cond` every 100 ms until it holds; panics past `bound` (an upper
/// bound for slow machines, never a delay).
fn wait_until(what: &str, bound: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + bound;
    while !cond() {
        assert!(Instant::now() < deadline, "{what}: not within {bound:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// What the daemon wrote on stderr.
fn stderr_lines(d: &Daemon) -> Vec<&str> {
    d.output.iter().filter_map(|l| l.strip_prefix("stderr: ")).collect()
}

fn assert_no_panic(d: &Daemon) {
    let err = stderr_lines(d).join("\n");
    assert!(!err.contains("panicked"), "the daemon panicked:\n{err}");
}

/// The daemon is gone and has left the repo as a local command needs it:
/// no `api` nor `gateway` file, the lock free, `repo stat` running here.
fn assert_released(repo: &TestRepo) {
    assert!(!repo.path().join("api").exists(), "the api file outlived the daemon");
    assert!(!repo.path().join("gateway").exists(), "the gateway file outlived the daemon");
    assert!(!common::flock_held(&repo.path().join("repo.lock")), "the repo lock outlived the daemon");
    let out = repo.run(&["repo", "stat"]);
    assert!(out.status.success(), "local repo stat after the daemon: {}", text(&out.stderr));
    assert!(text(&out.stdout).contains(&format!("RepoPath:   {}\n", repo.path().display())), "{}", text(&out.stdout));
}

#[test]
fn start_lines_api_and_gateway_files() {
    in_netns("start_lines_api_and_gateway_files", || {
        let repo = TestRepo::new();
        let peer = repo.ok(&["config", "Identity.PeerID"]);
        let mut d = Daemon::start(&repo, &[]);
        let out: Vec<&str> = d.output.iter().map(String::as_str).collect();
        // Kubo's order: banner, versions, identity, swarm, API, gateway, ready.
        assert_eq!(out[0], "Initializing daemon...");
        assert_eq!(out[1], format!("rubo version: {}", env!("CARGO_PKG_VERSION")));
        assert_eq!(out[2], "Repo version: 1");
        assert!(out[3].starts_with("System version: ") && out[3].contains('/'), "{}", out[3]);
        assert!(out[4].starts_with("Rust version: rustc "), "{}", out[4]);
        assert_eq!(out[5], format!("PeerID: {peer}"));
        assert_eq!(d.peer_id(), peer);
        // The test profile listens on 127.0.0.1, TCP port 0: the bound port is printed.
        let swarm: Vec<&str> = out.iter().copied().filter(|l| l.starts_with("Swarm listening on ")).collect();
        assert_eq!(swarm.len(), 1, "{out:?}");
        let sw = swarm[0].strip_prefix("Swarm listening on 127.0.0.1:").and_then(|s| s.strip_suffix(" (TCP)"));
        assert!(sw.and_then(|p| p.parse::<u16>().ok()).is_some_and(|p| p != 0), "{}", swarm[0]);
        let rpc = out.iter().find_map(|l| l.strip_prefix("RPC API server listening on ")).expect("RPC API line");
        let gw = out.iter().find_map(|l| l.strip_prefix("Gateway server listening on ")).expect("gateway line");
        let pos = |p: &str| out.iter().position(|l| l.starts_with(p)).unwrap();
        assert!(pos("PeerID") < pos("Swarm listening") && pos("Swarm listening") < pos("RPC API"), "{out:?}");
        assert!(pos("RPC API") < pos("Gateway server"), "{out:?}");
        assert_eq!(out.last(), Some(&"Daemon is ready"));
        assert!(rpc.starts_with("/ip4/127.0.0.1/tcp/") && port_of(rpc) != 0, "{rpc}");
        assert!(gw.starts_with("/ip4/127.0.0.1/tcp/") && port_of(gw) != 0, "{gw}");

        // `api`: the RPC multiaddr with the real port, no newline (Kubo's file).
        assert_eq!(std::fs::read_to_string(repo.path().join("api")).unwrap(), rpc);
        // It answers, from anywhere: here from a directory with no repo at all.
        let elsewhere = TestRepo::uninit();
        let out = elsewhere.run(&["--api", rpc, "id", "-f", "<id>"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_eq!(text(&out.stdout), peer);
        // Through the api file.
        assert_eq!(repo.ok(&["id", "-f", "<id>"]), peer);

        // `gateway`: the gateway's URL, which serves what the node has.
        let gw_url = std::fs::read_to_string(repo.path().join("gateway")).unwrap();
        assert_eq!(gw_url, format!("http://127.0.0.1:{}", port_of(gw)));
        let cid = repo.ok_stdin(&["add", "-q"], b"served by the gateway\n");
        let (status, body) = http_get(gw_url.strip_prefix("http://").unwrap(), &format!("/ipfs/{cid}"));
        assert_eq!(status, 200);
        assert_eq!(body, b"served by the gateway\n");

        assert!(d.stop().success());
        assert_no_panic(&d);
        assert_released(&repo);
    });
}

#[test]
fn init_on_an_empty_repo() {
    in_netns("init_on_an_empty_repo", || {
        // Without --init, an empty RUBO_PATH is an error (Kubo: "no IPFS repo found").
        let repo = TestRepo::uninit();
        let out = repo.run(&["daemon"]);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
        assert!(text(&out.stderr).starts_with("Error: no rubo repo found in "), "{}", text(&out.stderr));
        assert!(!repo.path().join("config").exists());

        let mut d = Daemon::start(&repo, &["--init", "--init-profile", "test"]);
        let out = d.output.join("\n");
        assert!(out.contains(&format!("initializing rubo node at {}", repo.path().display())), "{out}");
        let identity =
            d.output.iter().find_map(|l| l.strip_prefix("peer identity: ")).expect("identity line").to_string();
        assert_eq!(d.peer_id(), identity);
        assert_eq!(repo.ok(&["id", "-f", "<id>"]), identity);
        // The test profile: loopback only, no bootstrap peers.
        assert_eq!(repo.ok(&["config", "Addresses.API"]), "/ip4/127.0.0.1/tcp/0");
        assert_eq!(repo.ok(&["bootstrap", "list"]), "");
        let cid = repo.ok_stdin(&["add", "-q"], b"a new node\n");
        assert!(d.stop().success());
        assert_released(&repo);

        // The next start finds the repo (and --init leaves it alone).
        let d = Daemon::start(&repo, &["--init"]);
        assert!(!d.output.iter().any(|l| l.starts_with("initializing")), "{:?}", d.output);
        assert_eq!(d.peer_id(), identity);
        assert_eq!(repo.ok(&["cat", &cid]), "a new node");
    });
}

#[test]
fn second_daemon_fails_naming_the_holder() {
    in_netns("second_daemon_fails_naming_the_holder", || {
        let repo = TestRepo::new();
        let mut d = Daemon::start(&repo, &[]);
        // Fails at once (it does not wait for the lock), exit 1.
        let out = repo.run(&["daemon"]);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
        let err = text(&out.stderr);
        assert!(err.starts_with("Error: "), "{err}");
        assert!(err.contains("locked by another rubo process"), "{err}");
        assert!(err.contains(&format!("pid {}", d.pid())), "the holder's pid: {err}");
        assert!(err.contains("rubo daemon"), "the holder's command: {err}");
        assert!(!text(&out.stdout).contains("Daemon is ready"));
        // The first one is undisturbed: it answers, and its files are its own.
        assert_eq!(std::fs::read_to_string(repo.path().join("api")).unwrap(), d.api);
        assert_eq!(repo.ok(&["id", "-f", "<id>"]), d.peer_id());
        assert!(d.stop().success());
        assert_released(&repo);
    });
}

#[test]
fn shutdown_command_stops_cleanly() {
    in_netns("shutdown_command_stops_cleanly", || {
        let repo = TestRepo::new();
        // Without a daemon: Kubo's "daemon not running".
        let out = repo.run(&["shutdown"]);
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(text(&out.stderr), "Error: daemon not running\n");
        assert!(out.stdout.is_empty());

        let mut d = Daemon::start(&repo, &[]);
        let cid = repo.ok_stdin(&["add", "-q"], b"kept across restarts\n");
        let out = repo.run(&["shutdown"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(out.stdout.is_empty() && out.stderr.is_empty(), "shutdown prints nothing");
        let st = d.wait_exit(Duration::from_secs(60));
        assert_eq!(st.code(), Some(0), "{:?}", d.output);
        assert!(d.output.iter().any(|l| l == "Received interrupt signal, shutting down..."), "{:?}", d.output);
        assert_no_panic(&d);
        // At the default level the log is quiet.
        assert!(stderr_lines(&d).is_empty(), "{:?}", stderr_lines(&d));
        assert_released(&repo);
        assert_eq!(repo.ok(&["cat", &cid]), "kept across restarts");
        // No daemon again.
        assert_eq!(text(&repo.run(&["shutdown"]).stderr), "Error: daemon not running\n");
    });
}

#[test]
fn signals_stop_cleanly() {
    in_netns("signals_stop_cleanly", || {
        let repo = TestRepo::new();
        for sig in ["TERM", "INT"] {
            let mut d = Daemon::start(&repo, &[]);
            repo.ok_stdin(&["add", "-q"], sig.as_bytes());
            d.signal(sig);
            let st = d.wait_exit(Duration::from_secs(60));
            assert_eq!(st.code(), Some(0), "SIG{sig}: {:?}", d.output);
            assert!(
                d.output.iter().any(|l| l == "Received interrupt signal, shutting down..."),
                "SIG{sig}: {:?}",
                d.output
            );
            assert_no_panic(&d);
            assert_released(&repo);
        }
    });
}

#[test]
fn stale_api_file_runs_locally_and_a_dead_api_fails() {
    in_netns("stale_api_file_runs_locally_and_a_dead_api_fails", || {
        let repo = TestRepo::new();
        let mut d = Daemon::start(&repo, &[]);
        let cid = repo.ok_stdin(&["add", "-q"], b"written through the daemon\n");
        let api = d.api.clone();
        // SIGKILL: nothing is cleaned up, the api file stays.
        d.signal("KILL");
        let st = d.wait_exit(Duration::from_secs(60));
        assert_eq!(st.code(), None, "killed by a signal");
        assert_eq!(std::fs::read_to_string(repo.path().join("api")).unwrap(), api, "the api file is stale");
        // The kernel released the lock with the process.
        assert!(!common::flock_held(&repo.path().join("repo.lock")));

        // The CLI finds no daemon there and runs commands here, quietly: reads...
        let out = repo.run(&["cat", &cid]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_eq!(text(&out.stdout), "written through the daemon\n");
        assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
        // ...and writes, which take the repo lock.
        let cid2 = repo.ok_stdin(&["add", "-q"], b"written locally\n");
        assert_eq!(repo.ok(&["pin", "ls", "--type=recursive", "-q", &cid2]), cid2);
        let out = repo.run(&["repo", "stat"]);
        assert!(out.status.success() && out.stderr.is_empty(), "{}", text(&out.stderr));

        // `--api` names a daemon explicitly: no fallback, Kubo's error.
        let out = repo.run(&["--api", &api, "cat", &cid]);
        assert_eq!(out.status.code(), Some(1));
        assert!(out.stdout.is_empty());
        assert_eq!(text(&out.stderr), CANNOT_CONNECT);
        // Also from a directory without a repo.
        let elsewhere = TestRepo::uninit();
        assert_eq!(elsewhere.fails(&["--api", &api, "id"]), CANNOT_CONNECT);
        // A malformed address is named.
        let err = repo.fails(&["--api", "not-a-multiaddr", "id"]);
        assert!(err.starts_with("Error: ") && err.contains("not-a-multiaddr"), "{err}");

        // A new daemon replaces the stale file.
        let d = Daemon::start(&repo, &[]);
        assert_ne!(d.api, api, "a new port");
        assert_eq!(repo.ok(&["cat", &cid2]), "written locally");
    });
}

#[test]
fn offline_daemon() {
    in_netns("offline_daemon", || {
        let repo = TestRepo::new();
        let mut d = Daemon::start(&repo, &["--offline"]);
        assert!(d.output.iter().any(|l| l == "Swarm not listening, running in offline mode."), "{:?}", d.output);
        assert!(!d.output.iter().any(|l| l.starts_with("Swarm listening on")), "{:?}", d.output);
        assert!(d.output.iter().any(|l| l.starts_with("RPC API server listening on ")));
        // The network commands answer Kubo's offline error, through the daemon.
        let out = repo.run(&["swarm", "peers"]);
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(text(&out.stderr), OFFLINE);
        assert_eq!(repo.fails(&["swarm", "addrs", "local"]), OFFLINE);
        // The rest works: the daemon holds the repo.
        let cid = repo.ok_stdin(&["add", "-q"], b"offline\n");
        assert_eq!(repo.ok(&["cat", &cid]), "offline");
        assert_eq!(repo.ok(&["id", "-f", "<id>"]), d.peer_id());
        let sys: serde_json::Value = serde_json::from_str(&repo.ok(&["diag", "sys"])).unwrap();
        assert_eq!(sys["net"]["online"], false);
        assert!(repo.ok(&["repo", "stat"]).contains("NumObjects:"));
        assert!(common::flock_held(&repo.path().join("repo.lock")));
        assert!(d.stop().success());
        assert_released(&repo);
    });
}

/// Runs `args` with the `api` file hidden: the CLI then opens the repo
/// itself, and the daemon's lock refuses it.
fn fails_locked(repo: &TestRepo, d: &Daemon, args: &[&str], stdin: &[u8]) {
    let api = repo.path().join("api");
    let hidden = repo.path().join("api.hidden");
    std::fs::rename(&api, &hidden).unwrap();
    let err = repo.fails_stdin(args, stdin);
    std::fs::rename(&hidden, &api).unwrap();
    assert!(err.contains("locked by another rubo process"), "rubo {args:?} locally: {err}");
    assert!(err.contains(&format!("pid {}", d.pid())), "{err}");
}

#[test]
fn exclusive_commands_run_inside_the_daemon() {
    in_netns("exclusive_commands_run_inside_the_daemon", || {
        let repo = TestRepo::new();
        let d = Daemon::start(&repo, &[]);
        let work = tempfile::tempdir().unwrap();
        let file = work.path().join("f.txt");
        std::fs::write(&file, b"from a file argument\n").unwrap();
        let file = file.to_str().unwrap();

        // `add`, from stdin and from a file: each would need the repo to itself.
        fails_locked(&repo, &d, &["add", "-q"], b"stdin\n");
        let a = repo.ok_stdin(&["add", "-q"], b"stdin\n");
        fails_locked(&repo, &d, &["add", "-q", file], b"");
        let f = repo.ok(&["add", "-q", file]);
        assert_eq!(repo.ok(&["cat", &f]), "from a file argument");

        // `pin add` of a block put unpinned.
        let b = repo.ok_stdin(&["block", "put"], b"an unpinned block");
        fails_locked(&repo, &d, &["pin", "add", &b], b"");
        assert_eq!(repo.ok(&["pin", "add", &b]), format!("pinned {b} recursively"));
        assert_eq!(repo.ok(&["pin", "ls", "-q", &b]), b);

        // `repo gc` removes what nothing pins, the daemon's blocks included.
        let loose = repo.ok_stdin(&["block", "put"], b"garbage");
        fails_locked(&repo, &d, &["repo", "gc"], b"");
        let removed = repo.ok(&["repo", "gc", "-q"]);
        assert!(removed.lines().any(|l| l == loose), "{removed}");
        assert!(!repo.ok(&["refs", "local"]).lines().any(|l| l == loose));
        assert_eq!(repo.ok(&["cat", &a]), "stdin");

        // `files write` (and `files mkdir`), read back through the daemon.
        fails_locked(&repo, &d, &["files", "write", "--create", "/x.txt"], b"mfs\n");
        repo.ok(&["files", "mkdir", "/dir"]);
        let out = repo.run_stdin(&["files", "write", "--create", "/dir/x.txt"], b"mfs\n");
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_eq!(repo.ok(&["files", "read", "/dir/x.txt"]), "mfs");
        assert_eq!(repo.ok(&["files", "ls", "/dir"]), "x.txt");

        // `config K V` writes the config: through the daemon too.
        fails_locked(&repo, &d, &["config", "Datastore.StorageMax", "11GB"], b"");
        assert_eq!(repo.ok(&["config", "Datastore.StorageMax", "11GB"]), "");
        assert_eq!(repo.ok(&["config", "Datastore.StorageMax"]), "11GB");
        drop(d);
    });
}

#[test]
fn periodic_gc_collects_unpinned_blocks() {
    in_netns("periodic_gc_collects_unpinned_blocks", || {
        let repo = TestRepo::new();
        // Collect every second once the repo uses more than 90% of 1 KB:
        // at once, since the datastore alone is larger.
        repo.ok(&["config", "Datastore.GCPeriod", "1s"]);
        repo.ok(&["config", "Datastore.StorageMax", "1KB"]);
        let mut d = Daemon::start(&repo, &["--enable-gc"]);
        let pinned = repo.ok_stdin(&["add", "-q"], b"pinned, so kept\n");
        let loose = repo.ok_stdin(&["block", "put"], b"unpinned, so collected");
        let mfs = repo.ok_stdin(&["block", "put"], b"reachable from MFS");
        let out = repo.run(&["files", "cp", &format!("/ipfs/{pinned}"), "/kept"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let local = || repo.ok(&["refs", "local"]);
        wait_until("GC removes the unpinned block", Duration::from_secs(120), || !local().lines().any(|l| l == loose));
        let left = local();
        assert!(left.lines().any(|l| l == pinned || rubo_cid_v1(l, &pinned)), "{left}");
        assert!(!left.lines().any(|l| l == mfs), "{left}");
        assert_eq!(repo.ok(&["cat", &pinned]), "pinned, so kept");
        assert_eq!(repo.ok(&["files", "read", "/kept"]), "pinned, so kept");
        assert!(d.stop().success());
        assert_no_panic(&d);
    });
}

/// Whether `refs local`'s `line` (CIDv1, raw codec for leaves) names the
/// same multihash as `cid`.
fn rubo_cid_v1(line: &str, cid: &str) -> bool {
    let a = rubo_types::parse_cid(line);
    let b = rubo_types::parse_cid(cid);
    matches!((a, b), (Ok(a), Ok(b)) if a.hash() == b.hash())
}

#[test]
fn gc_period_zero_disables_periodic_gc() {
    in_netns("gc_period_zero_disables_periodic_gc", || {
        // Kubo: "if duration is 0, it means GC is disabled".
        let repo = TestRepo::new();
        repo.ok(&["config", "Datastore.GCPeriod", "0"]);
        repo.ok(&["config", "Datastore.StorageMax", "1KB"]);
        let mut d = Daemon::start(&repo, &["--enable-gc"]);
        let loose = repo.ok_stdin(&["block", "put"], b"not collected");
        assert!(repo.ok(&["refs", "local"]).lines().any(|l| l == loose));
        assert!(d.stop().success());
        assert_no_panic(&d);
    });
}

#[test]
fn log_level_through_the_daemon() {
    in_netns("log_level_through_the_daemon", || {
        let repo = TestRepo::new();
        // Kubo's NoLocal: without a daemon there is no log to change.
        assert_eq!(
            repo.fails(&["log", "level", "all", "debug"]),
            "Error: command must be run on the daemon: [log level]\n"
        );
        let mut d = Daemon::start(&repo, &[]);
        let subsystems = repo.ok(&["log", "ls"]);
        assert!(subsystems.lines().any(|l| l == "rubo_net"), "{subsystems}");
        assert_eq!(repo.ok(&["log", "level", "all", "debug"]), "Changed log level of '*' to 'debug'");
        assert_eq!(
            repo.ok(&["log", "level", "all", "debug", "--enc=json"]),
            r#"{"Message":"Changed log level of '*' to 'debug'\n"}"#
        );
        let err = repo.fails(&["log", "level", "all", "loud"]);
        assert!(err.starts_with("Error: "), "{err}");
        // The daemon now logs at debug: its network says so as it stops.
        assert!(d.stop().success());
        let err = stderr_lines(&d);
        assert!(err.iter().any(|l| l.contains("DEBUG")), "no debug lines: {err:?}");
        assert_no_panic(&d);
    });
}

fn metrics(d: &Daemon) -> String {
    let (status, body) = http_get(&d.api_socket(), "/debug/metrics/prometheus");
    assert_eq!(status, 200);
    text(&body)
}

fn gauge(body: &str, name: &str) -> Option<String> {
    body.lines().find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(' ')).map(str::to_string))
}

#[test]
fn prometheus_metrics() {
    in_netns("prometheus_metrics", || {
        let repo = TestRepo::new();
        let d = Daemon::start(&repo, &[]);
        let body = metrics(&d);
        let info = body.lines().find(|l| l.starts_with("ipfs_info{")).unwrap_or_else(|| panic!("ipfs_info: {body}"));
        assert!(info.contains(&format!("version=\"{}\"", env!("CARGO_PKG_VERSION"))), "{info}");
        assert!(info.ends_with("} 1"), "{info}");
        assert_eq!(gauge(&body, "ipfs_p2p_peers_total").as_deref(), Some("0"), "{body}");

        // A peer connects: the gauge follows.
        let other = TestRepo::new();
        let d2 = Daemon::start(&other, &[]);
        let port = d2
            .output
            .iter()
            .find_map(|l| l.strip_prefix("Swarm listening on 127.0.0.1:").and_then(|s| s.strip_suffix(" (TCP)")))
            .expect("swarm address")
            .to_string();
        let addr = format!("/ip4/127.0.0.1/tcp/{port}/p2p/{}", d2.peer_id());
        assert_eq!(repo.ok(&["swarm", "connect", &addr]), format!("connect {} success", d2.peer_id()));
        wait_until("ipfs_p2p_peers_total 1", Duration::from_secs(60), || {
            gauge(&metrics(&d), "ipfs_p2p_peers_total").as_deref() == Some("1")
        });
        drop(d2);
        wait_until("ipfs_p2p_peers_total 0", Duration::from_secs(60), || {
            gauge(&metrics(&d), "ipfs_p2p_peers_total").as_deref() == Some("0")
        });
        // Not under the API's POST rule: a GET answers, and the API is still there.
        assert_eq!(repo.ok(&["id", "-f", "<id>"]), d.peer_id());
    });
}
