//! SIGUSR1 and SIGUSR2 write keepvip.data and keepvip.stats into $TMPDIR,
//! which is /tmp under the init scripts: a symlink planted there by another
//! user must not make the daemon (root) overwrite the file it points at.
//!
//! Needs root (network namespaces). Set KEEPVIP_SKIP_NETNS=1 to skip.

mod common;

use std::fs;
use std::os::unix::fs::symlink;
use std::time::Duration;

use common::{Impl, Lan, ELECTION};

const VIP: &str = "192.0.2.100";

const CONFIG: &str = "global_defs {\n    router_id r1\n}\n\
     vrrp_instance VI_1 {\n\
     \x20   state BACKUP\n\
     \x20   interface eth0\n\
     \x20   version 3\n\
     \x20   virtual_router_id 62\n\
     \x20   priority 150\n\
     \x20   advert_int 0.2\n\
     \x20   virtual_ipaddress {\n        192.0.2.100\n    }\n\
     }\n";

#[test]
fn dumps_replace_a_planted_symlink_instead_of_following_it() {
    let Some(mut lan) = Lan::new("dumplink", 1) else {
        return;
    };
    lan.start(1, Impl::Keepvip, CONFIG);
    lan.wait_sole_holder(1, VIP, ELECTION);
    // The harness points the router's $TMPDIR at its own directory.
    let tmpdir = lan.dir().join("r1");
    let victim = lan.dir().join("victim");
    for (file, signal, expected) in [
        ("keepvip.data", libc::SIGUSR1, "VRRP Instance = VI_1"),
        ("keepvip.stats", libc::SIGUSR2, "adverts_sent "),
    ] {
        fs::write(&victim, "precious\n").unwrap();
        let path = tmpdir.join(file);
        let _ = fs::remove_file(&path);
        symlink(&victim, &path).unwrap();
        lan.signal(1, signal);
        lan.wait_until(
            Duration::from_secs(5),
            &format!("{file} is a regular file"),
            || fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_file()),
        );
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.contains(expected), "{file}:\n{text}");
        assert_eq!(
            fs::read_to_string(&victim).unwrap(),
            "precious\n",
            "{file}: the symlink's target was written"
        );
        let leftovers: Vec<_> = fs::read_dir(&tmpdir)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|name| name.contains(file) && name != file)
            .collect();
        assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    }
}
