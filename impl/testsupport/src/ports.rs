//! Loopback ports for servers a test starts.

use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::sync::atomic::{AtomicU32, Ordering};

/// A port on 127.0.0.1 below 32768 (outside the ephemeral range, so no
/// outgoing connection takes it meanwhile; DESIGN.md §8) that is free for
/// both TCP and UDP now. Tests in one binary run in parallel, and several
/// test binaries at once: each call starts its search at an offset spread
/// by process and by call, so two servers never race for the same port
/// before one of them has bound it.
pub fn free_port() -> u16 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    // Spread over 10000..30000 by process and by call, then probe upwards.
    let base = (std::process::id().wrapping_mul(7919) + n.wrapping_mul(1009)) % 20_000;
    for i in 0..20_000u32 {
        let p = 10_000 + ((base + i) % 20_000) as u16;
        let a: SocketAddr = ([127, 0, 0, 1], p).into();
        if TcpListener::bind(a).is_ok() && UdpSocket::bind(a).is_ok() {
            return p;
        }
    }
    panic!("no free port below 32768");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_below_the_ephemeral_range_free_and_distinct() {
        let a = free_port();
        let b = free_port();
        assert_ne!(a, b);
        for p in [a, b] {
            assert!((10_000..30_000).contains(&p));
            assert!(TcpListener::bind(("127.0.0.1", p)).is_ok());
            assert!(UdpSocket::bind(("127.0.0.1", p)).is_ok());
        }
    }
}
