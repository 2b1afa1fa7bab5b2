//! A digest of what a configuration says, for telling configs apart: the
//! daemon logs it at start and on reload, `keepvip status` and `-t` show it,
//! so an admin can see whether the running config is the one on disk.
//!
//! It is a CRC-32 over the token stream after `include`s are expanded, not
//! over the file bytes: comments, blank lines and indentation do not change
//! it, a changed value or an included file's edit does.

use crc::{Crc, CRC_32_ISO_HDLC};

use super::lexer::{Token, TokenKind};

const CRC32: Crc<u32> = Crc::<u32>::new(&CRC_32_ISO_HDLC);

pub(crate) fn digest(tokens: &[Token]) -> u32 {
    let mut digest = CRC32.digest();
    for token in tokens {
        match &token.kind {
            // A tag byte before each word and a NUL after it, so that
            // `a bc` and `ab c`, or `x` and `"x"`, digest differently.
            TokenKind::Word { text, quoted } => {
                digest.update(if *quoted { b"\"" } else { b"w" });
                digest.update(text.as_bytes());
                digest.update(b"\0");
            }
            TokenKind::Open => digest.update(b"{"),
            TokenKind::Close => digest.update(b"}"),
        }
    }
    digest.finalize()
}
