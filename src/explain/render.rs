//! The report for people (a short timeline per virtual router, findings
//! with file:line) and for tools (JSON).

use std::fmt::Write as _;

use super::{Report, Severity};

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
        let _ = writeln!(out, "VRID {} ({})", group.vrid, group.routers.join(", "));
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

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn json_list(items: impl IntoIterator<Item = String>) -> String {
    format!("[{}]", items.into_iter().collect::<Vec<_>>().join(","))
}

pub fn render_json(report: &Report) -> String {
    let groups = report.groups.iter().map(|g| {
        let orders = g.start_orders.iter().map(|(order, master)| {
            format!(
                "{{\"order\":{},\"master\":{}}}",
                json_string(order),
                json_string(master)
            )
        });
        let steps = g.story.iter().map(|s| {
            format!(
                "{{\"event\":{},\"holders\":{},\"why\":{}}}",
                json_string(&s.event),
                json_list(s.holders.iter().map(|h| json_string(h))),
                json_string(&s.why)
            )
        });
        format!(
            "{{\"vrid\":{},\"routers\":{},\"start_orders\":{},\"steps\":{}}}",
            g.vrid,
            json_list(g.routers.iter().map(|r| json_string(r))),
            json_list(orders),
            json_list(steps)
        )
    });
    let findings = report.findings.iter().map(|f| {
        format!(
            "{{\"severity\":{},\"router\":{},\"file\":{},\"line\":{},\"message\":{}}}",
            json_string(severity_word(f.severity)),
            json_string(&f.router),
            json_string(&f.span.file.display().to_string()),
            f.span.line,
            json_string(&f.message)
        )
    });
    format!(
        "{{\"groups\":{},\"findings\":{},\"errors\":{}}}\n",
        json_list(groups),
        json_list(findings),
        report.has_errors()
    )
}
