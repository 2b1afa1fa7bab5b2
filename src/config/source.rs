//! Reading one config file from disk as UTF-8 text.

use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::model::{ConfigError, Span};

/// Reads `path`. `opened_at` is the `include` line that asked for it (None
/// for the top file), so a read error points at something the user wrote.
pub(crate) fn read_text(path: &Path, opened_at: Option<&Span>) -> Result<String, ConfigError> {
    let bytes = std::fs::read(path).map_err(|err| ConfigError {
        span: opened_at.cloned(),
        message: format!("cannot read {}: {}", path.display(), err),
    })?;
    String::from_utf8(bytes).map_err(|err| {
        let good = &err.as_bytes()[..err.utf8_error().valid_up_to()];
        let line = good.iter().filter(|&&b| b == b'\n').count() + 1;
        ConfigError {
            span: Some(Span {
                file: Rc::new(path.to_path_buf()),
                line: u32::try_from(line).unwrap_or(u32::MAX),
            }),
            message: "invalid UTF-8 text (keepalived.conf must be UTF-8)".to_string(),
        }
    })
}

/// The directory that relative `include` patterns in `file` start from.
pub(crate) fn directory_of(file: &Path) -> PathBuf {
    match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}
