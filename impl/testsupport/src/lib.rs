//! Test-only helpers shared by kerbside's interop tests (dev-dependency
//! only; never a dependency of production code).
//!
//! * [`peers`]: is an external peer (MIT krb5, kdcproxy, tshark)
//!   installed? Missing peers skip a test with a `SKIP:` message, unless
//!   `KERBSIDE_REQUIRE_PEERS=1` (CI), where they fail it.
//! * [`ports`]: a loopback port below the ephemeral range, free for TCP
//!   and UDP.
//! * [`mit`]: a throwaway MIT krb5 realm of any name, enctypes and
//!   principals (`kadmin.local` queries).
//! * [`mit_lab`]: the `LAB.TEST` realm with the vectors' principals and
//!   client configurations for `kinit`/`kvno` (via a relay or directly).
//! * [`kdcproxy`]: FreeIPA kdcproxy under gunicorn, the reference KKDCP
//!   server.
//! * [`process`]: a server program started by a test, its stdout lines
//!   collected.
//!
//! Helpers panic on setup failures: they run inside tests, where a panic
//! with the tool's output is the clearest failure.

pub mod kdcproxy;
pub mod mit;
pub mod mit_lab;
pub mod peers;
pub mod ports;
pub mod process;
