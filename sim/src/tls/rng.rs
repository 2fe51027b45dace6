//! rustls' randomness in the simulation: a per-thread ChaCha stream seeded
//! from the run seed.
//!
//! rustls wants `&'static dyn SecureRandom` and `&'static dyn
//! SupportedKxGroup`, so the objects here are unit structs that draw from a
//! thread-local generator. Each simulation runs on one thread and steps its
//! hosts in a deterministic order, so one stream per run is deterministic;
//! the runner seeds it before the first host starts. Outside a seeded
//! thread every draw fails: the simulation never falls back to OS entropy.

use std::cell::RefCell;

use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use rustls::crypto::{GetRandomFailed, SecureRandom};

thread_local! {
    static TLS_RNG: RefCell<Option<ChaCha20Rng>> = const { RefCell::new(None) };
}

/// Seeds this thread's TLS randomness (call at the start of every run).
pub fn seed_thread(seed: [u8; 32]) {
    TLS_RNG.with(|r| *r.borrow_mut() = Some(ChaCha20Rng::from_seed(seed)));
}

/// Removes this thread's TLS randomness (draws fail afterwards).
pub fn unseed_thread() {
    TLS_RNG.with(|r| *r.borrow_mut() = None);
}

/// Fills `buf` from the thread's stream.
pub(crate) fn fill(buf: &mut [u8]) -> Result<(), GetRandomFailed> {
    TLS_RNG.with(|r| match r.borrow_mut().as_mut() {
        Some(rng) => {
            rng.fill_bytes(buf);
            Ok(())
        }
        None => Err(GetRandomFailed),
    })
}

/// rustls' `SecureRandom` on the thread's seeded stream.
#[derive(Debug)]
pub struct SimSecureRandom;

impl SecureRandom for SimSecureRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), GetRandomFailed> {
        fill(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_draws_repeat_and_unseeded_fail() {
        let mut a = [0u8; 16];
        let mut b = [0u8; 16];
        seed_thread([7; 32]);
        SimSecureRandom.fill(&mut a).unwrap();
        seed_thread([7; 32]);
        SimSecureRandom.fill(&mut b).unwrap();
        assert_eq!(a, b);
        seed_thread([8; 32]);
        SimSecureRandom.fill(&mut b).unwrap();
        assert_ne!(a, b);
        unseed_thread();
        assert!(SimSecureRandom.fill(&mut a).is_err());
    }
}
