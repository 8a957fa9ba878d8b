//! A `rubo daemon` child process for tests: started on a test-profile repo
//! inside a private network namespace, ready once it prints "Daemon is
//! ready", stopped with SIGTERM (killed if it does not stop).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use super::TestRepo;

pub(crate) struct Daemon {
    pub(crate) child: Child,
    lines: Receiver<String>,
    /// Every stdout line so far.
    pub(crate) output: Vec<String>,
    /// The API multiaddr from `$RUBO_PATH/api`.
    pub(crate) api: String,
}

impl Daemon {
    /// Starts `rubo daemon` with `args` on `repo` and waits until it is ready.
    pub(crate) fn start(repo: &TestRepo, args: &[&str]) -> Self {
        assert!(super::peers::isolated(), "daemons may only start inside a private network namespace");
        let mut cmd = repo.cmd(&[&["daemon"], args].concat());
        // The daemon logs as RUBO_TEST_LOG says (shown when a test fails).
        if let Ok(f) = std::env::var("RUBO_TEST_LOG") {
            cmd.env("RUST_LOG", f);
        }
        let mut child =
            cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("start rubo daemon");
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, lines) = channel();
        let tx2 = tx.clone();
        std::thread::spawn(move || {
            for l in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
        std::thread::spawn(move || {
            for l in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx2.send(format!("stderr: {l}")).is_err() {
                    break;
                }
            }
        });
        let mut d = Self { child, lines, output: Vec::new(), api: String::new() };
        d.wait_for("Daemon is ready", Duration::from_secs(60));
        d.api = std::fs::read_to_string(repo.path().join("api")).expect("the api file exists once the daemon is ready");
        d
    }

    /// Waits for an output line containing `what`; panics with the output so
    /// far past `timeout` (an upper bound, never a delay).
    pub(crate) fn wait_for(&mut self, what: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) => {
                    self.output.push(l.clone());
                    if l.contains(what) {
                        return l;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    let _ = self.child.kill();
                    panic!("daemon did not print {what:?} within {timeout:?}; output:\n{}", self.output.join("\n"));
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("daemon exited before printing {what:?}; output:\n{}", self.output.join("\n"));
                }
            }
        }
    }

    /// The PeerID line's value.
    pub(crate) fn peer_id(&self) -> String {
        self.output
            .iter()
            .find_map(|l| l.strip_prefix("PeerID: "))
            .map(str::to_string)
            .expect("the daemon prints its PeerID")
    }

    /// The daemon's process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends `signal` (`TERM`, `INT`, `KILL`...) to the daemon.
    pub(crate) fn signal(&self, signal: &str) {
        let st = Command::new("kill").arg(format!("-{signal}")).arg(self.pid().to_string()).status().expect("kill");
        assert!(st.success(), "kill -{signal} failed");
    }

    /// The API's `host:port`, from the `api` multiaddr.
    pub(crate) fn api_socket(&self) -> String {
        let parts: Vec<&str> = self.api.split('/').collect();
        match parts.as_slice() {
            ["", "ip4", host, "tcp", port] => format!("{host}:{port}"),
            _ => panic!("unexpected api address {:?}", self.api),
        }
    }

    /// Sends SIGTERM and waits for a clean exit; returns the exit status.
    pub(crate) fn stop(&mut self) -> std::process::ExitStatus {
        self.signal("TERM");
        self.wait_exit(Duration::from_secs(60))
    }

    /// Waits for the process to end (after `rubo shutdown`, a signal...).
    pub(crate) fn wait_exit(&mut self, timeout: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(st)) = self.child.try_wait() {
                // Collect what it printed on the way out: the readers end
                // when the pipes close.
                while let Ok(l) = self.lines.recv_timeout(Duration::from_secs(10)) {
                    self.output.push(l);
                }
                return st;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("daemon did not exit within {timeout:?}; output:\n{}", self.output.join("\n"));
            }
            // Drain output while waiting; the receive timeout paces the loop.
            if let Ok(l) = self.lines.recv_timeout(Duration::from_millis(50)) {
                self.output.push(l);
            }
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        // A failed test shows what the daemon logged (RUST_LOG reaches it).
        if std::thread::panicking() {
            // The readers end with the pipes (the process is gone): bounded.
            while let Ok(l) = self.lines.recv_timeout(Duration::from_secs(5)) {
                self.output.push(l);
            }
            let tail = self.output.len().saturating_sub(200);
            eprintln!("---- daemon output (last 200 lines) ----\n{}", self.output[tail..].join("\n"));
        }
    }
}

/// A plain HTTP/1.1 GET (no client library): the status and the body
/// (chunked bodies decoded).
pub(crate) fn http_get(host_port: &str, path: &str) -> (u16, Vec<u8>) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(host_port).unwrap_or_else(|e| panic!("connect {host_port}: {e}"));
    s.set_read_timeout(Some(Duration::from_secs(60))).expect("timeout");
    write!(s, "GET {path} HTTP/1.1\r\nHost: {host_port}\r\nConnection: close\r\n\r\n").expect("send");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read response");
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("end of headers");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut body = raw[split + 4..].to_vec();
    let status = head.split(' ').nth(1).and_then(|c| c.parse().ok()).expect("status code");
    if head.lines().any(|l| l.to_ascii_lowercase().starts_with("transfer-encoding: chunked")) {
        let mut out = Vec::new();
        let mut rest = &body[..];
        loop {
            let eol = rest.windows(2).position(|w| w == b"\r\n").expect("chunk size line");
            let size_text = String::from_utf8_lossy(&rest[..eol]).to_string();
            let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16).expect("chunk size");
            rest = &rest[eol + 2..];
            if size == 0 {
                break;
            }
            out.extend_from_slice(&rest[..size]);
            rest = &rest[size + 2..];
        }
        body = out;
    }
    (status, body)
}
