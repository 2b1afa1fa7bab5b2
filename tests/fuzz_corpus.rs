//! The fuzz targets' inputs replayed on stable, in every `cargo test`: the
//! seeds (packets captured from keepalived, the seed article's configs),
//! every crash a fuzz run found (tests/fuzz/regressions/, which is how a
//! finding becomes a regular test), and the local corpus a `make fuzz` grew,
//! when there is one. The checks are the fuzz targets' (tests/fuzz/).

use std::fs;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use keepvip::vrrp::advert::{Advert, Endpoints};
use keepvip::vrrp::discard::{decode_packet, RawPacket};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The files directly in `dir` (none if it does not exist), sorted.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && !p.ends_with(".keep"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// What fuzz_targets/advert.rs checks.
fn check_packet(data: &[u8]) {
    // As a raw IPv4 socket hands it over, as an IPv6 payload with the
    // header fields the socket reports, and as a bare VRRP message of
    // either family: a verdict each time, never a panic, and what is
    // accepted survives a round trip through the encoder.
    let _ = decode_packet(RawPacket::Ipv4(data));
    let _ = decode_packet(RawPacket::Ipv6 {
        payload: data,
        source: Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1),
        destination: Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12),
        hop_limit: 255,
    });
    let v4 = Endpoints {
        source: Ipv4Addr::new(192, 0, 2, 11).into(),
        destination: Ipv4Addr::new(224, 0, 0, 18).into(),
    };
    let v6 = Endpoints {
        source: Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1).into(),
        destination: Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12).into(),
    };
    for ends in [&v4, &v6] {
        if let Ok(advert) = Advert::parse(data, ends) {
            assert_eq!(Advert::parse(&advert.to_bytes(ends), ends), Ok(advert));
        }
    }
}

/// What fuzz_targets/config.rs checks.
fn check_config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if text.contains("include") {
        return;
    }
    let _ = keepvip::config::parse_str(text, Path::new("/nonexistent/fuzz.conf"));
}

/// The IPv4 packets of a `tcpdump -xx` text capture (Ethernet stripped).
fn captured_packets(text: &str) -> Vec<Vec<u8>> {
    let mut frames: Vec<Vec<u8>> = Vec::new();
    let mut current: Option<Vec<u8>> = None;
    for line in text.lines() {
        let hex = line
            .trim_start()
            .strip_prefix("0x")
            .and_then(|l| l.split_once(':'))
            .map(|(_, bytes)| bytes);
        match (hex, line.starts_with(char::is_whitespace)) {
            (Some(bytes), true) => {
                let frame = current.get_or_insert_with(Vec::new);
                for word in bytes.split_whitespace() {
                    for i in (0..word.len()).step_by(2) {
                        frame.push(u8::from_str_radix(&word[i..i + 2], 16).unwrap());
                    }
                }
            }
            _ => frames.extend(current.take()),
        }
    }
    frames.extend(current);
    frames
        .into_iter()
        .filter(|f| f.len() > 14 && f[12..14] == [0x08, 0x00])
        .map(|f| f[14..].to_vec())
        .collect()
}

#[test]
fn captured_packets_decode() {
    let mut packets = 0;
    for file in files(&root().join("tests/fixtures/captures")) {
        let text = fs::read_to_string(&file).unwrap();
        for packet in captured_packets(&text) {
            decode_packet(RawPacket::Ipv4(&packet))
                .unwrap_or_else(|e| panic!("{}: captured packet refused: {e}", file.display()));
            check_packet(&packet);
            packets += 1;
        }
    }
    assert!(packets > 0, "no captured packets found");
}

#[test]
fn advert_seeds_regressions_and_corpus_replay() {
    let mut inputs = 0;
    for dir in [
        "tests/fuzz/seeds/advert",
        "tests/fuzz/regressions/advert",
        "tests/fuzz/corpus/advert",
    ] {
        for file in files(&root().join(dir)) {
            let data = fs::read(&file).unwrap();
            // A panic names the file, so a regression is easy to find.
            eprintln!("replaying {}", file.display());
            check_packet(&data);
            inputs += 1;
        }
    }
    assert!(inputs > 0);
}

#[test]
fn config_seeds_regressions_and_corpus_replay() {
    let seeds = files(&root().join("tests/fixtures/seed"));
    assert!(!seeds.is_empty());
    for file in &seeds {
        // Real configs: they must parse, not merely not crash.
        keepvip::config::load(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        check_config(&fs::read(file).unwrap());
    }
    for dir in ["tests/fuzz/regressions/config", "tests/fuzz/corpus/config"] {
        for file in files(&root().join(dir)) {
            eprintln!("replaying {}", file.display());
            check_config(&fs::read(&file).unwrap());
        }
    }
}
