//! Names in every form Kubo accepts, against the strings Kubo, boxo and the
//! gateway conformance suite print for them.

use data_encoding::{BASE32_NOPAD, HEXLOWER};
use rubo_ipns::{Name, NameError};

fn parse(s: &str) -> Name {
    Name::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

#[test]
fn boxo_name_vectors() {
    // boxo ipns/name_test.go TestName: (base58 peer ID, base36 CIDv1).
    for (kind, b58, b36) in [
        (
            "RSA",
            "QmRp2LvtSQtCkUWCpi92ph5MdQyRtfb9jHbkNgZzGExGuG",
            "k2k4r8kpauqq30hoj9oktej5btbgz1jeos16d3te36xd78trvak0jcor",
        ),
        (
            "Ed25519",
            "12D3KooWSzRuSFHgLsKr6jJboAPdP7xMga2YBgBspYuErxswcgvt",
            "k51qzi5uqu5dmjjgoe7s21dncepi970722cn30qlhm9qridas1c9ktkjb6ejux",
        ),
        (
            "ECDSA",
            "QmSBUTocZ9LxE53Br9PDDcPWnR1FJQRv94U96Wkt8eypAw",
            "k2k4r8ku8cnc1sl2h5xn7i07dma9abfnkqkxi4a6nd1xq0knoxe7b0y4",
        ),
        (
            "Secp256k1",
            "16Uiu2HAmUymv6JpFwNZppdKUMxGJuHsTeicXgHGKbBasu4Ruj3K1",
            "kzwfwjn5ji4puw3jc1qw4b073j74xvq21iziuqw4rem21pr7f0l4dj8i9yb978s",
        ),
    ] {
        for input in [b58.to_owned(), format!("/ipns/{b58}"), b36.to_owned(), format!("/ipns/{b36}")] {
            let n = parse(&input);
            assert_eq!(n.to_string(), b36, "{kind} {input}");
            assert_eq!(n.to_path(), format!("/ipns/{b36}"), "{kind}");
            assert_eq!(n.peer_id().to_base58(), b58, "{kind}");
            assert_eq!(n.to_cid().to_string(), parse(b36).to_cid().to_string());
        }
        assert_eq!(b36.parse::<Name>().unwrap(), parse(b58));
    }
}

#[test]
fn conformance_fixture_names() {
    // gateway-conformance tooling/ipns/ipns_test.go: IdV0 and IdV1 of the
    // subdomain fixtures; their dag-pb CIDs are not IPNS names.
    for (v0, v1, dag_pb) in [
        (
            "12D3KooWLQzUv2FHWGVPXTXSZpdHs7oHbXub2G5WC8Tx4NQhyd2d",
            "k51qzi5uqu5dk3v4rmjber23h16xnr23bsggmqqil9z2gduiis5se8dht36dam",
            "k50rm9yjlt0jey4fqg6wafvqprktgbkpgkqdg27tpqje6iimzxewnhvtin9hhq",
        ),
        (
            "QmVujd5Vb7moysJj8itnGufN7MEtPRCNHkKpNuA4onsRa3",
            "k2k4r8m7xvggw5pxxk3abrkwyer625hg01hfyggrai7lk1m63fuihi7w",
            "k2jmtxu61bnhrtj301lw7zizknztocdbeqhxgv76l2q9t36fn9jbzipo",
        ),
    ] {
        assert_eq!(parse(v0).to_string(), v1);
        assert_eq!(parse(v1).to_string(), v1);
        assert_eq!(Name::parse(dag_pb), Err(NameError::NotLibp2pKey { codec: 0x70 }));
    }
    assert!(parse("12D3KooWLQzUv2FHWGVPXTXSZpdHs7oHbXub2G5WC8Tx4NQhyd2d").inlines_public_key());
    assert!(!parse("QmVujd5Vb7moysJj8itnGufN7MEtPRCNHkKpNuA4onsRa3").inlines_public_key());
}

#[test]
fn base32_cids_and_other_multibases() {
    // Kubo docs/changelogs/v0.6.md: `ipfs cid format -v 1 --codec libp2p-key
    // -b base36 bafzaajaiaejca4syrpdu6gdx4wsdnokxkprgzxf4wrstuc34gxw5k5jrag2so5gk`.
    let bafz = "bafzaajaiaejca4syrpdu6gdx4wsdnokxkprgzxf4wrstuc34gxw5k5jrag2so5gk";
    let k = "k51qzi5uqu5dj16qyiq0tajolkojyl9qdkr254920wxv7ghtuwcz593tp69z9m";
    assert_eq!(parse(bafz).to_string(), k);
    assert_eq!(parse(&format!("/ipns/{bafz}")).to_string(), k);
    assert_eq!(parse(&bafz.to_uppercase()).to_string(), k);
    assert_eq!(parse(&k.to_uppercase()).to_string(), k);
    // The same CID bytes in base16 (multibase `f`).
    let cid = BASE32_NOPAD.decode(bafz[1..].to_uppercase().as_bytes()).unwrap();
    assert_eq!(parse(&format!("f{}", HEXLOWER.encode(&cid))).to_string(), k);

    // boxo routing/http/server/server_test.go: one RSA peer as CIDv1 and as
    // base58, and the multihashes behind two names.
    let rsa_cid = parse("bafzbeie5745rpv2m6tjyuugywy4d5ewrqgqqhfnf445he3omzpjbx5xqxe");
    let rsa_b58 = parse("QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N");
    assert_eq!(rsa_cid, rsa_b58);
    assert_eq!(
        HEXLOWER.encode(&rsa_cid.to_multihash_bytes()),
        "12209dff3b17d74cf4d38a50d8b6383e92d181a10395a5e73a726dcccbd21bf6f0b9"
    );
    let ed = parse("12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA");
    let mh = "0024080112202ffa35a99d3a3cfbb17bb7c1dc5561b18a8dcca4df38dc613ea859c37eb1336b";
    assert_eq!(HEXLOWER.encode(&ed.to_multihash_bytes()), mh);
    // The routing key: "/ipns/" (2f69706e732f, ipfs/specs) and the multihash.
    let key = ed.routing_key();
    assert_eq!(HEXLOWER.encode(&key), format!("2f69706e732f{mh}"));
    assert_eq!(Name::from_routing_key(&key).unwrap(), ed);

    // Kubo t0114 / boxo: a CID of another codec is content, not a name.
    assert_eq!(
        Name::parse("bafkreidcd7frenco2m6ch7mny63wztgztv3q6fctaffgowkro6kljre5ei"),
        Err(NameError::NotLibp2pKey { codec: 0x55 })
    );
}

#[test]
fn from_keys_and_peer_ids() {
    let k = libp2p_identity::Keypair::ed25519_from_bytes([1u8; 32]).unwrap();
    let n = Name::from_public_key(&k.public());
    assert_eq!(n, Name::from(k.public().to_peer_id()));
    assert_eq!(libp2p_identity::PeerId::from(n), k.public().to_peer_id());
    assert_eq!(parse(&k.public().to_peer_id().to_base58()), n);
    assert_eq!(parse(&n.to_string()), n);
}

#[test]
fn what_is_not_a_name() {
    for bad in [
        "",
        "/ipns/",
        "Qm!!!",
        "12D3KooW",
        "QmVujd5Vb7moysJj8itnGufN7MEtPRCNHkKpNuA4onsRa",
        "/ipfs/k51qzi5uqu5dk3v4rmjber23h16xnr23bsggmqqil9z2gduiis5se8dht36dam",
        "k51qzi5uqu5dk3v4rmjber23h16xnr23bsggmqqil9z2gduiis5se8dht36da",
        "example.com",
        "bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354",
        "\u{1F680}",
    ] {
        assert!(Name::parse(bad).is_err(), "{bad:?}");
    }
    // A libp2p-key CID of an identity multihash longer than the 42 bytes
    // libp2p inlines, and of a sha2-512 hash.
    let long = format!("f0172002b{}", "00".repeat(43));
    assert_eq!(Name::parse(&long), Err(NameError::NotPeerId { code: 0, len: 43 }));
    let sha512 = format!("f017213{}{}", "40", "11".repeat(64));
    assert_eq!(Name::parse(&sha512), Err(NameError::NotPeerId { code: 0x13, len: 64 }));
    assert_eq!(Name::from_routing_key(b"/ipfs/\x00\x00"), Err(NameError::NotRoutingKey));
    assert!(Name::from_routing_key(b"/ipns/").is_err());
    // Trailing bytes after the multihash.
    let mut key = parse("12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA").routing_key();
    key.push(0);
    assert!(Name::from_routing_key(&key).is_err());
}
