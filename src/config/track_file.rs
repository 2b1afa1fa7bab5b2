//! `track_file NAME { file, weight [reverse], init_file [VALUE] [overwrite] }`
//! (and its deprecated name `vrrp_track_file`), and the `track_file { NAME
//! [weight N [reverse]] }` block of an instance.

use std::path::PathBuf;

use super::model::{Config, ConfigError, Span, Warning};
use super::script::weight_options;
use super::syntax::Statement;
use super::tracking::instance_entries;
use super::values::warn_unsupported;
use super::values::{
    block_name, block_of, error_at, expected_found, signed_in_range, warn_at,
    warn_keepalived_error_at,
};

/// keepalived's range for a track_file's own weight (it multiplies a value
/// that may itself be small).
const MAX_FILE_WEIGHT: i32 = i32::MAX;
/// keepalived's range for an instance's `track_file` line: 254, so that
/// a file holding -1 can drain an instance.
const MAX_LINE_WEIGHT: i32 = 254;

/// One `track_file NAME { ... }` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackFileConfig {
    pub name: String,
    pub span: Span,
    /// `file` (required).
    pub path: PathBuf,
    /// Default 1.
    pub weight: i32,
    pub reverse: bool,
    /// `init_file [VALUE] [overwrite]`.
    pub init: Option<InitFile>,
}

/// `init_file [VALUE] [overwrite]`: VALUE (default 0) is written at start
/// if the file does not exist, or always with `overwrite`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InitFile {
    pub value: i32,
    pub overwrite: bool,
}

/// One line of an instance's `track_file { NAME [weight N [reverse]] }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackedFile {
    /// Index into `Config::track_files`.
    pub file: usize,
    /// The line's weight, else the file's.
    pub weight: i32,
    /// The line's `reverse`/`noreverse`, else the file's.
    pub reverse: bool,
    pub span: Span,
}

pub(crate) fn track_file_block(
    statement: &Statement,
    warnings: &mut Vec<Warning>,
) -> Result<TrackFileConfig, ConfigError> {
    if statement.keyword == "vrrp_track_file" {
        warn_at(
            warnings,
            &statement.span,
            "\"vrrp_track_file\" is deprecated, please use \"track_file\"".to_string(),
        );
    }
    let name = block_name(statement, "a track_file name", warnings)?;
    let owner = format!("track_file {name}");
    let mut path = None;
    let mut weight = (1, false);
    let mut init = None;
    for line in block_of(statement)? {
        match line.keyword.as_str() {
            "file" => {
                let Some(text) = line.args.first() else {
                    return Err(error_at(
                        &line.span,
                        format!("{owner}: file: missing argument, expected a path"),
                    ));
                };
                path = Some(PathBuf::from(text));
            }
            "weight" => {
                let expected = format!("an integer -{MAX_FILE_WEIGHT}..{MAX_FILE_WEIGHT}");
                let text = line.args.first().map(String::as_str).unwrap_or("");
                let value = signed_in_range(text, -MAX_FILE_WEIGHT, MAX_FILE_WEIGHT)
                    .ok_or_else(|| expected_found(line, &expected, text))?;
                let reverse = weight_options(&owner, line, &line.args[1..], warnings);
                weight = (value, reverse.unwrap_or(false));
            }
            "init_file" => init = Some(init_file(line)?),
            _ => warn_unsupported(warnings, line),
        }
    }
    let Some(path) = path else {
        return Err(error_at(
            &statement.span,
            format!("{owner}: missing 'file' (required)"),
        ));
    };
    Ok(TrackFileConfig {
        name,
        span: statement.span.clone(),
        path,
        weight: weight.0,
        reverse: weight.1,
        init,
    })
}

fn init_file(line: &Statement) -> Result<InitFile, ConfigError> {
    let mut init = InitFile {
        value: 0,
        overwrite: false,
    };
    for word in &line.args {
        if word == "overwrite" {
            init.overwrite = true;
        } else {
            init.value = signed_in_range(word, i32::MIN + 1, i32::MAX)
                .ok_or_else(|| expected_found(line, "an integer and/or 'overwrite'", word))?;
        }
    }
    Ok(init)
}

/// Looks up every instance's `track_file` lines, now that every track_file
/// block is known (they may come after the instance). An unknown name is an
/// error, as for `track_script`.
pub(crate) fn resolve_tracked_files(
    config: &mut Config,
    top: &[Statement],
    warnings: &mut Vec<Warning>,
) -> Result<(), ConfigError> {
    for (index, entry) in instance_entries(top, "track_file")? {
        let instance = &mut config.instances[index];
        let Some(file) = config
            .track_files
            .iter()
            .position(|f| f.name == entry.keyword)
        else {
            return Err(error_at(
                &entry.span,
                format!("track_file: no track_file named \"{}\"", entry.keyword),
            ));
        };
        if instance.track_files.iter().any(|t| t.file == file) {
            warn_keepalived_error_at(
                warnings,
                &entry.span,
                format!(
                    "({}) duplicate track_file {} - ignoring",
                    instance.name, entry.keyword
                ),
            );
            continue;
        }
        let (weight, reverse) = line_weight(&entry.keyword, entry, warnings)?;
        let weight = weight.unwrap_or(config.track_files[file].weight);
        let reverse = reverse.unwrap_or(config.track_files[file].reverse);
        if instance.priority == super::instance::OWNER_PRIORITY && weight != 0 {
            warn_keepalived_error_at(
                warnings,
                &entry.span,
                format!(
                    "({}) ignoring tracked file {} with weights due to address_owner",
                    instance.name, entry.keyword
                ),
            );
            continue;
        }
        instance.track_files.push(TrackedFile {
            file,
            weight,
            reverse,
            span: entry.span.clone(),
        });
    }
    Ok(())
}

/// `NAME [weight N [reverse|noreverse]]`.
fn line_weight(
    name: &str,
    line: &Statement,
    warnings: &mut Vec<Warning>,
) -> Result<(Option<i32>, Option<bool>), ConfigError> {
    let owner = format!("track_file {name}");
    match line.args.first().map(String::as_str) {
        None => Ok((None, None)),
        Some("weight") => {
            let expected = format!("an integer -{MAX_LINE_WEIGHT}..{MAX_LINE_WEIGHT}");
            let text = line.args.get(1).map(String::as_str).unwrap_or("");
            let value =
                signed_in_range(text, -MAX_LINE_WEIGHT, MAX_LINE_WEIGHT).ok_or_else(|| {
                    error_at(
                        &line.span,
                        format!("{owner}: weight: expected {expected}, found \"{text}\""),
                    )
                })?;
            let options = line.args.get(2..).unwrap_or(&[]);
            Ok((Some(value), weight_options(&owner, line, options, warnings)))
        }
        Some(other) => {
            warn_keepalived_error_at(
                warnings,
                &line.span,
                format!("{owner}: unknown option '{other}', ignored (one name per line, then optionally 'weight N')"),
            );
            Ok((None, None))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::parse_str;

    const INSTANCE: &str = "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 1\n \
                            priority PRIO\n virtual_ipaddress { 192.0.2.100 }\n LINES\n}\n";

    fn conf(files: &str, priority: u8, lines: &str) -> String {
        files.to_string()
            + &INSTANCE
                .replace("PRIO", &priority.to_string())
                .replace("LINES", lines)
    }

    #[test]
    fn blocks_and_instance_lines_with_keepalived_defaults() {
        let text = conf(
            "vrrp_track_file drain {\n file /etc/keepalived/drain\n}\n\
             track_file other {\n file other\n weight -3 reverse\n init_file 5 overwrite\n}\n",
            100,
            "track_file {\n drain\n other weight 2 noreverse\n}",
        );
        let (config, warnings) = parse_str(&text, Path::new("k.conf")).unwrap();
        assert!(warnings[0]
            .message
            .contains("\"vrrp_track_file\" is deprecated, please use \"track_file\""));
        let drain = &config.track_files[0];
        assert_eq!((drain.weight, drain.reverse, drain.init), (1, false, None));
        let other = &config.track_files[1];
        assert_eq!((other.weight, other.reverse), (-3, true));
        let init = other.init.unwrap();
        assert_eq!((init.value, init.overwrite), (5, true));
        let tracked = &config.instances[0].track_files;
        assert_eq!(
            tracked
                .iter()
                .map(|t| (t.file, t.weight, t.reverse))
                .collect::<Vec<_>>(),
            [(0, 1, false), (1, 2, false)]
        );
    }

    #[test]
    fn an_unknown_name_or_a_missing_file_is_an_error() {
        let text = conf("", 100, "track_file {\n nosuch\n}");
        let err = parse_str(&text, Path::new("k.conf")).unwrap_err();
        assert!(
            err.message.contains("no track_file named \"nosuch\""),
            "{err}"
        );
        let text = conf("track_file t {\n weight 2\n}\n", 100, "");
        let err = parse_str(&text, Path::new("k.conf")).unwrap_err();
        assert!(err.message.contains("missing 'file'"), "{err}");
        let text = conf(
            "track_file t {\n file f\n}\n",
            100,
            "track_file {\n t weight 255\n}",
        );
        assert!(parse_str(&text, Path::new("k.conf")).is_err());
    }

    #[test]
    fn the_address_owner_drops_weighted_files() {
        let text = conf(
            "track_file t {\n file f\n}\ntrack_file z {\n file g\n weight 0\n}\n",
            255,
            "track_file {\n t\n z\n}",
        );
        let (config, warnings) = parse_str(&text, Path::new("k.conf")).unwrap();
        assert_eq!(config.instances[0].track_files.len(), 1);
        assert!(warnings
            .iter()
            .any(|w| w.message.contains("ignoring tracked file t with weights")));
    }
}
