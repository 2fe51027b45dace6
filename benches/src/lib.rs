//! Fixtures shared by the criterion benches (`benches/benches/*.rs`) and
//! the loopback comparison (`benches/compare.sh`, the `kerbside-compare`
//! binary).
//!
//! | module | what |
//! |---|---|
//! | [`vectors`] | the MIT-captured wire bytes (kerbside-wire's copy of `/work/shared/vectors/mit`) |
//! | [`realm`] | LAB.TEST as the KDC tests load it (MIT keytab keys), KDCs and fresh requests |
//! | [`handshake`] | in-process logons: client, application server and KDC in one thread |
//! | [`sim_logon`] | one logon per path inside the deterministic simulation |
//! | [`compare`] | the comparison's plan, `kerbside load` results and the Markdown report |
//!
//! Every fixture checks its own result (an AS-REP decrypts, a context is
//! established, a logon took the path it is named after) so a bench never
//! times an error path by accident; the unit tests run each fixture once.

pub mod compare;
pub mod error;
pub mod handshake;
pub mod realm;
pub mod sim_logon;
pub mod vectors;

pub use error::FixtureError;
