//! `rubo add`, `cat`, `ls`, `get` through the binary, against Kubo's own test
//! vectors (test/sharness t0040-t0047, t0260; CIDs re-derived independently).

mod common;

use std::path::Path;

use common::TestRepo;

fn write(p: &Path, data: &[u8]) {
    if let Some(d) = p.parent() {
        std::fs::create_dir_all(d).unwrap();
    }
    std::fs::write(p, data).unwrap();
}

fn planets(root: &Path) -> std::path::PathBuf {
    let d = root.join("planets");
    write(&d.join("mars.txt"), b"Hello Mars!\n");
    write(&d.join("venus.txt"), b"Hello Venus!\n");
    d
}

#[test]
fn t0040_single_files() {
    let r = TestRepo::new();
    let t = tempfile::tempdir().unwrap();
    let f = t.path().join("hw");
    write(&f, b"Hello Worlds!\n");
    let fs = f.to_str().unwrap();
    let want = "QmVr26fY1tKyspEJBniVhqxQeEjhF78XerGiqWAwraVLQH";
    assert_eq!(r.ok(&["add", fs]), format!("added {want} hw"));
    for extra in [
        &["--only-hash"][..],
        &["--chunker", "rabin"],
        &["--chunker", "size-64"],
        &["--chunker", "rabin-36-512-1024"],
        &["--chunker", "buzhash"],
    ] {
        let mut args = vec!["add", "-q"];
        args.extend_from_slice(extra);
        args.push(fs);
        assert_eq!(r.ok(&args), want, "{extra:?}");
    }
    assert_eq!(r.ok(&["add", "-q", "-t", fs]), "QmUkUQgxXeggyaD5Ckv8ZqfW8wHBX6cYyeiyqvVZYzq5Bi");
    let e = t.path().join("empty");
    write(&e, b"");
    assert_eq!(r.ok(&["add", "-q", e.to_str().unwrap()]), "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH");
    assert_eq!(
        r.ok(&["add", "-q", "--raw-leaves", e.to_str().unwrap()]),
        "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
    );
    // stdin
    assert_eq!(
        r.ok_stdin(&["add", "--stdin-name", "file.txt"], b"IPFS\n"),
        "added QmdFyxZXsFiP4csgfM5uPu99AvFiKH62CSPDw5TP92nr7w file.txt"
    );
    let out = r.ok_stdin(&["add"], b"Hello Neptune!\nHello Pluton!");
    assert_eq!(
        out,
        "added QmZDhWpi8NvKrekaYYhxKCdNVGWsFFe1CREnAjP1QbPaB3 QmZDhWpi8NvKrekaYYhxKCdNVGWsFFe1CREnAjP1QbPaB3"
    );
    assert_eq!(r.ok_stdin(&["add", "-Q"], b"Hello Jupiter!\n"), "QmUnvPcBctVTAcJpigv6KMqDvmDewksPWrNVoy1E1WP5fh");
    assert_eq!(
        r.ok_stdin(&["add", "-q", "--cid-base=base32"], b"base32 test\n"),
        "bafybeibyosqxljd2eptb4ebbtvk7pb4aoxzqa6ttdsflty6rsslz5y6i34"
    );
    // add_test.go: "hello world" with Import.* settings.
    assert_eq!(r.ok_stdin(&["add", "-Q"], b"hello world"), "Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD");
    assert_eq!(
        r.ok_stdin(&["add", "-Q", "--hash=sha2-512"], b"hello world"),
        "bafkrgqbqt3gerhas23vuzrapkdeqf4vu2dwxp3srdj6hvg6nhsug2tgyn6mj3u23yx7utftq3i2ckw2fwdh5qmhid5qf3t35yvkc5e5ottlw6"
    );
    r.ok(&["config", "--json", "Import.CidVersion", "1"]);
    assert_eq!(
        r.ok_stdin(&["add", "-Q"], b"hello world"),
        "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"
    );
    r.ok(&["config", "--json", "Import.UnixFSRawLeaves", "false"]);
    assert_eq!(
        r.ok_stdin(&["add", "-Q"], b"hello world"),
        "bafybeihykld7uyxzogax6vgyvag42y7464eywpf55gxi5qpoisibh3c5wa"
    );
}

#[test]
fn t0040_directories() {
    let r = TestRepo::new();
    let t = tempfile::tempdir().unwrap();
    let p = planets(t.path());
    let ps = p.to_str().unwrap();
    assert_eq!(
        r.ok(&["add", "-r", ps]),
        "added QmPrrHqJzto9m7SyiRzarwkqPcCSsKR2EB1AyqJfe8L8tN planets/mars.txt\n\
         added QmU5kp3BH3B8tnWUU2Pikdb2maksBNkb92FHRr56hyghh4 planets/venus.txt\n\
         added QmWSgS32xQEcXMeqd3YPJLrNBLSdsfYCep2U7CFkyrjXwY planets"
    );
    assert_eq!(r.ok(&["add", "-Q", "-r", "--raw-leaves", ps]), "QmfWfQfKCY5Ukv9peBbxM5vqWM9BzmqUSXvdCgjT2wsiBT");
    assert_eq!(
        r.ok(&["add", "-Q", "-r", "--cid-version=1", ps]),
        "bafybeih7e5dmkyk25up5vxug4q3hrg2fxbzf23dfrac2fns5h7z4aa7ioi"
    );
    assert_eq!(
        r.ok(&["add", "-Q", "-r", "--cid-version=1", "--raw-leaves=false", ps]),
        "bafybeif5tuep5ap2d7zyhbktucey75aoacxufgt6i3v4gebmixyipnyp7y"
    );
    assert_eq!(
        r.ok(&["add", "-Q", "-r", "--hash=blake2b-256", ps]),
        "bafykbzaceaptbcs7ik5mdfpot3b4ackvxlwh7loc5jcrtkayf64ukl7zyk46e"
    );
    // hey + hello/world
    let d = t.path().join("d");
    write(&d.join("hey"), b"Hey\n");
    write(&d.join("hello/world"), b"World\n");
    assert_eq!(r.ok(&["add", "-r", "-Q", d.to_str().unwrap()]), "QmZQWnfcqJ6hNkkPvrY9Q5X39GP3jUnUbAV4AbmbbR3Cb1");
    // moons, -rn: outputs in Kubo's order (files in walk order, then directories bottom-up)
    let m = t.path().join("moons");
    write(&m.join("jupiter/europa.txt"), b"Hello Europa!\n");
    write(&m.join("mercury.txt"), b"hey you are no moon!\n");
    write(&m.join("saturn/titan.txt"), b"Hello Titan!\n");
    assert_eq!(
        r.ok(&["add", "-rn", m.to_str().unwrap()]),
        "added Qmbjg7zWdqdMaK2BucPncJQDxiALExph5k3NkQv5RHpccu moons/jupiter/europa.txt\n\
         added QmRsTB5CpEUvDUpDgHCzb3VftZ139zrk9zs5ZcgYh9TMPJ moons/mercury.txt\n\
         added QmZzppb9WHn552rmRqpPfgU5FEiHH6gDwi3MrB9cTdPwdb moons/saturn/titan.txt\n\
         added QmS5mZddhFPLWFX3w6FzAy9QxyYkaxvUpsWCtZ3r7jub9J moons/jupiter\n\
         added QmaMagZT4rTE7Nonw8KGSK4oe1bh533yhZrCo1HihSG8FK moons/saturn\n\
         added QmbGoaQZm8kjYfCiN1aBsgwhqfUBGDYTrDb91Mz7Dvq81B moons"
    );
    // --cid-version 1 dir of two files
    let tdir = t.path().join("test");
    write(&tdir.join("mfs1.txt"), b"file1\n");
    write(&tdir.join("mfs2.txt"), b"file2\n");
    assert_eq!(
        r.ok(&["add", "-Q", "-r", "--cid-version", "1", tdir.to_str().unwrap()]),
        "bafybeic7xwqwovt4g4bax6d3udp6222i63vj2rblpbim7uy2uw4a5gahha"
    );
    // A directory without -r is an error.
    let e = r.fails(&["add", ps]);
    assert!(e.contains("is a directory, use the '-r' flag"), "{e}");
    // -w wraps a file: the wrapper holds it under its name.
    let f = t.path().join("hw");
    write(&f, b"IPFS\n");
    let out = r.ok(&["add", "-w", "-q", f.to_str().unwrap()]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2);
    let wrapper = lines[1];
    assert_eq!(r.ok(&["cat", &format!("/ipfs/{wrapper}/hw")]), "IPFS");
}

#[test]
fn t0042_hidden_and_ignore() {
    let r = TestRepo::new();
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("mountdir");
    write(&d.join("mars.txt"), b"Hello Mars\n");
    write(&d.join("venus.txt"), b"Hello Venus\n");
    write(&d.join(".pluto.txt"), b"Hello Pluto\n");
    write(&d.join(".charon.txt"), b"Hello Charon\n");
    write(&d.join(".gitignore"), b"mars.txt\n");
    write(&d.join(".asteroids/ceres.txt"), b"Hello Ceres\n");
    write(&d.join(".asteroids/pallas.txt"), b"Hello Pallas\n");
    let ds = d.to_str().unwrap();
    assert_eq!(r.ok(&["add", "-Q", "-r", ds]), "QmR8nD1Vzk5twWVC6oShTHvv7mMYkVh6dApCByBJyV2oj3");
    assert_eq!(r.ok(&["add", "-Q", "-r", "--hidden", ds]), "QmczhHaXyb3bc9APMxe4MXbr87V5YDLKLaw3DZX3fK7HrK");
    let rules = d.join(".gitignore");
    assert_eq!(
        r.ok(&["add", "-Q", "-r", "--hidden", "--ignore-rules-path", rules.to_str().unwrap(), ds]),
        "QmaRsiaCYvc65RqHVAcv2tqyjZgQYgvaNqW1tQGsjfy4N5"
    );
    assert_eq!(
        r.ok(&[
            "add",
            "-Q",
            "-r",
            "--hidden",
            "--ignore-rules-path",
            rules.to_str().unwrap(),
            "--ignore",
            ".asteroids",
            "--ignore",
            "venus.txt",
            ds
        ]),
        "QmemuMahjSh7eYLY3hbz2q8sqMPnbQzBQeUdosqNiWChE6"
    );
    // A hidden file named on the command line is added.
    let v = t.path().join(".vimrc");
    write(&v, b"set nocompatible\n");
    assert_eq!(r.ok(&["add", "-Q", v.to_str().unwrap()]), "QmT4uMRDCN7EMpFeqwvKkboszbqeW1kWVGrBxBuCGqZcQc");
}

#[test]
fn t0044_symlinks() {
    let r = TestRepo::new();
    let t = tempfile::tempdir().unwrap();
    // Link targets are stored as written (relative), whatever the working directory.
    write(&t.path().join("files/foo/baz"), b"some text\n");
    std::fs::create_dir_all(t.path().join("files/bar")).unwrap();
    std::os::unix::fs::symlink("files/foo/baz", t.path().join("files/bar/baz")).unwrap();
    std::os::unix::fs::symlink("files/does/not/exist", t.path().join("files/bad")).unwrap();
    let files = t.path().join("files");
    assert_eq!(r.ok(&["add", "-Q", "-r", files.to_str().unwrap()]), "QmWdiHKoeSW8G1u7ATCgpx4yMoUhYaJBQGkyPLkS9goYZ8");
    assert_eq!(
        r.ok(&["add", "-Q", "-r", "--cid-version=1", files.to_str().unwrap()]),
        "bafybeibyhlx64cklod6isy3h7tsmr4qvam3ae3b74n3hfes5bythjrwyua"
    );
    let link = t.path().join("files/bar/baz");
    assert_eq!(r.ok(&["add", "-Q", link.to_str().unwrap()]), "QmdocmZeF7qwPT9Z8SiVhMSyKA2KKoA2J7jToW6z6WBmxR");
    let bad = t.path().join("files/bad");
    assert_eq!(r.ok(&["add", "-Q", bad.to_str().unwrap()]), "QmWYN8SEXCgNT2PSjB6BnxAx6NJQtazWoBkTRH9GRfPFFQ");
}

#[test]
fn t0047_mode_and_mtime() {
    use std::os::unix::fs::PermissionsExt;
    let r = TestRepo::new();
    let t = tempfile::tempdir().unwrap();
    let f = t.path().join("mtime1");
    write(&f, b"");
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o640)).unwrap();
    let fs = f.to_str().unwrap();
    assert_eq!(r.ok(&["add", "-Q", "--preserve-mode", fs]), "QmQLgxypSNGNFTuUPGCecq6dDEjb6hNB5xSyVmP3cEuNtq");
    assert_eq!(r.ok(&["add", "-Q", "--mode=0764", fs]), "QmchD3BN8TQ3RW6jPLxSaNkqvfuj7syKhzTRmL4EpyY1Nz");
    assert_eq!(r.ok(&["add", "-Q", "--mtime=1603539720", fs]), "QmT3aY4avDcYXCWpU8CJzqUkW7YEuEsx36S8cTNoLcuK1B");
    assert_eq!(
        r.ok(&["add", "-Q", "--mtime=1603539720", "--mtime-nsecs=54321", fs]),
        "QmaKH8H5rXBUBCX4vdxi7ktGQEL7wejV7L9rX2qpZjwncz"
    );
    assert_eq!(
        r.ok(&["add", "-Q", "--mode=0764", "--mtime=1603539720", "--mtime-nsecs=54321", fs]),
        "QmUkxrtBA8tPjwCYz1HrsoRfDz6NgKut3asVeHVQNH4C8L"
    );
    let e = r.fails(&["add", "--raw-leaves", "--mode=0764", fs]);
    assert!(e.contains("can't be used with UnixFS metadata"), "{e}");
    let e = r.fails(&["add", "--mtime-nsecs=5", fs]);
    assert!(e.contains("requires \"mtime\""), "{e}");
}

#[test]
fn t0046_inline() {
    let r = TestRepo::new();
    assert_eq!(
        r.ok_stdin(&["add", "-Q", "--inline", "--raw-leaves"], b"jkD98jkD975hkD8\n"),
        "bafkqaedknncdsodknncdsnzvnbvuioak"
    );
    let e = r.fails_stdin(&["add", "--inline", "--inline-limit=129"], b"x");
    assert!(e.contains("exceeds maximum allowed size of 128 bytes"), "{e}");
}

#[test]
fn t0260_sharding() {
    let r = TestRepo::new();
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("testdata");
    std::fs::create_dir_all(&d).unwrap();
    for i in 1..=2000 {
        std::fs::write(d.join(format!("file{i}")), format!("{i}\n")).unwrap();
    }
    let ds = d.to_str().unwrap();
    // Under the threshold: a basic directory.
    r.ok(&["config", "Import.UnixFSHAMTDirectorySizeThreshold", "1GB"]);
    assert_eq!(r.ok(&["add", "-Q", "-r", ds]), "QmavrTrQG4VhoJmantURAYuw3bowq3E2WcvP36NRQDAC1N");
    r.ok(&["config", "Import.UnixFSHAMTDirectorySizeThreshold", "1B"]);
    let hamt = r.ok(&["add", "-Q", "-r", ds]);
    assert_eq!(hamt, "QmSCJD1KYLhVVHqBK3YyXuoEqHt7vggyJhzoFYbT8v1XYL");
    assert_eq!(
        r.ok(&["add", "-Q", "-r", "--cid-version=1", ds]),
        "bafybeibiemewfzzdyhq2l74wrd6qj2oz42usjlktgnlqv4yfawgouaqn4u"
    );
    // Reading through the HAMT: cat, ls, path resolution.
    assert_eq!(r.ok(&["cat", &format!("/ipfs/{hamt}/file100")]), "100");
    let ls = r.ok(&["ls", &hamt]);
    assert_eq!(ls.lines().count(), 2000);
    assert!(ls.contains("QmZ3RfWk1u5LEGYLHA633B5TNJy3Du27K6Fny9wcxpowGS 4 file100"), "file100 line missing");
    let e = r.fails(&["cat", &format!("/ipfs/{hamt}/file2001")]);
    assert!(e.contains("no link named"), "{e}");
}

/// Deterministic bytes (no RNG): a simple affine pattern.
fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed;
    (0..len)
        .map(|_| {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (x >> 56) as u8
        })
        .collect()
}

#[test]
fn cat_ranges_and_get_roundtrip() {
    let r = TestRepo::new();
    let t = tempfile::tempdir().unwrap();
    let data = pattern(3 * 262144 + 1000, 7);
    let f = t.path().join("big");
    write(&f, &data);
    let cid = r.ok(&["add", "-Q", f.to_str().unwrap()]);
    let cat = |args: &[&str]| r.run(&[&["cat"], args].concat()).stdout;
    assert_eq!(cat(&[&cid]), data);
    // Exact at chunk boundaries.
    for (off, len) in
        [(0usize, 262144usize), (262143, 2), (262144, 262144), (524287, 1), (786432, 1000), (786431, 5000)]
    {
        let got = cat(&["--offset", &off.to_string(), "--length", &len.to_string(), &cid]);
        let end = (off + len).min(data.len());
        assert_eq!(got, &data[off..end], "offset {off} length {len}");
    }
    assert!(cat(&["--offset", "10000000", &cid]).is_empty());
    // get restores a tree byte for byte.
    let tree = t.path().join("tree");
    write(&tree.join("a/b/c.bin"), &pattern(700_000, 3));
    write(&tree.join("a/empty"), b"");
    write(&tree.join("ünïcödé name.txt"), b"unicode\n");
    std::fs::create_dir_all(tree.join("emptydir")).unwrap();
    let root = r.ok(&["add", "-Q", "-r", tree.to_str().unwrap()]);
    let out = t.path().join("out");
    r.ok(&["get", "-o", out.to_str().unwrap(), &root]);
    assert_eq!(std::fs::read(out.join("a/b/c.bin")).unwrap(), pattern(700_000, 3));
    assert_eq!(std::fs::read(out.join("a/empty")).unwrap(), b"");
    assert_eq!(std::fs::read(out.join("ünïcödé name.txt")).unwrap(), b"unicode\n");
    assert!(out.join("emptydir").is_dir());
    // Re-adding what get wrote gives the same CID.
    assert_eq!(r.ok(&["add", "-Q", "-r", out.to_str().unwrap()]), root);
    // cat of a directory is a clear error.
    let e = r.fails(&["cat", &root]);
    assert!(e.contains("this dag node is a directory"), "{e}");
}

#[test]
fn only_hash_stores_nothing() {
    let r = TestRepo::new();
    let cid = r.ok_stdin(&["add", "-Q", "-n"], b"not stored\n");
    let e = r.fails(&["cat", &cid]);
    assert!(e.contains("not found"), "{e}");
    let cid2 = r.ok_stdin(&["add", "-Q"], b"not stored\n");
    assert_eq!(cid, cid2);
    assert_eq!(r.ok(&["cat", &cid]), "not stored");
}
