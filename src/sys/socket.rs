//! Small shared helpers for the raw sockets in this module: creating a
//! socket as an `OwnedFd` and setting options, with errors as `io::Error`.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// socket(2) with SOCK_CLOEXEC always added (script children must not
/// inherit our sockets) and the result owned.
pub(crate) fn new_socket(
    domain: libc::c_int,
    ty: libc::c_int,
    protocol: libc::c_int,
) -> io::Result<OwnedFd> {
    // SAFETY: plain socket(2); the result is checked before use.
    let raw = unsafe { libc::socket(domain, ty | libc::SOCK_CLOEXEC, protocol) };
    if raw < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(raw) })
}

/// setsockopt(2) with a value of type `T` (an int, a struct, ...).
pub(crate) fn setsockopt<T>(
    fd: &OwnedFd,
    level: libc::c_int,
    name: libc::c_int,
    value: &T,
) -> io::Result<()> {
    // SAFETY: value points to a live T and the length passed is its size.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            value as *const T as *const libc::c_void,
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Like [`setsockopt`], but says which option failed; these errors end up
/// in the log at start-up, where "SO_BINDTODEVICE: Operation not permitted"
/// tells the user what to fix.
pub(crate) fn setsockopt_named<T>(
    fd: &OwnedFd,
    level: libc::c_int,
    name: libc::c_int,
    value: &T,
    what: &str,
) -> io::Result<()> {
    setsockopt(fd, level, name, value).map_err(|e| io::Error::new(e.kind(), format!("{what}: {e}")))
}

/// sendto(2) of one whole datagram to `addr` (a `sockaddr_in`,
/// `sockaddr_in6`, `sockaddr_ll`, `sockaddr_nl`...). A datagram socket
/// sends all or nothing; a short count is still reported, naming `what`.
pub(crate) fn send_datagram<A>(
    fd: &OwnedFd,
    payload: &[u8],
    addr: &A,
    what: &str,
) -> io::Result<()> {
    // SAFETY: payload is valid for its length; addr is a plain sockaddr
    // struct of the size passed.
    let n = unsafe {
        libc::sendto(
            fd.as_raw_fd(),
            payload.as_ptr() as *const libc::c_void,
            payload.len(),
            0,
            addr as *const A as *const libc::sockaddr,
            std::mem::size_of::<A>() as libc::socklen_t,
        )
    };
    check_sent(n, payload.len(), what)
}

/// The most datagrams one [`send_datagrams`] call takes; its arrays live on
/// the stack.
pub(crate) const SEND_BATCH: usize = 64;

/// sendmmsg(2): each payload to its own address (plain sockaddr structs), in
/// order, in one system call. Returns how many went (at least one), or the
/// error of the first, which the caller counts and skips. Takes at most
/// [`SEND_BATCH`] messages.
pub(crate) fn send_datagrams<A>(fd: &OwnedFd, messages: &[(&[u8], A)]) -> io::Result<usize> {
    let count = messages.len().min(SEND_BATCH);
    if count == 0 {
        return Ok(0);
    }
    // SAFETY: iovec and mmsghdr are plain data; zero is a valid value.
    let mut iovecs: [libc::iovec; SEND_BATCH] = unsafe { std::mem::zeroed() };
    let mut headers: [libc::mmsghdr; SEND_BATCH] = unsafe { std::mem::zeroed() };
    for (n, (payload, addr)) in messages[..count].iter().enumerate() {
        iovecs[n] = libc::iovec {
            iov_base: payload.as_ptr() as *mut libc::c_void,
            iov_len: payload.len(),
        };
        let header = &mut headers[n].msg_hdr;
        header.msg_name = addr as *const A as *mut libc::c_void;
        header.msg_namelen = std::mem::size_of::<A>() as libc::socklen_t;
        header.msg_iov = &mut iovecs[n];
        header.msg_iovlen = 1;
    }
    loop {
        // The system call itself, not libc's wrapper: musl's sendmmsg is a
        // loop of sendmsg calls (to clear the padding of its msghdr, which
        // differs from the kernel's), which would save nothing. Our headers
        // are zeroed, padding included, so the kernel reads them right.
        //
        // SAFETY: the first `count` headers point at live payloads and
        // addresses of the sizes given; the kernel only reads them (and
        // writes msg_len).
        let sent = unsafe {
            libc::syscall(
                libc::SYS_sendmmsg,
                fd.as_raw_fd(),
                headers.as_mut_ptr(),
                count as libc::c_uint,
                0 as libc::c_int,
            )
        };
        if sent > 0 {
            return Ok(sent as usize);
        }
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINTR) {
            return Err(e);
        }
    }
}

/// The result of a send call that must move `expected` bytes.
pub(crate) fn check_sent(n: isize, expected: usize, what: &str) -> io::Result<()> {
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    if n as usize != expected {
        return Err(io::Error::new(
            io::ErrorKind::WriteZero,
            format!("short send of {what}"),
        ));
    }
    Ok(())
}

/// bind(2) to `addr` (any plain sockaddr struct).
pub(crate) fn bind_to<A>(fd: &OwnedFd, addr: &A) -> io::Result<()> {
    // SAFETY: addr is a plain sockaddr struct of the size passed.
    let rc = unsafe {
        libc::bind(
            fd.as_raw_fd(),
            addr as *const A as *const libc::sockaddr,
            std::mem::size_of::<A>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
