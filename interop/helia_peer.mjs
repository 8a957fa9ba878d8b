// A Helia 7 node as a test peer for rubo: TCP on 127.0.0.1, noise, yamux,
// identify, ping, Bitswap. No routers, no gateways, no mDNS, no bootstrap.
// `--dht-protocol P` adds a kad-dht server on protocol P (`/ipfs/lan/kad/1.0.0`
// for loopback peers), which Helia's routing then uses.
// Start it only inside a private network namespace (the Rust tests do).
//
// One JSON request per stdin line, one JSON reply per stdout line:
//   {"op":"connect","addr":"/ip4/127.0.0.1/tcp/N/p2p/<id>"} -> {"ok":true,"peer":...}
//   {"op":"peers"}                     -> {"ok":true,"peers":[...]}
//   {"op":"peerinfo","peer":"<id>"}    -> {"ok":true,"agent":...,"protocols":[...]}
//   {"op":"ping","peer":"<id>"}        -> {"ok":true,"ms":...}
//   {"op":"add","path":"/abs","v1":false} -> {"ok":true,"cid":...} (Kubo's default settings)
//   {"op":"cat","cid":"...","path":"a/b","out":"/abs"} -> {"ok":true,"bytes":n} (fetched over Bitswap; path optional)
//   {"op":"adddir","entries":[{"name":..,"path":"/abs"}],"v1":false} -> {"ok":true,"cid":...}
//   {"op":"ls","cid":"..."}            -> {"ok":true,"entries":[{"name":..,"cid":..,"type":..}]}
//   {"op":"has","cid":"..."}           -> {"ok":true,"has":bool}
//   {"op":"provide","cid":"..."}       -> {"ok":true}            (with --dht-protocol)
//   {"op":"findprovs","cid":"..."}     -> {"ok":true,"providers":[...]} (with --dht-protocol)
//   {"op":"quit"}
// The first line is {"ready":true,"id":...,"addrs":[...]}. Errors: {"ok":false,"error":...}.
import { createHeliaLight } from 'helia'
import { withLibp2pLight } from '@helia/libp2p'
import { withBitswap } from '@helia/bitswap'
import { unixfs } from '@helia/unixfs'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import { parseArgs } from 'node:util'
import { multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString, peerIdFromCID } from '@libp2p/peer-id'
import { CID } from 'multiformats/cid'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { balanced } from 'ipfs-unixfs-importer/layout'
import { createReadStream, createWriteStream } from 'node:fs'
import { createInterface } from 'node:readline'

// The importer settings that give Kubo's CIDs (interop/unixfs_import.mjs has the same).
const kubo = (v1) => ({
  cidVersion: v1 ? 1 : 0,
  rawLeaves: !!v1,
  reduceSingleLeafToSelf: true,
  leafType: 'file',
  chunker: fixedSize({ chunkSize: 262144 }),
  layout: balanced({ maxChildrenPerNode: 174 })
})

const { values: opt } = parseArgs({ options: { 'dht-protocol': { type: 'string' } } })
const services = { identify: identify(), ping: ping() }
if (opt['dht-protocol']) {
  services.dht = kadDHT({ clientMode: false, protocol: opt['dht-protocol'], peerInfoMapper: passthroughMapper })
}

const helia = withBitswap(withLibp2pLight(createHeliaLight(), {
  addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  peerDiscovery: [],
  connectionMonitor: { enabled: false },
  services
}))
await helia.start()
const libp2p = helia.libp2p
const fs = unixfs(helia)
const timeout = (ms) => AbortSignal.timeout(ms)

const ops = {
  connect: async (r) => {
    const c = await libp2p.dial(multiaddr(r.addr), { signal: timeout(20_000) })
    return { peer: c.remotePeer.toString() }
  },
  peers: async () => ({ peers: libp2p.getPeers().map(String) }),
  peerinfo: async (r) => {
    const p = await libp2p.peerStore.get(peerIdFromString(r.peer))
    const agent = p.metadata.get('AgentVersion')
    return { agent: agent ? new TextDecoder().decode(agent) : '', protocols: p.protocols }
  },
  ping: async (r) => ({ ms: await libp2p.services.ping.ping(peerIdFromString(r.peer), { signal: timeout(20_000) }) }),
  add: async (r) => ({ cid: (await fs.addByteStream(createReadStream(r.path), kubo(r.v1))).toString() }),
  cat: async (r) => {
    const ws = createWriteStream(r.out)
    let n = 0
    for await (const chunk of fs.cat(CID.parse(r.cid), { path: r.path, signal: timeout(r.timeout_ms ?? 300_000) })) {
      n += chunk.length
      if (!ws.write(chunk)) await new Promise((resolve) => ws.once('drain', resolve))
    }
    await new Promise((resolve) => ws.end(resolve))
    return { bytes: n }
  },
  adddir: async (r) => {
    let dir = await fs.addDirectory({ cidVersion: r.v1 ? 1 : 0 })
    for (const e of r.entries) {
      const file = await fs.addByteStream(createReadStream(e.path), kubo(r.v1))
      dir = await fs.cp(file, dir, e.name)
    }
    return { cid: dir.toString() }
  },
  ls: async (r) => {
    const entries = []
    for await (const e of fs.ls(CID.parse(r.cid), { signal: timeout(r.timeout_ms ?? 300_000) })) {
      entries.push({ name: e.name, cid: e.cid.toString(), type: e.type })
    }
    return { entries }
  },
  has: async (r) => ({ has: await helia.blockstore.has(CID.parse(r.cid)) }),
  provide: async (r) => {
    await helia.routing.provide(CID.parse(r.cid), { signal: timeout(30_000) })
    return {}
  },
  findprovs: async (r) => {
    const providers = []
    for await (const p of helia.routing.findProviders(CID.parse(r.cid), { signal: timeout(30_000) })) {
      // Routing hands IDs over in CID form: report the usual base58 peer id.
      const s = String(p.id)
      providers.push(s.startsWith('b') ? peerIdFromCID(CID.parse(s)).toString() : s)
    }
    return { providers }
  },
  quit: async () => {
    await helia.stop()
    process.exit(0)
  }
}

async function handle (line) {
  let r
  try {
    r = JSON.parse(line)
    const f = ops[r.op]
    if (!f) throw new Error(`unknown op ${r.op}`)
    console.log(JSON.stringify({ ok: true, ...(await f(r)) }))
  } catch (e) {
    console.log(JSON.stringify({ ok: false, error: `${e.name}: ${e.message}` }))
  }
}

console.log(JSON.stringify({ ready: true, id: libp2p.peerId.toString(), addrs: libp2p.getMultiaddrs().map(String) }))
let chain = Promise.resolve()
createInterface({ input: process.stdin })
  .on('line', (l) => { chain = chain.then(() => handle(l)) })
  .on('close', () => { chain.then(() => ops.quit()) })
