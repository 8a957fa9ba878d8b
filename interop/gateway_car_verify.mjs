// Reads CAR files with @ipld/car, re-hashes every block against its CID, and
// prints {roots, blocks} per file as JSON lines (rubo-gateway's car_js test).
import { readFile } from 'node:fs/promises'
import { CarBlockIterator } from '@ipld/car/iterator'
import { sha256, sha512 } from 'multiformats/hashes/sha2'
import { identity } from 'multiformats/hashes/identity'
import { equals } from 'multiformats/bytes'

const hashers = { [sha256.code]: sha256, [sha512.code]: sha512, [identity.code]: identity }
for (const file of process.argv.slice(2)) {
  const bytes = await readFile(file)
  const it = await CarBlockIterator.fromBytes(bytes)
  const roots = (await it.getRoots()).map(String)
  const blocks = []
  for await (const { cid, bytes: data } of it) {
    const h = hashers[cid.multihash.code]
    if (!h) throw new Error(`${file}: no hasher for ${cid}`)
    const d = await h.digest(data)
    if (!equals(d.bytes, cid.multihash.bytes)) throw new Error(`${file}: ${cid} does not hash to its CID`)
    blocks.push(String(cid))
  }
  console.log(JSON.stringify({ file, roots, blocks }))
}
