"""Runs inside the namespace: builds the site, starts both servers, runs wrk."""
import os, re, subprocess, sys, time

work, secs = sys.argv[1], sys.argv[2]
site = os.path.join(work, "www", "site")
os.makedirs(site)
rnd = open("/dev/urandom", "rb")
open(os.path.join(site, "big.bin"), "wb").write(rnd.read(1 << 20))
open(os.path.join(site, "small.bin"), "wb").write(rnd.read(4096))
for i in range(100):
    open(os.path.join(site, f"f{i:03}.txt"), "wb").write(rnd.read(100))

gw = subprocess.Popen(["target/release/examples/bench_server", os.path.join(work, "repo"), site, "8081"],
                      stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
root = gw.stdout.readline().strip()
conf = os.path.join(work, "nginx.conf")
open(conf, "w").write(f"""
user root; worker_processes 2; daemon off; pid {work}/nginx.pid; error_log /dev/null;
events {{ worker_connections 1024; }}
http {{ access_log off; sendfile on; tcp_nopush on; keepalive_requests 1000000;
  server {{ listen 127.0.0.1:8082; root {work}/www; autoindex on; }} }}
""")
ng = subprocess.Popen(["nginx", "-c", conf], stderr=subprocess.DEVNULL)

def up(url):
    for _ in range(500):
        if subprocess.run(["curl", "-sf", "-o", "/dev/null", url]).returncode == 0:
            return
        time.sleep(0.02)
    sys.exit(f"{url} never came up")

cases = [("1 MiB file", f"/ipfs/{root}/big.bin", "/site/big.bin"),
         ("4 KiB file", f"/ipfs/{root}/small.bin", "/site/small.bin"),
         ("dir listing", f"/ipfs/{root}/", "/site/")]
up(f"http://127.0.0.1:8081{cases[0][1]}"); up(f"http://127.0.0.1:8082{cases[0][2]}")

def wrk(url):
    out = subprocess.run(["wrk", "-t2", "-c32", f"-d{secs}s", "--latency", url], capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = {m.group(1): m.group(2) for m in re.finditer(r"\s(50|99)%\s+([\d.]+\w+)", out)}
    return rps, lat.get("50", "?"), lat.get("99", "?")

print(f"gateway root {root}")
print("| case | rubo req/s | p50 | p99 | nginx req/s | p50 | p99 | ratio |")
print("|---|---|---|---|---|---|---|---|")
for name, gpath, npath in cases:
    subprocess.run(["curl", "-sf", "-o", "/dev/null", f"http://127.0.0.1:8081{gpath}"])  # warm the cache
    g = wrk(f"http://127.0.0.1:8081{gpath}")
    n = wrk(f"http://127.0.0.1:8082{npath}")
    print(f"| {name} | {g[0]:.0f} | {g[1]} | {g[2]} | {n[0]:.0f} | {n[1]} | {n[2]} | {g[0] / n[0]:.2f}x |")
hwm = [l for l in open(f"/proc/{gw.pid}/status") if l.startswith("VmHWM")][0].split()[1]
print(f"gateway peak RSS (VmHWM): {int(hwm) // 1024} MiB")
gw.terminate(); ng.terminate()
