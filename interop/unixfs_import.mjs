// The reference JS UnixFS importer (ipfs-unixfs-importer), configured as Kubo,
// as an oracle for rubo's CIDs. No network: blocks go to memory.
//
//   node unixfs_import.mjs SPEC.json
//
// SPEC: {
//   "entries": [{"path": "dir/a.txt", "file": "/abs/path"} | {"path": "dir"} (directory)],
//   "cidVersion": 0|1, "rawLeaves": bool, "layout": "balanced"|"trickle",
//   "maxLinks": 174, "chunkSize": 262144, "chunkLengths": [..] (overrides chunkSize:
//   cut each file at these lengths, then the rest as one chunk),
//   "shardSplitThresholdBytes": 262144, "shardSplitStrategy": "links-bytes"|"block-bytes",
//   "shardFanoutBits": 8, "wrap": bool
// }
// Prints one JSON line per imported entry: {"path": ..., "cid": ...}.
import { importer } from 'ipfs-unixfs-importer'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { balanced, trickle } from 'ipfs-unixfs-importer/layout'
import { MemoryBlockstore } from 'blockstore-core'
import { createReadStream, readFileSync } from 'node:fs'

const spec = JSON.parse(readFileSync(process.argv[2], 'utf8'))
const v = spec.cidVersion ?? 0
const maxLinks = spec.maxLinks ?? 174

/** Cuts a stream at the given lengths (boundaries computed elsewhere). */
function fixedLengths (lengths) {
  return async function * (source) {
    let pending = new Uint8Array(0)
    let i = 0
    for await (const buf of source) {
      const merged = new Uint8Array(pending.length + buf.length)
      merged.set(pending, 0)
      merged.set(buf, pending.length)
      pending = merged
      while (i < lengths.length && pending.length >= lengths[i]) {
        yield pending.slice(0, lengths[i])
        pending = pending.slice(lengths[i])
        i++
      }
    }
    if (pending.length > 0) yield pending
  }
}

const trickleLayout = spec.layout === 'trickle'
const options = {
  cidVersion: v,
  rawLeaves: spec.rawLeaves ?? (v === 1),
  // Kubo's trickle DAG: UnixFS Raw leaves, root never reduced to a leaf.
  leafType: trickleLayout ? 'raw' : 'file',
  reduceSingleLeafToSelf: !trickleLayout,
  chunker: spec.chunkLengths ? fixedLengths(spec.chunkLengths) : fixedSize({ chunkSize: spec.chunkSize ?? 262144 }),
  layout: trickleLayout ? trickle({ maxChildrenPerNode: maxLinks, layerRepeat: 4 }) : balanced({ maxChildrenPerNode: maxLinks }),
  shardSplitThresholdBytes: spec.shardSplitThresholdBytes ?? 262144,
  shardSplitStrategy: spec.shardSplitStrategy ?? 'links-bytes',
  shardFanoutBits: spec.shardFanoutBits ?? 8,
  wrapWithDirectory: spec.wrap ?? false,
  fileImportConcurrency: 1
}

const source = spec.entries.map(e => e.file == null
  ? { path: e.path }
  : { path: e.path, content: createReadStream(e.file, { highWaterMark: 1 << 20 }) })

for await (const entry of importer(source, new MemoryBlockstore(), options)) {
  console.log(JSON.stringify({ path: entry.path ?? '', cid: entry.cid.toString() }))
}
