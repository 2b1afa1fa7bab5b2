//! `authentication { auth_type PASS|AH; auth_pass SECRET }` (VRRPv2 only).

use super::model::{Authentication, ConfigError, Warning};
use super::syntax::Statement;
use super::values::{block_of, error_at, single, warn_keepalived_error_at, warn_unsupported};

/// VRRPv2 carries exactly 8 bytes of password.
const PASSWORD_LEN: usize = 8;

/// How an auth type carries the padded password.
type Carrier = fn([u8; PASSWORD_LEN]) -> Authentication;

/// None for an empty block (no authentication, as if it were absent).
pub(crate) fn authentication(
    statement: &Statement,
    warnings: &mut Vec<Warning>,
) -> Result<Option<Authentication>, ConfigError> {
    // Some(None): an auth_type keepalived does not know, which it runs
    // as no authentication.
    let mut kind_found: Option<Option<(&str, Carrier)>> = None;
    let mut password: Option<[u8; PASSWORD_LEN]> = None;
    for line in block_of(statement)? {
        match line.keyword.as_str() {
            "auth_type" => {
                let kind = single(line, "PASS or AH", warnings)?;
                kind_found = Some(if kind.eq_ignore_ascii_case("AH") {
                    Some(("AH", Authentication::Ah))
                } else if kind.eq_ignore_ascii_case("PASS") {
                    Some(("PASS", Authentication::Password))
                } else {
                    // keepalived 2.2.7 warns and sends auth type 0 (a
                    // trailing ';' is part of the word): peers written
                    // with the same words must keep agreeing.
                    warn_keepalived_error_at(
                        warnings,
                        &line.span,
                        format!(
                            "authentication: unknown auth_type '{kind}' (expected PASS or AH): \
                             this instance sends and accepts adverts without authentication, \
                             as keepalived 2.2.7 does"
                        ),
                    );
                    None
                });
            }
            "auth_pass" => {
                let secret = single(line, "a password of up to 8 bytes", warnings)?;
                let bytes = secret.as_bytes();
                if bytes.len() > PASSWORD_LEN {
                    // keepalived truncates too, so peers still agree.
                    warn_keepalived_error_at(
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
    match (kind_found, password) {
        (Some(None), _) => Ok(None),
        (Some(Some((_, kind))), Some(padded)) => Ok(Some(kind(padded))),
        (Some(Some((name, _))), None) => Err(error_at(
            &statement.span,
            format!("authentication: auth_type {name} needs an auth_pass"),
        )),
        (None, Some(_)) => Err(error_at(
            &statement.span,
            "authentication: auth_pass given without auth_type (expected auth_type PASS or AH)"
                .to_string(),
        )),
        (None, None) => Ok(None),
    }
}
