// Drives rubo's RPC API with Kubo's own JS client (kubo-rpc-client 7.1.0),
// as its users do, and prints what each call returned as one JSON object
// (CIDs as strings, BigInts as strings, failures as {"error": message}).
// The Rust test (crates/rubo-http/tests/interop.rs) compares the results
// with Kubo's known CIDs and with what rubo's handlers return directly.
//
//   node rpc_client.mjs http://127.0.0.1:PORT
// Loopback only: run it inside a private network namespace.
import { create } from 'kubo-rpc-client'
import { CID } from 'multiformats/cid'

const url = process.argv[2]
const ipfs = create({ url: `${url}/api/v0` })
const enc = new TextEncoder()
const dec = new TextDecoder()
const out = {}

function plain (v) {
  if (v === null || v === undefined) return v ?? null
  if (typeof v === 'bigint') return v.toString()
  if (v instanceof Uint8Array) return { bytes: dec.decode(v) }
  if (Array.isArray(v)) return v.map(plain)
  if (typeof v === 'object') {
    if (typeof v.toV1 === 'function' && typeof v.toString === 'function' && v.multihash) return v.toString()
    if (v.constructor && v.constructor.name !== 'Object' && typeof v.toString === 'function' && !v.then) {
      const s = v.toString()
      if (s !== '[object Object]') return s
    }
    const o = {}
    for (const [k, x] of Object.entries(v)) o[k] = plain(x)
    return o
  }
  return v
}

async function op (name, f) {
  try {
    out[name] = plain(await f())
  } catch (e) {
    out[name] = { error: String(e && e.message ? e.message : e) }
  }
}

async function all (it) {
  const r = []
  for await (const x of it) r.push(x)
  return r
}

async function bytes (it) {
  const chunks = await all(it)
  let n = 0
  for (const c of chunks) n += c.length
  const b = new Uint8Array(n)
  let i = 0
  for (const c of chunks) { b.set(c, i); i += c.length }
  return b
}

await op('version', async () => (await ipfs.version()).version)
await op('id', async () => (await ipfs.id()).id.toString())
await op('add_bytes', async () => (await ipfs.add(enc.encode('hello world'))).cid)
await op('add_v1', async () => (await ipfs.add('hello world', { cidVersion: 1 })).cid)
await op('add_v1_no_raw', async () => (await ipfs.add({ path: 'hw.txt', content: 'hello world' }, { cidVersion: 1, rawLeaves: false })))
const progress = []
await op('add_dir', async () => all(ipfs.addAll([
  { path: 'planets/mars.txt', content: enc.encode('Hello Mars!\n') },
  { path: 'planets/venus.txt', content: enc.encode('Hello Venus!\n') }
], { progress: (b, p) => progress.push([b, p]) })))
out.progress = progress
const planets = 'QmWSgS32xQEcXMeqd3YPJLrNBLSdsfYCep2U7CFkyrjXwY'
const mars = 'QmPrrHqJzto9m7SyiRzarwkqPcCSsKR2EB1AyqJfe8L8tN'
await op('add_wrapped', async () => (await ipfs.add({ path: 'jupiter.txt', content: 'Hello Jupiter!\n' }, { wrapWithDirectory: true })).cid)
await op('cat', async () => dec.decode(await bytes(ipfs.cat(mars))))
await op('cat_range', async () => dec.decode(await bytes(ipfs.cat(mars, { offset: 6, length: 4 }))))
await op('get', async () => {
  const tar = await bytes(ipfs.get(planets))
  return { length: tar.length, hasMars: dec.decode(tar).includes('Hello Mars!\n') }
})
await op('ls', async () => (await all(ipfs.ls(planets))).map(e => ({ name: e.name, cid: e.cid.toString(), size: e.size, type: e.type })))
await op('refs', async () => (await all(ipfs.refs(planets, { recursive: true }))).map(r => r.ref))
await op('refs_local', async () => (await all(ipfs.refs.local())).length)
await op('pin_add', async () => ipfs.pin.add(mars))
await op('pin_ls', async () => (await all(ipfs.pin.ls({ type: 'recursive' }))).map(p => p.cid.toString()).sort())
await op('pin_rm', async () => ipfs.pin.rm(mars))
await op('block_put', async () => ipfs.block.put(enc.encode('abc')))
await op('block_get', async () => dec.decode(await ipfs.block.get(CID.parse(out.block_put))))
await op('block_stat', async () => ipfs.block.stat(CID.parse(out.block_put)))
await op('block_rm', async () => all(ipfs.block.rm(CID.parse(out.block_put))))
await op('dag_put', async () => ipfs.dag.put({ a: 1, b: 'two' }))
await op('dag_get', async () => (await ipfs.dag.get(CID.parse(out.dag_put))).value)
await op('dag_export', async () => (await bytes(ipfs.dag.export(planets))).length)
await op('dag_import', async () => {
  const car = await bytes(ipfs.dag.export(planets))
  return (await all(ipfs.dag.import([car]))).map(r => r.root.cid.toString())
})
await op('files_mkdir', async () => ipfs.files.mkdir('/x/y', { parents: true }))
await op('files_write', async () => ipfs.files.write('/x/y/f', enc.encode('hello mfs'), { create: true }))
await op('files_read', async () => dec.decode(await bytes(ipfs.files.read('/x/y/f'))))
await op('files_ls', async () => (await all(ipfs.files.ls('/x/y'))).map(e => ({ name: e.name, type: e.type, size: e.size, cid: e.cid.toString() })))
await op('files_stat', async () => {
  const s = await ipfs.files.stat('/x/y/f')
  return { cid: s.cid.toString(), size: s.size, type: s.type, blocks: s.blocks }
})
await op('files_rm', async () => ipfs.files.rm('/x', { recursive: true }))
await op('files_ls_root', async () => (await all(ipfs.files.ls('/'))).length)
await op('config_get', async () => ipfs.config.get('Datastore.StorageMax'))
await op('config_set', async () => ipfs.config.set('Datastore.StorageGCWatermark', 91))
await op('config_get_set', async () => ipfs.config.get('Datastore.StorageGCWatermark'))
await op('config_all', async () => Object.keys(await ipfs.config.getAll()).sort())
await op('repo_stat', async () => ipfs.repo.stat())
// With PEER_ADDR (a multiaddr with /p2p/), the swarm calls too.
if (process.env.PEER_ADDR) {
  const { multiaddr } = await import('@multiformats/multiaddr')
  await op('swarm_connect', async () => ipfs.swarm.connect(multiaddr(process.env.PEER_ADDR)))
  await op('swarm_peers', async () => (await ipfs.swarm.peers()).map(p => p.peer.toString()).sort())
}
console.log(JSON.stringify(out))
