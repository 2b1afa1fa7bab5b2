//! Privileged tests of `keepvip::sys` against the real kernel.
//!
//! Each test makes its own network namespaces (`kvsys-<pid>-<tag>-a/b`),
//! joined by a veth pair `va` (192.0.2.1/24, in `a`) <-> `vb` (192.0.2.2/24,
//! in `b`), and deletes them on drop, also when the test panics. Code under
//! test runs on a thread that has entered a namespace with setns(2), so
//! nothing ever touches the host's own interfaces. Sockets keep the
//! namespace they were created in, so a socket opened inside `a` can then be
//! used from the test thread.
//!
//! Two namespaces rather than one because the kernel drops a packet that
//! arrives with one of the receiving namespace's own addresses as source
//! (a "martian"), which would be the case with both veth ends in one.
//!
//! These tests need root (CAP_SYS_ADMIN for namespaces, CAP_NET_RAW and
//! CAP_NET_ADMIN inside them); without it they fail loudly, never pass.

use std::io;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use keepvip::sys::arp::{gratuitous_arp_frame, GratuitousArp};
use keepvip::sys::interface;
use keepvip::sys::rtnetlink::RtNetlink;
use keepvip::sys::vrrp_socket::{VrrpSocket, VRRP_GROUP_V4};

const A_IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const B_IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);

fn require_root() {
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        panic!(
            "\n\n*** tests/sys_netns.rs needs root: it creates network namespaces \
             and raw sockets. Run it as root (e.g. `sudo -E cargo test --test \
             sys_netns`). Not skipping silently. ***\n"
        );
    }
}

/// Run `ip ARGS`, panicking with its stderr on failure; returns stdout.
fn ip(args: &[&str]) -> String {
    let out = Command::new("ip")
        .args(args)
        .output()
        .expect("running `ip` (iproute2)");
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A network namespace this test made; deleted on drop.
struct Netns {
    name: String,
}

impl Netns {
    fn new(name: String) -> Netns {
        ip(&["netns", "add", &name]);
        // From here on the guard exists, so any later failure cleans up.
        let ns = Netns { name };
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }

    /// `ip -n NAME ARGS`.
    fn ip(&self, args: &[&str]) -> String {
        let mut full = vec!["-n", self.name.as_str()];
        full.extend_from_slice(args);
        ip(&full)
    }

    /// Run `f` on a fresh thread that has entered this namespace. Only that
    /// thread moves, so the test thread (and the host) are untouched.
    fn run<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        let path = format!("/run/netns/{}", self.name);
        std::thread::scope(|s| {
            s.spawn(|| {
                let file = std::fs::File::open(&path).expect("open netns handle");
                // SAFETY: a valid namespace fd; affects this thread only.
                let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
                assert_eq!(rc, 0, "setns {path}: {}", io::Error::last_os_error());
                f()
            })
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e))
        })
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // Deleting the namespace also destroys the veth end inside it.
        let ok = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !ok {
            eprintln!("warning: could not delete netns {}", self.name);
        }
    }
}

/// Two namespaces joined by veth `va` (in `a`) <-> `vb` (in `b`), both up
/// with documentation addresses.
struct Pair {
    a: Netns,
    b: Netns,
}

fn pair(tag: &str) -> Pair {
    require_root();
    // Tests in one binary run in parallel threads of one process: the pid
    // and a counter make the names unique, also across concurrent runs.
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let base = format!("kvsys-{}-{n}{tag}", std::process::id());
    let a = Netns::new(format!("{base}-a"));
    let b = Netns::new(format!("{base}-b"));
    // Created directly inside `a`, peer created directly inside `b`: never
    // in the host namespace, not even for a moment.
    a.ip(&[
        "link", "add", "name", "va", "type", "veth", "peer", "name", "vb", "netns", &b.name,
    ]);
    a.ip(&["addr", "add", "192.0.2.1/24", "dev", "va"]);
    b.ip(&["addr", "add", "192.0.2.2/24", "dev", "vb"]);
    a.ip(&["link", "set", "va", "up"]);
    b.ip(&["link", "set", "vb", "up"]);
    let p = Pair { a, b };
    wait_until("va up and running", || {
        p.a.run(|| interface::is_up("va").unwrap())
    });
    p
}

fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn interface_facts() {
    let p = pair("if");
    let link = p.a.ip(&["-o", "link", "show", "dev", "va"]);
    let index: u32 = link.split(':').next().unwrap().trim().parse().unwrap();
    let mac_text = link
        .split_whitespace()
        .skip_while(|w| *w != "link/ether")
        .nth(1)
        .unwrap()
        .to_string();

    p.a.run(|| {
        assert_eq!(interface::ifindex("va").unwrap(), index);
        assert_eq!(interface::primary_ipv4("va").unwrap(), A_IP);
        let mac = interface::hardware_address("va").unwrap();
        let mac = mac.map(|b| format!("{b:02x}")).join(":");
        assert_eq!(mac, mac_text);
        assert!(interface::is_up("va").unwrap());
        assert_eq!(
            interface::ifindex("vb").unwrap_err().kind(),
            io::ErrorKind::NotFound,
            "vb lives in the other namespace"
        );
    });

    // Adding a secondary address does not change the primary.
    p.a.ip(&["addr", "add", "192.0.2.50/24", "dev", "va"]);
    p.a.run(|| assert_eq!(interface::primary_ipv4("va").unwrap(), A_IP));

    // Peer down: va is still administratively up but has no carrier.
    p.b.ip(&["link", "set", "vb", "down"]);
    wait_until("va not running", || {
        p.a.run(|| !interface::is_up("va").unwrap())
    });
    p.b.ip(&["link", "set", "vb", "up"]);
    wait_until("va running again", || {
        p.a.run(|| interface::is_up("va").unwrap())
    });
    p.a.ip(&["link", "set", "va", "down"]);
    wait_until("va down", || p.a.run(|| !interface::is_up("va").unwrap()));
}

#[test]
fn rtnetlink_add_list_del() {
    let p = pair("nl");
    let vip = Ipv4Addr::new(192, 0, 2, 100);
    let shown = || p.a.ip(&["-4", "-o", "addr", "show", "dev", "va"]);

    let index = p.a.run(|| interface::ifindex("va").unwrap());
    let mut nl = p.a.run(|| RtNetlink::open().unwrap());

    assert_eq!(nl.list_ipv4(index).unwrap(), vec![(A_IP, 24)]);

    nl.add_ipv4(index, vip, 24, Some("va:1")).unwrap();
    let out = shown();
    let line = out
        .lines()
        .find(|l| l.contains("inet 192.0.2.100/24"))
        .unwrap_or_else(|| panic!("VIP not in `ip addr`: {out}"));
    assert!(line.contains("va:1"), "label missing: {line}");

    // Adding it again is AlreadyExists, which callers treat as done.
    let err = nl.add_ipv4(index, vip, 24, None).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AlreadyExists, "{err}");

    // A /32 without label, from another documentation range.
    let other = Ipv4Addr::new(203, 0, 113, 7);
    nl.add_ipv4(index, other, 32, None).unwrap();
    assert!(shown().contains("inet 203.0.113.7/32"));

    let mut listed = nl.list_ipv4(index).unwrap();
    listed.sort();
    assert_eq!(listed, vec![(A_IP, 24), (vip, 24), (other, 32)]);
    // The loopback's 127.0.0.1 is not mixed in.
    assert_eq!(nl.list_ipv4(1).unwrap(), vec![(Ipv4Addr::LOCALHOST, 8)]);

    assert!(nl.del_ipv4(index, vip, 24).unwrap());
    assert!(!shown().contains("192.0.2.100"));
    assert!(!nl.del_ipv4(index, vip, 24).unwrap(), "second delete");
    assert!(nl.del_ipv4(index, other, 32).unwrap());
    assert_eq!(nl.list_ipv4(index).unwrap(), vec![(A_IP, 24)]);

    // Kernel refusals come back as errors, not hangs or panics.
    let err = nl.add_ipv4(9999, vip, 24, None).unwrap_err();
    assert_eq!(err.raw_os_error(), None, "context wraps the errno");
    assert!(err.to_string().contains("ifindex 9999"), "{err}");
    assert_eq!(
        nl.add_ipv4(index, vip, 33, None).unwrap_err().kind(),
        io::ErrorKind::InvalidInput
    );
}

/// A non-blocking AF_PACKET socket receiving ARP frames on `ifname`, made in
/// the calling thread's namespace: the test's own capture, no tcpdump.
fn arp_capture(ifname: &str) -> OwnedFd {
    let index = interface::ifindex(ifname).unwrap();
    let proto = (libc::ETH_P_ARP as u16).to_be();
    // SAFETY: plain socket/bind calls with valid arguments, checked.
    unsafe {
        let fd = libc::socket(
            libc::AF_PACKET,
            libc::SOCK_RAW | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            i32::from(proto),
        );
        assert!(fd >= 0, "{}", io::Error::last_os_error());
        let fd = OwnedFd::from_raw_fd(fd);
        let mut sll: libc::sockaddr_ll = std::mem::zeroed();
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = proto;
        sll.sll_ifindex = index as i32;
        let rc = libc::bind(
            fd.as_raw_fd(),
            &sll as *const libc::sockaddr_ll as *const libc::sockaddr,
            std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        );
        assert_eq!(rc, 0, "{}", io::Error::last_os_error());
        fd
    }
}

/// Wait up to 3 s for a readable datagram on `fd` and return it.
fn recv_with_timeout(fd: &OwnedFd) -> Option<Vec<u8>> {
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut buf = vec![0u8; 2048];
    while Instant::now() < deadline {
        // SAFETY: buf is valid for writing its length.
        let n = unsafe {
            libc::recv(
                fd.as_raw_fd(),
                buf.as_mut_ptr() as *mut libc::c_void,
                buf.len(),
                0,
            )
        };
        if n >= 0 {
            return Some(buf[..n as usize].to_vec());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

#[test]
fn gratuitous_arp_reaches_peer() {
    let p = pair("arp");
    let vip = Ipv4Addr::new(192, 0, 2, 100);
    let capture = p.b.run(|| arp_capture("vb"));
    let (garp, mac) = p.a.run(|| {
        let index = interface::ifindex("va").unwrap();
        let mac = interface::hardware_address("va").unwrap();
        (GratuitousArp::open(index).unwrap(), mac)
    });
    garp.send(mac, vip).unwrap();

    let want = gratuitous_arp_frame(mac, vip);
    // Skip any other ARP on the link (none expected, but the kernel may
    // resolve something on its own); ours names the VIP as sender.
    loop {
        let frame = recv_with_timeout(&capture).expect("no gratuitous ARP on vb within 3 s");
        if frame.get(28..32) == Some(&vip.octets()[..]) {
            assert_eq!(frame, want.to_vec());
            break;
        }
    }
}

#[test]
fn vrrp_sockets_exchange_adverts() {
    let p = pair("vrrp");
    let open = |ns: &Netns, ifname: &'static str, src: Ipv4Addr| {
        ns.run(move || {
            let index = interface::ifindex(ifname).unwrap();
            VrrpSocket::open(ifname, index, src, VRRP_GROUP_V4, 255).unwrap()
        })
    };
    let a = open(&p.a, "va", A_IP);
    let b = open(&p.b, "vb", B_IP);

    // Prove the fd works with mio, as the daemon will use it.
    let mut poll = mio::Poll::new().unwrap();
    let mut events = mio::Events::with_capacity(8);
    let fd_b = b.as_raw_fd();
    poll.registry()
        .register(
            &mut mio::unix::SourceFd(&fd_b),
            mio::Token(1),
            mio::Interest::READABLE,
        )
        .unwrap();

    let mut buf = vec![0u8; 4096];
    assert_eq!(b.recv(&mut buf).unwrap(), None, "nothing sent yet");

    let payload = b"not-a-vrrp-packet: sys moves bytes";
    a.send(payload).unwrap();
    poll.poll(&mut events, Some(Duration::from_secs(3)))
        .unwrap();
    assert!(!events.is_empty(), "no readiness on b within 3 s");
    let n = b.recv(&mut buf).unwrap().expect("a datagram");
    let (src, dst, ttl, body) = split_ipv4(&buf[..n]);
    assert_eq!((src, dst, ttl), (A_IP, VRRP_GROUP_V4, 255));
    assert_eq!(body, payload);
    assert_eq!(b.recv(&mut buf).unwrap(), None, "exactly one datagram");

    // The other way, and a unicast send (unicast_peer).
    b.send(b"reply").unwrap();
    b.send_to(b"unicast", A_IP).unwrap();
    let got = receive(&a, 2);
    assert_eq!(
        got,
        vec![
            (B_IP, VRRP_GROUP_V4, 255, b"reply".to_vec()),
            (B_IP, A_IP, 255, b"unicast".to_vec()),
        ]
    );
    // Multicast loop is off: b did not hear its own adverts.
    assert_eq!(b.recv(&mut buf).unwrap(), None);

    // A batch (one sendmmsg): every message, in order, each to its own
    // destination; past the batch limit only the first SEND_BATCH go.
    let bodies: Vec<Vec<u8>> = (0..70u8).map(|n| vec![b'x', n]).collect();
    let batch: Vec<(&[u8], Ipv4Addr)> = bodies
        .iter()
        .enumerate()
        .map(|(n, body)| {
            let to = if n % 2 == 0 { VRRP_GROUP_V4 } else { A_IP };
            (&body[..], to)
        })
        .collect();
    assert_eq!(b.send_batch(&batch).unwrap(), 64);
    let got = receive(&a, 64);
    let expected: Vec<_> = batch[..64]
        .iter()
        .map(|&(body, to)| (B_IP, to, 255, body.to_vec()))
        .collect();
    assert_eq!(got, expected);
}

/// Up to `count` datagrams that reach `socket` within 3 s, read as
/// (source, destination, TTL, payload).
fn receive(socket: &VrrpSocket, count: usize) -> Vec<(Ipv4Addr, Ipv4Addr, u8, Vec<u8>)> {
    let mut buf = vec![0u8; 4096];
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(3);
    while got.len() < count && Instant::now() < deadline {
        match socket.recv(&mut buf).unwrap() {
            Some(n) => {
                let (s, d, t, body) = split_ipv4(&buf[..n]);
                got.push((s, d, t, body.to_vec()));
            }
            None => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    got
}

/// Source, destination, TTL and payload of a raw IPv4 datagram, after
/// checking it is protocol 112 (the test's minimal reading of the header).
fn split_ipv4(d: &[u8]) -> (Ipv4Addr, Ipv4Addr, u8, &[u8]) {
    assert!(d.len() >= 20 && d[0] >> 4 == 4, "not IPv4: {d:?}");
    let ihl = usize::from(d[0] & 0x0f) * 4;
    assert_eq!(d[9], 112, "protocol");
    let src = Ipv4Addr::new(d[12], d[13], d[14], d[15]);
    let dst = Ipv4Addr::new(d[16], d[17], d[18], d[19]);
    (src, dst, d[8], &d[ihl..])
}
