#!/usr/bin/env python3
"""Drives rubo's RPC API with ipfshttpclient 0.7.0 (PyPI), as its users do,
and prints what each call returned as one JSON object (failures as
{"error": message}). The Rust test (crates/rubo-http/tests/interop.rs)
compares the results with Kubo's known CIDs and with what rubo's handlers
return directly.

    PYTHONPATH=interop/pylib python3 rpc_client.py /ip4/127.0.0.1/tcp/PORT/http WORKDIR

The client is built with `Client(addr)`, skipping `connect()`'s version gate
(it refuses servers that are not Kubo 0.4.23 to 0.7.x). Loopback only: run
it inside a private network namespace.
"""
import io
import json
import os
import sys

import ipfshttpclient

addr, work = sys.argv[1], sys.argv[2]
c = ipfshttpclient.Client(addr)
out = {}


def op(name, f):
    try:
        v = f()
        if isinstance(v, bytes):
            v = v.decode("utf-8", "replace")
        elif hasattr(v, "as_json"):
            v = v.as_json()
        out[name] = v
    except Exception as e:  # report, keep going
        out[name] = {"error": "%s: %s" % (type(e).__name__, e)}


def plain(v):
    """ipfshttpclient's response objects as plain JSON."""
    if isinstance(v, list):
        return [plain(x) for x in v]
    if hasattr(v, "as_json"):
        return v.as_json()
    return v


PLANETS = "QmWSgS32xQEcXMeqd3YPJLrNBLSdsfYCep2U7CFkyrjXwY"
MARS = "QmPrrHqJzto9m7SyiRzarwkqPcCSsKR2EB1AyqJfe8L8tN"

planets = os.path.join(work, "planets")
os.makedirs(planets, exist_ok=True)
with open(os.path.join(planets, "mars.txt"), "wb") as f:
    f.write(b"Hello Mars!\n")
with open(os.path.join(planets, "venus.txt"), "wb") as f:
    f.write(b"Hello Venus!\n")
jupiter = os.path.join(work, "jupiter.txt")
with open(jupiter, "wb") as f:
    f.write(b"Hello Jupiter!\n")

op("version", lambda: c.version()["Version"])
op("id", lambda: c.id()["ID"])
op("add_bytes", lambda: c.add_bytes(b"hello world"))
op("add_file", lambda: plain(c.add(jupiter)))
op("add_dir", lambda: plain(c.add(planets, recursive=True)))
op("cat", lambda: c.cat(MARS))


def get():
    dest = os.path.join(work, "got")
    c.get(PLANETS, target=dest)
    base = os.path.join(dest, PLANETS)
    return {n: open(os.path.join(base, n)).read() for n in sorted(os.listdir(base))}


op("get", get)
op("ls", lambda: plain(c.ls(PLANETS)))
op("refs", lambda: plain(c.unstable.refs(PLANETS)))
op("pin_add", lambda: plain(c.pin.add(MARS)))
op("pin_ls_has_mars", lambda: MARS in c.pin.ls(type="all")["Keys"])
op("pin_rm", lambda: plain(c.pin.rm(MARS)))
op("block_put", lambda: plain(c.block.put(io.BytesIO(b"abc"))))
op("block_get", lambda: c.block.get(out["block_put"]["Key"]))
op("block_stat", lambda: plain(c.block.stat(out["block_put"]["Key"])))
op("dag_put", lambda: plain(c.dag.put(io.BytesIO(b'{"a":1,"b":"two"}'))))
op("dag_get", lambda: plain(c.dag.get(out["dag_put"]["Cid"]["/"])))
op("dag_import", lambda: plain(c.dag.imprt(io.BytesIO(c.dag.export(PLANETS)))))
op("files_mkdir", lambda: c.files.mkdir("/x/y", parents=True) or "")
op("files_write", lambda: c.files.write("/x/y/f", io.BytesIO(b"hello mfs"), create=True) or "")
op("files_read", lambda: c.files.read("/x/y/f"))
op("files_ls", lambda: plain(c.files.ls("/x/y")))
op("files_stat", lambda: plain(c.files.stat("/x/y/f")))
op("files_rm", lambda: c.files.rm("/x", recursive=True) or "")
op("config_show_has_identity", lambda: "PeerID" in c.config.get()["Identity"])
op("config_get", lambda: plain(c.config.set("Datastore.StorageMax")))
op("config_set", lambda: plain(c.config.set("Datastore.StorageMax", "20GB")))
op("repo_stat", lambda: plain(c.repo.stat()))
# With PEER_ADDR (a multiaddr with /p2p/), the swarm calls too.
if os.environ.get("PEER_ADDR"):
    # ipfshttpclient 0.7.0's swarm.connect sends the address and then each of
    # its characters as further arguments (a client bug Kubo rejects too), so
    # the request goes through the client's own transport with the one address.
    op("swarm_connect", lambda: plain(c._client.request("/swarm/connect", (os.environ["PEER_ADDR"],), decoder="json")))
    op("swarm_peers", lambda: sorted(p["Peer"] for p in c.swarm.peers()["Peers"]))
print(json.dumps(out))
