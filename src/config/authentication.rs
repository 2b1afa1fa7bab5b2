//! `authentication { auth_type PASS; auth_pass SECRET }` (VRRPv2 only).

use super::model::{Authentication, ConfigError, Warning};
use super::syntax::Statement;
use super::values::{block_of, error_at, expected_found, single, warn_at, warn_unsupported};

/// VRRPv2 carries exactly 8 bytes of password.
const PASSWORD_LEN: usize = 8;

/// None for an empty block (no authentication, as if it were absent).
pub(crate) fn authentication(
    statement: &Statement,
    warnings: &mut Vec<Warning>,
) -> Result<Option<Authentication>, ConfigError> {
    let mut has_type = false;
    let mut password: Option<[u8; PASSWORD_LEN]> = None;
    for line in block_of(statement)? {
        match line.keyword.as_str() {
            "auth_type" => {
                let kind = single(line, "PASS", warnings)?;
                if kind.eq_ignore_ascii_case("AH") {
                    return Err(error_at(
                        &line.span,
                        "auth_type: AH authentication is not supported, use PASS".to_string(),
                    ));
                }
                if !kind.eq_ignore_ascii_case("PASS") {
                    return Err(expected_found(line, "PASS", kind));
                }
                has_type = true;
            }
            "auth_pass" => {
                let secret = single(line, "a password of up to 8 bytes", warnings)?;
                let bytes = secret.as_bytes();
                if bytes.len() > PASSWORD_LEN {
                    // keepalived truncates too, so peers still agree.
                    warn_at(
                        warnings,
                        &line.span,
                        "auth_pass: longer than 8 bytes, truncated to 8 (as keepalived does)"
                            .to_string(),
                    );
                }
                let mut padded = [0u8; PASSWORD_LEN];
                for (slot, byte) in padded.iter_mut().zip(bytes) {
                    *slot = *byte;
                }
                password = Some(padded);
            }
            _ => warn_unsupported(warnings, line),
        }
    }
    match (has_type, password) {
        (true, Some(padded)) => Ok(Some(Authentication::Password(padded))),
        (true, None) => Err(error_at(
            &statement.span,
            "authentication: auth_type PASS needs an auth_pass".to_string(),
        )),
        (false, Some(_)) => Err(error_at(
            &statement.span,
            "authentication: auth_pass given without auth_type (expected auth_type PASS)"
                .to_string(),
        )),
        (false, None) => Ok(None),
    }
}
