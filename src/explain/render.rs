//! The report for people (a short timeline per virtual router, findings
//! with file:line) and for tools (JSON).

use std::fmt::Write as _;

use super::{Report, Severity};
use crate::json;

fn severity_word(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

fn holders_text(holders: &[String]) -> String {
    match holders {
        [] => "nobody holds the VIP".to_string(),
        [one] => format!("{one} holds the VIP"),
        many => format!("SPLIT BRAIN: {} all hold the VIP", many.join(", ")),
    }
}

pub fn render_text(report: &Report) -> String {
    let mut out = String::new();
    for group in &report.groups {
        let _ = writeln!(out, "{} ({})", group.label, group.routers.join(", "));
        if group.start_orders.len() > 1 {
            let _ = writeln!(out, "  the start order matters:");
            for (order, master) in &group.start_orders {
                let _ = writeln!(out, "    {order}: {master} becomes master");
            }
        }
        for (n, step) in group.story.iter().enumerate() {
            let _ = writeln!(
                out,
                "  {}. {}: {}",
                n + 1,
                step.event,
                holders_text(&step.holders)
            );
            let _ = writeln!(out, "     {}", step.why);
        }
        let _ = writeln!(out);
    }
    if report.findings.is_empty() {
        let _ = writeln!(out, "no findings");
    }
    for f in &report.findings {
        let _ = writeln!(
            out,
            "{}: {}: {}",
            f.span,
            severity_word(f.severity),
            f.message
        );
    }
    out
}

pub fn render_json(report: &Report) -> String {
    let groups = report.groups.iter().map(|g| {
        let orders = g.start_orders.iter().map(|(order, master)| {
            format!(
                "{{\"order\":{},\"master\":{}}}",
                json::string(order),
                json::string(master)
            )
        });
        let steps = g.story.iter().map(|s| {
            format!(
                "{{\"event\":{},\"holders\":{},\"why\":{}}}",
                json::string(&s.event),
                json::list(s.holders.iter().map(|h| json::string(h))),
                json::string(&s.why)
            )
        });
        format!(
            "{{\"vrid\":{},\"family\":{},\"interface\":{},\"label\":{},\"routers\":{},\
             \"start_orders\":{},\"steps\":{}}}",
            g.vrid,
            json::string(if g.ipv6 { "IPv6" } else { "IPv4" }),
            json::string(&g.interface),
            json::string(&g.label),
            json::list(g.routers.iter().map(|r| json::string(r))),
            json::list(orders),
            json::list(steps)
        )
    });
    let findings = report.findings.iter().map(|f| {
        format!(
            "{{\"severity\":{},\"router\":{},\"file\":{},\"line\":{},\"message\":{}}}",
            json::string(severity_word(f.severity)),
            json::string(&f.router),
            json::string(&f.span.file.display().to_string()),
            f.span.line,
            json::string(&f.message)
        )
    });
    format!(
        "{{\"groups\":{},\"findings\":{},\"errors\":{}}}\n",
        json::list(groups),
        json::list(findings),
        report.has_errors()
    )
}
