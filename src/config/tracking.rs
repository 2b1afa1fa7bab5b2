//! An instance's `track_script { ... }` and `track_interface { ... }`
//! blocks: one tracked thing per line, `NAME [weight N]`.

use super::model::{ConfigError, Span, TrackedInterface, Warning};
use super::script::{weight_options, MAX_SCRIPT_WEIGHT};
use super::syntax::Statement;
use super::values::{
    block_of, error_at, expected_found, signed_in_range, warn_keepalived_error_at,
};

/// keepalived's range for `track_interface` weights. It takes +-254 but
/// lowers it to +-253 with a warning; keepvip does the same.
const MAX_INTERFACE_WEIGHT: i32 = 254;
/// Linux interface names are at most IFNAMSIZ - 1 bytes.
pub(crate) const MAX_INTERFACE_NAME: usize = 15;

/// A `track_script` line before the name is looked up: `vrrp_script`
/// blocks may come later in the file, so lookup waits until every
/// top-level statement has been read (see `parser::resolve_tracked_scripts`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ScriptRef {
    pub name: String,
    /// The line's own `weight N`, if any.
    pub weight: Option<i32>,
    /// The line's `reverse` / `noreverse`; None: the script's own.
    pub reverse: Option<bool>,
    pub span: Span,
}

/// Checks an interface name as the kernel would take it; `line` is where
/// it was written.
pub(crate) fn interface_name(line: &Statement, text: &str) -> Result<String, ConfigError> {
    if text.is_empty() || text.len() > MAX_INTERFACE_NAME || text.contains('/') {
        return Err(expected_found(
            line,
            "an interface name of at most 15 bytes",
            text,
        ));
    }
    Ok(text.to_string())
}

/// `track_script { NAME [weight N] ... }`. A name seen twice keeps its
/// first line, with keepalived's warning.
pub(crate) fn track_scripts(
    instance: &str,
    block: &[Statement],
    warnings: &mut Vec<Warning>,
) -> Result<Vec<ScriptRef>, ConfigError> {
    let mut refs: Vec<ScriptRef> = Vec::new();
    for line in block {
        let owner = format!("track_script {}", line.keyword);
        let (weight, reverse) = line_weight(&owner, line, MAX_SCRIPT_WEIGHT, warnings)?;
        if refs.iter().any(|r| r.name == line.keyword) {
            warn_keepalived_error_at(
                warnings,
                &line.span,
                format!(
                    "({instance}) duplicate track_script {} - ignoring",
                    line.keyword
                ),
            );
            continue;
        }
        refs.push(ScriptRef {
            name: line.keyword.clone(),
            weight,
            reverse,
            span: line.span.clone(),
        });
    }
    Ok(refs)
}

/// `track_interface { IF [weight N] ... }`. Weight 0 unless given.
pub(crate) fn track_interfaces(
    instance: &str,
    block: &[Statement],
    warnings: &mut Vec<Warning>,
) -> Result<Vec<TrackedInterface>, ConfigError> {
    let mut tracked: Vec<TrackedInterface> = Vec::new();
    for line in block {
        let interface = interface_name(line, &line.keyword)?;
        let owner = format!("track_interface {interface}");
        let (weight, reverse) = line_weight(&owner, line, MAX_INTERFACE_WEIGHT, warnings)?;
        let mut weight = weight.unwrap_or(0);
        if weight.abs() == MAX_INTERFACE_WEIGHT {
            // A weight of 254 could carry priority 1 to 255, the owner's.
            warn_keepalived_error_at(
                warnings,
                &line.span,
                format!("({instance}) weight for {interface} cannot be +/-254. Setting to +/-253"),
            );
            weight = weight.signum() * (MAX_INTERFACE_WEIGHT - 1);
        }
        if tracked.iter().any(|t| t.interface == interface) {
            warn_keepalived_error_at(
                warnings,
                &line.span,
                format!("({instance}) duplicate track_interface {interface} - ignoring"),
            );
            continue;
        }
        tracked.push(TrackedInterface {
            interface,
            weight,
            reverse: reverse.unwrap_or(false),
            span: line.span.clone(),
        });
    }
    Ok(tracked)
}

/// The `weight N [reverse|noreverse]` after a tracked name. Any other word is warned
/// about and ignored, as keepalived does; that also covers the one-line
/// form `track_script { chk_a chk_b }`, where keepalived tracks only
/// `chk_a`, so the warning says what to write instead.
fn line_weight(
    owner: &str,
    line: &Statement,
    max: i32,
    warnings: &mut Vec<Warning>,
) -> Result<(Option<i32>, Option<bool>), ConfigError> {
    if line.block.is_some() {
        return Err(error_at(
            &line.span,
            format!("{owner}: does not take a '{{' block"),
        ));
    }
    let mut weight = None;
    let mut reverse = None;
    let mut args = line.args.iter().enumerate();
    while let Some((i, word)) = args.next() {
        if word != "weight" {
            warn_keepalived_error_at(
                warnings,
                &line.span,
                format!(
                    "{owner}: unknown option '{word}', ignored (one name per line, \
                     then optionally 'weight N')"
                ),
            );
            continue;
        }
        let expected = format!("an integer -{max}..{max}");
        let Some((_, text)) = args.next() else {
            return Err(error_at(
                &line.span,
                format!("{owner}: weight: missing argument, expected {expected}"),
            ));
        };
        let value = signed_in_range(text, -max, max).ok_or_else(|| {
            error_at(
                &line.span,
                format!("{owner}: weight: expected {expected}, found \"{text}\""),
            )
        })?;
        weight = Some(value);
        // Whatever follows the number is a weight option.
        reverse = weight_options(owner, line, &line.args[i + 2..], warnings);
        break;
    }
    Ok((weight, reverse))
}

/// Every entry of the `keyword { NAME ... }` blocks of the `vrrp_instance`
/// statements in `top`, with the index of its instance (instances are
/// kept in the order of their blocks): what `track_file` and
/// `track_process` lines resolve once every named block is known.
pub(crate) fn instance_entries<'a>(
    top: &'a [Statement],
    keyword: &str,
) -> Result<Vec<(usize, &'a Statement)>, ConfigError> {
    let mut entries = Vec::new();
    let instances = top.iter().filter(|s| s.keyword == "vrrp_instance");
    for (index, statement) in instances.enumerate() {
        let lines = statement.block.iter().flatten();
        for line in lines.filter(|l| l.keyword == keyword) {
            entries.extend(block_of(line)?.iter().map(|entry| (index, entry)));
        }
    }
    Ok(entries)
}
