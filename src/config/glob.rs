//! Shell-style file name expansion for `include`, through libc's glob(3)
//! (keepalived uses the same call, so patterns mean the same thing).

use std::ffi::{CStr, CString, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// The paths matching `pattern`, sorted byte-wise so that the include order
/// does not depend on the locale. No match is an empty list, not an error.
pub(crate) fn expand(pattern: &Path) -> Result<Vec<PathBuf>, String> {
    let c_pattern = CString::new(pattern.as_os_str().as_bytes())
        .map_err(|_| "include pattern contains a NUL byte".to_string())?;
    // SAFETY: glob_t is a plain C struct for which all-zero is the documented
    // "empty" state; glob fills it and globfree releases what glob allocated.
    let mut found: libc::glob_t = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::glob(c_pattern.as_ptr(), 0, None, &mut found) };
    let result = match rc {
        0 => {
            let mut paths = Vec::with_capacity(found.gl_pathc);
            for i in 0..found.gl_pathc {
                // SAFETY: on success gl_pathv holds gl_pathc valid C strings.
                let entry = unsafe { *found.gl_pathv.add(i) };
                if entry.is_null() {
                    continue;
                }
                let bytes = unsafe { CStr::from_ptr(entry) }.to_bytes();
                paths.push(PathBuf::from(OsStr::from_bytes(bytes)));
            }
            paths.sort_by(|a, b| a.as_os_str().as_bytes().cmp(b.as_os_str().as_bytes()));
            Ok(paths)
        }
        libc::GLOB_NOMATCH => Ok(Vec::new()),
        libc::GLOB_NOSPACE => Err("out of memory while expanding the pattern".to_string()),
        _ => Err("cannot read a directory while expanding the pattern".to_string()),
    };
    // SAFETY: `found` was zeroed and then only written by glob.
    unsafe { libc::globfree(&mut found) };
    result
}
