// Helia's delegated routing client (@helia/delegated-routing-v1-http-api-client)
// against a /routing/v1 server, for rubo's tests:
//   node routing_client.mjs <base url> providers <cid>  -> {"providers":[{"id":..,"addrs":[..]}]}
//   node routing_client.mjs <base url> peers <peer id>  -> {"peers":[...]}
//   node routing_client.mjs <base url> ipns <name CID>   -> {"record":"<base64>"} (validated by Helia)
// Prints one JSON line; exits 1 with {"error":...} on failure. Loopback only.
import { delegatedRoutingV1HttpApiClient } from '@helia/delegated-routing-v1-http-api-client'
import { defaultLogger } from '@libp2p/logger'
import { peerIdFromString, peerIdFromCID } from '@libp2p/peer-id'
import { CID } from 'multiformats/cid'

const [url, what, arg] = process.argv.slice(2)
const client = delegatedRoutingV1HttpApiClient({ url, cacheTTL: 0 })({ logger: defaultLogger() })
const signal = AbortSignal.timeout(60_000)
// The client hands IDs over in CID form: print the usual base58 peer id.
const idOf = (x) => { const s = String(x); return s.startsWith('b') ? peerIdFromCID(CID.parse(s)).toString() : s }
const rec = (p) => ({ id: idOf(p.ID), addrs: (p.Addrs ?? []).map(String) })
try {
  const out = []
  if (what === 'providers') {
    for await (const p of client.getProviders(CID.parse(arg), { signal })) out.push(rec(p))
    console.log(JSON.stringify({ providers: out }))
  } else if (what === 'peers') {
    for await (const p of client.getPeers(peerIdFromString(arg), { signal })) out.push(rec(p))
    console.log(JSON.stringify({ peers: out }))
  } else if (what === 'ipns') {
    const rec = await client.getIPNS(CID.parse(arg), { signal })
    console.log(JSON.stringify({ record: Buffer.from(rec).toString('base64') }))
  } else {
    throw new Error(`unknown request ${what}`)
  }
  await client.stop?.()
  process.exit(0)
} catch (e) {
  console.log(JSON.stringify({ error: `${e.name}: ${e.message}` }))
  process.exit(1)
}
