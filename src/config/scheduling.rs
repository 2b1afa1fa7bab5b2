//! `global_defs` keywords that say how the VRRP process is scheduled on a
//! busy machine: `vrrp_priority` (nice), `vrrp_rt_priority` and
//! `max_auto_priority` (SCHED_RR), `min_auto_priority_delay`,
//! `vrrp_no_swap` (mlockall), `vrrp_rlimit_rttime` and
//! `vrrp_cpu_affinity`.
//!
//! keepalived 2.2.7 never refuses a config over these: a bad value is
//! warned about and ignored (or, for the realtime priority, clamped), and
//! so it is here, with the same meaning for each value.

use super::model::{Scheduling, Warning};
use super::syntax::Statement;
use super::values::{signed_in_range, warn_at, warn_keepalived_error_at};

/// sched_get_priority_max(SCHED_RR) on Linux.
pub const MAX_REALTIME_PRIORITY: u32 = 99;
/// keepalived's ceiling for `min_auto_priority_delay`: ten seconds.
const MAX_AUTO_PRIORITY_DELAY_US: u64 = 10_000_000;

/// Reads one `global_defs` line into `scheduling`; false if the keyword is
/// not one of these.
pub(super) fn scheduling_keyword(
    line: &Statement,
    scheduling: &mut Scheduling,
    warnings: &mut Vec<Warning>,
) -> bool {
    let value = line.args.first().map(String::as_str);
    // keepalived 2.2.7 reports each bad value here as a config error, but
    // for vrrp_rlimit_rttime's (watched with its -t).
    let mut rlimit_warning = None;
    let mut warn = |message: String| warn_keepalived_error_at(warnings, &line.span, message);
    match line.keyword.as_str() {
        "vrrp_priority" => match value.map(|v| signed_in_range(v, -20, 19)) {
            Some(Some(nice)) => scheduling.nice = Some(nice),
            Some(None) => warn(format!(
                "vrrp_priority: '{}' is not a nice value -20..19, ignored",
                value.unwrap_or_default()
            )),
            None => warn("vrrp_priority: no priority given, ignored".to_string()),
        },
        "vrrp_rt_priority" => match value.map(|v| signed_in_range(v, i32::MIN, i32::MAX)) {
            // keepalived clamps rather than ignores an out-of-range value.
            Some(Some(priority)) if priority < 1 => {
                warn(format!(
                    "vrrp_rt_priority: {priority} is below the minimum 1, using 1"
                ));
                scheduling.realtime_priority = Some(1);
            }
            Some(Some(priority)) if priority as u32 > MAX_REALTIME_PRIORITY => {
                warn(format!(
                    "vrrp_rt_priority: {priority} is above the maximum \
                     {MAX_REALTIME_PRIORITY}, using {MAX_REALTIME_PRIORITY}"
                ));
                scheduling.realtime_priority = Some(MAX_REALTIME_PRIORITY);
            }
            Some(Some(priority)) => scheduling.realtime_priority = Some(priority as u32),
            Some(None) => warn(format!(
                "vrrp_rt_priority: '{}' is not a number, ignored",
                value.unwrap_or_default()
            )),
            None => warn("vrrp_rt_priority: no priority given, ignored".to_string()),
        },
        // No value: as high as SCHED_RR goes. -1: off, and no start-up
        // notice suggesting it.
        "max_auto_priority" => match value.map(|v| signed_in_range(v, -1, 99)) {
            None => scheduling.max_auto_priority = MAX_REALTIME_PRIORITY,
            Some(Some(-1)) => {
                scheduling.max_auto_priority = 0;
                scheduling.auto_priority_silenced = true;
            }
            Some(Some(max)) => scheduling.max_auto_priority = max as u32,
            Some(None) => warn(format!(
                "max_auto_priority: '{}' must be in 0..99 (or -1 to disable), ignored",
                value.unwrap_or_default()
            )),
        },
        "min_auto_priority_delay" => match value.and_then(|v| v.parse::<u64>().ok()) {
            Some(delay) if (1..=MAX_AUTO_PRIORITY_DELAY_US).contains(&delay) => {
                scheduling.min_auto_priority_delay_us = delay;
            }
            _ => warn(format!(
                "min_auto_priority_delay: '{}' is not a delay of 1..{MAX_AUTO_PRIORITY_DELAY_US} \
                     microseconds, ignored",
                value.unwrap_or_default()
            )),
        },
        // keepalived takes the bare keyword and ignores anything after it.
        "vrrp_no_swap" => scheduling.no_swap = true,
        "vrrp_rlimit_rttime" => match value.and_then(|v| v.parse::<u64>().ok()) {
            Some(limit) if limit >= 2 => scheduling.rlimit_rttime_us = limit,
            _ => {
                rlimit_warning = Some(format!(
                    "vrrp_rlimit_rttime: '{}' is not a limit of at least 2 microseconds, ignored",
                    value.unwrap_or_default()
                ))
            }
        },
        // A list of CPU numbers; one bad number drops the whole setting,
        // as keepalived does. Whether each CPU exists is only known where
        // the daemon runs, and checked there.
        "vrrp_cpu_affinity" => {
            let cpus: Option<Vec<usize>> = line
                .args
                .iter()
                .map(|cpu| {
                    cpu.bytes()
                        .all(|b| b.is_ascii_digit())
                        .then(|| cpu.parse::<usize>().ok())
                        .flatten()
                })
                .collect();
            match cpus {
                Some(cpus) if !cpus.is_empty() => scheduling.cpu_affinity = cpus,
                _ => warn(format!(
                    "vrrp_cpu_affinity: '{}' is not a list of CPU numbers, ignored",
                    line.args.join(" ")
                )),
            }
        }
        _ => return false,
    }
    if let Some(message) = rlimit_warning {
        warn_at(warnings, &line.span, message);
    }
    true
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::parse_str;

    fn parse(global_defs: &str) -> (crate::config::model::Scheduling, Vec<String>) {
        let text = format!("global_defs {{\n{global_defs}\n}}\n");
        let (config, warnings) = parse_str(&text, Path::new("t.conf")).expect("config loads");
        let warnings = warnings.iter().map(|w| w.message.clone()).collect();
        (config.scheduling, warnings)
    }

    #[test]
    fn defaults_are_keepalived_s() {
        let (s, warnings) = parse("");
        assert!(warnings.is_empty());
        assert_eq!(s.nice, None);
        assert_eq!(s.realtime_priority, None);
        assert_eq!(s.max_auto_priority, 0);
        assert_eq!(s.min_auto_priority_delay_us, 1_000_000);
        assert!(!s.no_swap);
        assert_eq!(s.rlimit_rttime_us, 10_000);
        assert!(s.cpu_affinity.is_empty());
        assert!(s.mentions_auto_priority_notice());
    }

    #[test]
    fn every_keyword_is_read() {
        let (s, warnings) = parse(
            "vrrp_priority -10\nvrrp_rt_priority 50\nmax_auto_priority 30\n\
             min_auto_priority_delay 200000\nvrrp_no_swap\nvrrp_rlimit_rttime 20000\n\
             vrrp_cpu_affinity 0 1",
        );
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(s.nice, Some(-10));
        assert_eq!(s.realtime_priority, Some(50));
        assert_eq!(s.max_auto_priority, 30);
        assert_eq!(s.min_auto_priority_delay_us, 200_000);
        assert!(s.no_swap);
        assert_eq!(s.rlimit_rttime_us, 20_000);
        assert_eq!(s.cpu_affinity, vec![0, 1]);
        assert!(!s.mentions_auto_priority_notice());
    }

    #[test]
    fn max_auto_priority_alone_means_the_highest_and_minus_one_silences() {
        assert_eq!(parse("max_auto_priority").0.max_auto_priority, 99);
        let (off, warnings) = parse("max_auto_priority -1");
        assert_eq!(off.max_auto_priority, 0);
        assert!(warnings.is_empty());
        assert!(!off.mentions_auto_priority_notice());
        assert_eq!(parse("max_auto_priority 0").0.max_auto_priority, 0);
    }

    #[test]
    fn bad_values_warn_and_are_ignored_or_clamped_as_keepalived_does() {
        let (s, warnings) = parse(
            "vrrp_priority -25\nvrrp_rt_priority 100\nmax_auto_priority 200\n\
             vrrp_rlimit_rttime -1\nvrrp_cpu_affinity 0 bogus",
        );
        assert_eq!(warnings.len(), 5, "{warnings:?}");
        assert_eq!(s.nice, None);
        assert_eq!(s.realtime_priority, Some(99));
        assert_eq!(s.max_auto_priority, 0);
        assert_eq!(s.rlimit_rttime_us, 10_000);
        assert!(s.cpu_affinity.is_empty());
        assert_eq!(parse("vrrp_rt_priority 0").0.realtime_priority, Some(1));
        assert_eq!(parse("vrrp_rlimit_rttime 1").0.rlimit_rttime_us, 10_000);
        assert!(parse("vrrp_no_swap yes").0.no_swap);
    }
}
