// CAR interop with Helia: an in-memory Helia (no libp2p, no network) reads
// rubo's CARs and writes its own for rubo to read.
//
//   node car_interop.mjs import CAR [FILE_PATH_IN_DAG EXPECTED_FILE]
//     Reads CAR with @ipld/car, checks that every block's bytes hash to its
//     CID, imports it with @helia/car, then re-exports the first root with
//     Helia's own traversal. With FILE_PATH_IN_DAG, also reads that UnixFS
//     file through @helia/unixfs and compares it with EXPECTED_FILE.
//     Prints {"roots": [...], "blocks": [...], "reexported": [...], "catOk": bool}.
//
//   node car_interop.mjs export OUT.car BIG_FILE
//     Builds a DAG in Helia: a UnixFS directory {small.txt, big.bin (BIG_FILE),
//     empty/}, and a dag-cbor object linking to it; writes the CAR of the
//     dag-cbor root with @helia/car. Prints {"root", "dir", "blocks": [...]}.
import { createHeliaLight } from 'helia'
import { car } from '@helia/car'
import { unixfs } from '@helia/unixfs'
import { dagCbor } from '@helia/dag-cbor'
import { CarReader } from '@ipld/car'
import { sha256 } from 'multiformats/hashes/sha2'
import { CID } from 'multiformats/cid'
import { createReadStream, createWriteStream, readFileSync } from 'node:fs'
import { once } from 'node:events'
import * as dagCborCodec from '@ipld/dag-cbor'
import * as dagJsonCodec from '@ipld/dag-json'

// The light node knows dag-pb and raw only; the walks need the rest.
const init = { codecs: [dagCborCodec, dagJsonCodec] }

const [mode, ...args] = process.argv.slice(2)

function equal (a, b) {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

async function importCar (path, filePath, expectedFile) {
  const reader = await CarReader.fromIterable(createReadStream(path))
  const roots = (await reader.getRoots()).map(String)
  const blocks = []
  for await (const { cid, bytes } of reader.blocks()) {
    if (cid.multihash.code !== sha256.code) throw new Error(`unexpected hash in ${cid}`)
    const d = await sha256.digest(bytes)
    if (!equal(d.digest, cid.multihash.digest)) throw new Error(`block ${cid} does not match its CID`)
    blocks.push(cid.toString())
  }
  const helia = createHeliaLight(init)
  await helia.start()
  const again = await CarReader.fromIterable(createReadStream(path))
  await car(helia).import(again)
  const reexported = []
  if (roots.length > 0) {
    const out = []
    for await (const buf of car(helia).export(CID.parse(roots[0]), { offline: true })) out.push(buf)
    const r = await CarReader.fromBytes(Buffer.concat(out))
    for await (const { cid } of r.blocks()) reexported.push(cid.toString())
  }
  let catOk = null
  if (filePath) {
    const fs = unixfs(helia)
    const chunks = []
    for await (const c of fs.cat(CID.parse(roots[0]), { path: filePath, offline: true })) chunks.push(c)
    catOk = equal(Buffer.concat(chunks), readFileSync(expectedFile))
  }
  await helia.stop()
  console.log(JSON.stringify({ roots, blocks, reexported, catOk }))
}

async function exportCar (outPath, bigFile) {
  const helia = createHeliaLight(init)
  await helia.start()
  const fs = unixfs(helia)
  const small = await fs.addBytes(new TextEncoder().encode('hello from helia\n'))
  const big = await fs.addBytes(readFileSync(bigFile))
  let dir = await fs.addDirectory()
  dir = await fs.cp(small, dir, 'small.txt')
  dir = await fs.cp(big, dir, 'big.bin')
  dir = await fs.cp(await fs.addDirectory(), dir, 'empty')
  const root = await dagCbor(helia).add({ name: 'helia-made', dir, n: 42 })
  const out = createWriteStream(outPath)
  for await (const buf of car(helia).export(root, { offline: true })) {
    if (!out.write(buf)) await once(out, 'drain')
  }
  out.end()
  await once(out, 'finish')
  const r = await CarReader.fromBytes(readFileSync(outPath))
  const blocks = []
  for await (const { cid } of r.blocks()) blocks.push(cid.toString())
  await helia.stop()
  console.log(JSON.stringify({ root: root.toString(), dir: dir.toString(), blocks }))
}

if (mode === 'import') {
  await importCar(args[0], args[1], args[2])
} else if (mode === 'export') {
  await exportCar(args[0], args[1])
} else {
  console.error('usage: car_interop.mjs import CAR [PATH FILE] | export OUT.car BIG_FILE')
  process.exit(2)
}
