//! Who scripts run as and which ones `enable_script_security` refuses,
//! on real files: as root, in a temp dir of the test's own.
//!
//! keepalived's rules: a script without a user runs as `keepalived_script`
//! if that user exists, else as root; enable_script_security refuses only
//! what would run as root (or setuid root) from a path that someone other
//! than root could change; and what runs is what was judged.
//!
//! Needs root. Set KEEPVIP_SKIP_NETNS=1 to skip explicitly where that is
//! impossible (as for the namespace tests).

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};

use keepvip::config::{Command, RunAs, Span};
use keepvip::daemon::start_command;
use keepvip::sys::process::{reap, resolve_identity};

struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn is_root() -> bool {
    if unsafe { libc::geteuid() } == 0 {
        return true;
    }
    if std::env::var("KEEPVIP_SKIP_NETNS").as_deref() == Ok("1") {
        eprintln!("!!!!!!!! SKIPPED: not running as root (KEEPVIP_SKIP_NETNS=1)");
        return false;
    }
    panic!("these tests need root; CI runs them as root (KEEPVIP_SKIP_NETNS=1 skips them)");
}

fn mkdir(path: &Path, mode: u32) {
    fs::create_dir(path).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

/// A script that writes its uid and its $0 (the path the kernel executed)
/// to `out/<name>`.
fn script(path: &Path, out: &Path, name: &str) {
    let text = format!(
        "#!/bin/sh\necho \"$(id -u) $0\" > {}/{name}\n",
        out.display()
    );
    fs::write(path, text).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

fn command(path: &Path) -> Command {
    Command {
        argv: vec![path.display().to_string()],
        run_as: None,
        span: Span {
            file: Rc::new(PathBuf::from("test.conf")),
            line: 1,
        },
    }
}

fn run_as(user: &str) -> RunAs {
    RunAs {
        user: user.to_string(),
        group: None,
    }
}

/// "uid $0" as the script wrote it.
fn result(out: &Path, name: &str) -> (u32, String) {
    let file = out.join(name);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(text) = fs::read_to_string(&file) {
            if let Some((uid, zero)) = text.trim().split_once(' ') {
                reap();
                return (uid.parse().unwrap(), zero.to_string());
            }
        }
        assert!(Instant::now() < deadline, "{name} never ran");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn script_users_and_script_security_follow_keepalived() {
    if !is_root() {
        return;
    }
    let base = std::env::temp_dir().join(format!("kvpriv-{}", std::process::id()));
    let _ = fs::remove_dir_all(&base);
    // Root's, 0755: a safe place. `open` inside it: anyone may write.
    mkdir(&base, 0o755);
    let _scratch = Scratch(base.clone());
    let out = base.join("out");
    mkdir(&out, 0o777);
    let open = base.join("open");
    mkdir(&open, 0o777);
    let safe = base.join("safe.sh");
    script(&safe, &out, "safe");
    let exposed = open.join("exposed.sh");
    script(&exposed, &out, "exposed");

    // No user anywhere: keepalived_script if it exists, else root.
    start_command(&command(&safe), None, false).unwrap();
    let expected = resolve_identity("keepalived_script", None).map_or(0, |id| id.uid);
    assert_eq!(result(&out, "safe").0, expected);

    // enable_script_security refuses a root script others could change...
    let root = run_as("root");
    let refused = start_command(&command(&exposed), Some(&root), true).unwrap_err();
    assert!(refused.contains("enable_script_security"), "{refused}");
    // ...but not the same script run as nobody: it has no root's powers.
    let nobody = run_as("nobody");
    let nobody_uid = resolve_identity("nobody", None).unwrap().uid;
    start_command(&command(&exposed), Some(&nobody), true).unwrap();
    assert_eq!(result(&out, "exposed").0, nobody_uid);

    // A symlink that anyone may re-point, to a safe script: what runs is
    // the script that was judged, not whatever the link says by then.
    let link = open.join("link.sh");
    script(&base.join("target.sh"), &out, "target");
    symlink(base.join("target.sh"), &link).unwrap();
    start_command(&command(&link), Some(&root), true).unwrap();
    let (uid, executed) = result(&out, "target");
    assert_eq!(uid, 0);
    assert_eq!(
        Path::new(&executed),
        fs::canonicalize(base.join("target.sh")).unwrap(),
        "ran the link, not the file that was judged"
    );
}
