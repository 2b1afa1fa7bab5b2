//! Differential conformance, keepalived as the oracle: a random LAN
//! scenario (configs and a script of events, from a seed) is played three
//! ways side by side, each on its own namespace LAN: all keepalived (twice,
//! since keepalived is not deterministic everywhere), all keepvip, and
//! mixed (alternate routers). keepvip and mixed must agree with one of the
//! keepalived runs: the settled holder of every address and the advertised
//! priorities after each event, who took over during it (no transient
//! extra moves), and when (see conformance/compare.rs for the tolerance).
//!
//! `make test` plays a fixed set of seeds and the regression list;
//! `make conformance CONFORMANCE_SCENARIOS=N` plays many, `SEED=N` one.
//!
//! Needs root (network namespaces), keepalived and tcpdump. Set
//! KEEPVIP_SKIP_NETNS=1 to skip explicitly where that is impossible.

mod common;
#[path = "conformance/compare.rs"]
mod compare;
#[path = "conformance/run.rs"]
mod run;
#[path = "conformance/scenario.rs"]
mod scenario;

use common::{Impl, Lan};
use run::Record;
use scenario::Scenario;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Seeds `make test` plays: a spread of what the generator makes (two to
/// four routers, checks, partitions, reloads, VRRPv2), all fast.
const FIXED_SEEDS: &[u64] = &[1, 2, 3, 4, 5, 6];

/// Seeds that once showed a mismatch, replayed by `make test`. Each says
/// what it found.
const REGRESSIONS: &[(u64, &str)] = &[];

/// Where the logs and captures of a mismatching scenario are kept.
fn keep_dir(seed: u64) -> PathBuf {
    std::env::temp_dir()
        .join("keepvip-conformance")
        .join(format!("seed-{seed}"))
}

struct Way {
    name: &'static str,
    imps: Vec<Impl>,
}

fn ways(scenario: &Scenario, names: &[&'static str]) -> Vec<Way> {
    let n = scenario.routers;
    names
        .iter()
        .map(|&name| {
            let imps = (1..=n)
                .map(|r| match name {
                    "keepvip" => Impl::Keepvip,
                    // Alternate routers; which one starts alternates too.
                    "mixed" if (r as u64 + scenario.seed).is_multiple_of(2) => Impl::Keepvip,
                    _ => Impl::Keepalived,
                })
                .collect();
            Way { name, imps }
        })
        .collect()
}

/// Plays the scenario each way at once, each on a LAN of its own. None when
/// namespace tests are skipped.
fn play_side_by_side(scenario: &Scenario, ways: &[Way], attempt: u32) -> Option<Vec<Record>> {
    let tags: Vec<String> = (0..ways.len())
        .map(|k| format!("cf{}a{attempt}w{k}", scenario.seed))
        .collect();
    let tag_refs: Vec<&str> = tags.iter().map(String::as_str).collect();
    let t0 = Instant::now();
    let mut lans = Lan::side_by_side(&tag_refs, scenario.routers)?;
    let set_up = t0.elapsed();
    let records: Vec<Record> = std::thread::scope(|scope| {
        let handles: Vec<_> = lans
            .iter_mut()
            .zip(ways)
            .map(|(lan, way)| scope.spawn(move || run::play(lan, scenario, way.name, &way.imps)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| panic!("seed {}: a runner panicked", scenario.seed))
            })
            .collect()
    });
    let played = t0.elapsed();
    // Logs and captures of every way are kept while the LANs still exist,
    // in case the comparison fails; removed again when it passes.
    for (lan, way) in lans.iter().zip(ways) {
        let dest = keep_dir(scenario.seed).join(format!("attempt{attempt}-{}", way.name));
        let _ = std::fs::create_dir_all(&dest);
        let _ = std::process::Command::new("cp")
            .args(["-a", "--"])
            .arg(format!("{}/.", lan.dir().display()))
            .arg(&dest)
            .status();
    }
    drop(lans);
    if std::env::var_os("KEEPVIP_CONFORMANCE_TIMES").is_some() {
        eprintln!(
            "conformance: seed {} attempt {attempt}: lock and LANs {set_up:.1?}, played by {played:.1?}, torn down by {:.1?}",
            scenario.seed,
            t0.elapsed()
        );
    }
    Some(records)
}

fn agrees(scenario: &Scenario, refs: &[Record], test: &Record) -> bool {
    refs.iter()
        .any(|r| compare::differences(scenario, r, test).is_empty())
}

/// Plays one seed; Ok(note) if keepvip and mixed each agree with one of
/// the keepalived runs, Err(report) otherwise. A way that disagrees is
/// played again next to two more keepalived runs (keepalived's outcomes
/// are pooled: any of them is right).
fn check_seed(seed: u64) -> Result<String, String> {
    let scenario = Scenario::generate(seed);
    let first = ways(
        &scenario,
        &["keepalived-1", "keepalived-2", "keepvip", "mixed"],
    );
    let Some(records) = play_side_by_side(&scenario, &first, 1) else {
        return Ok("skipped".to_string());
    };
    let (mut refs, tests) = (records[..2].to_vec(), records[2..].to_vec());
    let keepalived_agrees = compare::differences(&scenario, &refs[0], &refs[1]).is_empty();
    let failing: Vec<&Record> = tests
        .iter()
        .filter(|t| !agrees(&scenario, &refs, t))
        .collect();
    if std::env::var_os("KEEPVIP_CONFORMANCE_SHOW").is_some() {
        let all: Vec<&Record> = records.iter().collect();
        eprintln!("{}", compare::report(&scenario, &all, &[]));
    }
    if failing.is_empty() {
        let _ = std::fs::remove_dir_all(keep_dir(seed));
        return Ok(format!(
            "agree (keepalived runs {})",
            if keepalived_agrees { "alike" } else { "differ" }
        ));
    }
    let names: Vec<&'static str> = ["keepalived-3", "keepalived-4"]
        .into_iter()
        .chain(failing.iter().map(|f| {
            if f.way == "keepvip" {
                "keepvip"
            } else {
                "mixed"
            }
        }))
        .collect();
    let second = ways(&scenario, &names);
    let again = play_side_by_side(&scenario, &second, 2).expect("ran once already");
    refs.extend(again[..2].iter().cloned());
    let still: Vec<(&Record, &Record)> = failing
        .iter()
        .zip(&again[2..])
        .filter(|(a, b)| !agrees(&scenario, &refs, a) && !agrees(&scenario, &refs, b))
        .map(|(a, b)| (*a, b))
        .collect();
    if still.is_empty() {
        let _ = std::fs::remove_dir_all(keep_dir(seed));
        return Ok("agree on the second attempt (keepalived outcomes pooled)".to_string());
    }
    let mut text = String::new();
    for (a, b) in still {
        let diffs: Vec<String> = compare::differences(&scenario, &refs[0], a)
            .into_iter()
            .map(|d| format!("{} vs {}: {d}", refs[0].way, a.way))
            .collect();
        let mut shown: Vec<&Record> = refs.iter().collect();
        shown.push(a);
        shown.push(b);
        text.push_str(&compare::report(&scenario, &shown, &diffs));
    }
    let _ = writeln_to(&keep_dir(seed).join("report.txt"), &text);
    text.push_str(&format!(
        "logs and captures of every run: {}\n",
        keep_dir(seed).display()
    ));
    Err(text)
}

fn writeln_to(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

fn check_seeds(seeds: impl IntoIterator<Item = u64>) {
    let t0 = Instant::now();
    let mut failures = Vec::new();
    let mut ran = 0;
    for seed in seeds {
        let t = Instant::now();
        let outcome = check_seed(seed);
        ran += 1;
        match &outcome {
            Ok(note) => eprintln!("conformance: seed {seed}: {note} ({:.1?})", t.elapsed()),
            Err(report) => {
                eprintln!("conformance: seed {seed}: MISMATCH ({:.1?})", t.elapsed());
                eprintln!("{report}");
                failures.push(seed);
            }
        }
    }
    eprintln!(
        "conformance: {ran} scenarios in {:.0?}, {} mismatched: {failures:?}",
        t0.elapsed(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "conformance mismatches for seeds {failures:?} (reports above)"
    );
}

#[test]
fn fixed_seeds_and_regressions_agree_with_keepalived() {
    check_seeds(
        FIXED_SEEDS
            .iter()
            .copied()
            .chain(REGRESSIONS.iter().map(|(s, _)| *s)),
    );
}

/// `make conformance`: KEEPVIP_CONFORMANCE_SEED plays one seed; otherwise
/// KEEPVIP_CONFORMANCE_SCENARIOS seeds from KEEPVIP_CONFORMANCE_FIRST_SEED.
#[test]
#[ignore]
fn random_scenarios_agree_with_keepalived() {
    let env = |name: &str| {
        std::env::var(name)
            .ok()
            .filter(|v| !v.is_empty())
            .map(|v| v.parse::<u64>().unwrap_or_else(|_| panic!("{name}={v}")))
    };
    if let Some(seed) = env("KEEPVIP_CONFORMANCE_SEED") {
        eprintln!("{}", Scenario::generate(seed).describe());
        check_seeds([seed]);
        return;
    }
    let n = env("KEEPVIP_CONFORMANCE_SCENARIOS").unwrap_or(300);
    let first = env("KEEPVIP_CONFORMANCE_FIRST_SEED").unwrap_or(1000);
    check_seeds(first..first + n);
}
