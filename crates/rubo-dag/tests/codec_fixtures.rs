//! github.com/ipld/codec-fixtures, run as its Go (go-ipld-prime) runner does:
//! every form of a fixture, decoded and re-encoded in every codec present,
//! must hash to the CID in that codec's file name.

use std::path::{Path, PathBuf};

use rubo_dag::Codec;
use rubo_types::{Block, codec, parse_cid};

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/codec-fixtures")
}

/// go/special_cases.go: integers go-ipld-prime (and so Kubo) cannot hold.
const BLACKLIST: &[&str] = &[
    "int--11959030306112471732",
    "int-11959030306112471731",
    "int-18446744073709551615",
    "dag-pb/encode/bad sort",
    "dag-pb/encode/bad sort (incl length)",
];

struct Form {
    codec: Codec,
    block: Block,
}

fn load_fixture(dir: &Path) -> Vec<Form> {
    let mut forms = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        let (cid, codec_name) = name.split_once('.').unwrap();
        let code = codec::code_of(codec_name).unwrap();
        let cid = parse_cid(cid).unwrap();
        assert_eq!(cid.codec(), code, "{name}");
        // The fixture itself must hash to its name.
        let block = Block::new(cid, std::fs::read(&path).unwrap()).unwrap();
        forms.push(Form { codec: Codec::from_code(code).unwrap(), block });
    }
    forms
}

#[test]
fn every_form_reencodes_to_every_cid() {
    let mut dirs: Vec<_> = std::fs::read_dir(data_dir().join("fixtures"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let mut checked = 0;
    for dir in dirs {
        let fixture = dir.file_name().unwrap().to_str().unwrap().to_string();
        if BLACKLIST.contains(&fixture.as_str()) {
            continue;
        }
        let forms = load_fixture(&dir);
        for from in &forms {
            let node = from
                .codec
                .decode(from.block.data())
                .unwrap_or_else(|e| panic!("{fixture}: decode {}: {e}", from.codec.name()));
            for to in &forms {
                let enc = to
                    .codec
                    .encode(&node)
                    .unwrap_or_else(|e| panic!("{fixture}: {} -> {}: {e}", from.codec.name(), to.codec.name()));
                assert!(
                    Block::new(*to.block.cid(), enc.clone()).is_ok(),
                    "{fixture}: {} -> {}: got {:?}, want {:?}",
                    from.codec.name(),
                    to.codec.name(),
                    String::from_utf8_lossy(&enc),
                    String::from_utf8_lossy(to.block.data()),
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 300, "only {checked} conversions checked");
}

/// The blacklisted integers fail cleanly where Go fails.
#[test]
fn out_of_int64_range() {
    let dir = data_dir().join("fixtures/int-18446744073709551615");
    for form in load_fixture(&dir) {
        match form.codec {
            // dag-cbor keeps it (a Go UintNode) and re-encodes it...
            Codec::DagCbor => {
                let n = form.codec.decode(form.block.data()).unwrap();
                assert_eq!(Codec::DagCbor.encode(&n).unwrap(), form.block.data().to_vec());
                // ...but dag-json cannot write it (AsInt fails).
                assert!(Codec::DagJson.encode(&n).is_err());
            }
            // strconv.ParseInt refuses it.
            Codec::DagJson => assert!(form.codec.decode(form.block.data()).is_err()),
            _ => {}
        }
    }
    let dir = data_dir().join("fixtures/int--11959030306112471732");
    for form in load_fixture(&dir) {
        assert!(form.codec.decode(form.block.data()).is_err(), "{}", form.codec.name());
    }
}

fn negative(codec: &str, phase: &str) -> Vec<(String, serde_json::Value)> {
    let dir = data_dir().join("negative-fixtures").join(codec).join(phase);
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let cases: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
        for c in cases {
            let name = format!("{codec}/{phase}/{}", c["name"].as_str().unwrap());
            if !BLACKLIST.contains(&name.as_str()) {
                out.push((name, c));
            }
        }
    }
    out
}

#[test]
fn negative_decode_fixtures_fail() {
    let mut n = 0;
    for (codec_name, codec) in [("dag-cbor", Codec::DagCbor), ("dag-json", Codec::DagJson), ("dag-pb", Codec::DagPb)] {
        for (name, case) in negative(codec_name, "decode") {
            let bytes = hex::decode(case["hex"].as_str().unwrap()).unwrap();
            assert!(codec.decode(&bytes).is_err(), "{name} decoded");
            n += 1;
        }
    }
    assert!(n >= 10);
}

#[test]
fn negative_encode_fixtures_fail() {
    let cases = negative("dag-pb", "encode");
    assert!(cases.len() > 70);
    for (name, case) in cases {
        let json = serde_json::to_vec(&case["dag-json"]).unwrap();
        let node = Codec::DagJson.decode(&json).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(Codec::DagPb.encode(&node).is_err(), "{name} encoded");
    }
}
