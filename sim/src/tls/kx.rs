//! X25519 key exchange from the seeded stream.
//!
//! rustls' ring provider draws ephemeral key-exchange keys from ring's
//! `SystemRandom` whatever the provider's `secure_random` says
//! (reference crates §5), so TLS bytes could never repeat. This group does
//! the same X25519 (RFC 7748 §5) with x25519-dalek on a secret drawn from
//! [`super::rng`].

use rustls::crypto::{ActiveKeyExchange, SharedSecret, SupportedKxGroup};
use rustls::{Error, NamedGroup, PeerMisbehaved};
use x25519_dalek::{PublicKey, StaticSecret};

/// The seeded X25519 group.
#[derive(Debug)]
pub struct SimX25519;

/// The `&'static` instance rustls' provider list needs.
pub static SIM_X25519: SimX25519 = SimX25519;

impl SupportedKxGroup for SimX25519 {
    fn start(&self) -> Result<Box<dyn ActiveKeyExchange>, Error> {
        let mut seed = [0u8; 32];
        super::rng::fill(&mut seed).map_err(|_| Error::FailedToGetRandomBytes)?;
        // StaticSecret clamps the scalar as RFC 7748 §5 requires.
        let secret = StaticSecret::from(seed);
        let public = PublicKey::from(&secret);
        Ok(Box::new(ActiveX25519 { secret, public }))
    }

    fn name(&self) -> NamedGroup {
        NamedGroup::X25519
    }
}

struct ActiveX25519 {
    secret: StaticSecret,
    public: PublicKey,
}

impl ActiveKeyExchange for ActiveX25519 {
    fn complete(self: Box<Self>, peer_pub_key: &[u8]) -> Result<SharedSecret, Error> {
        let peer: [u8; 32] = peer_pub_key
            .try_into()
            .map_err(|_| Error::from(PeerMisbehaved::InvalidKeyShare))?;
        let shared = self.secret.diffie_hellman(&PublicKey::from(peer));
        // RFC 7748 §6.1 / RFC 8446 §7.4.2: an all-zero shared secret (a
        // small-order peer point) MUST be rejected.
        if !shared.was_contributory() {
            return Err(PeerMisbehaved::InvalidKeyShare.into());
        }
        Ok(SharedSecret::from(&shared.as_bytes()[..]))
    }

    fn pub_key(&self) -> &[u8] {
        self.public.as_bytes()
    }

    fn group(&self) -> NamedGroup {
        NamedGroup::X25519
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_sides_agree_and_bad_peers_are_refused() {
        super::super::rng::seed_thread([1; 32]);
        let a = SIM_X25519.start().unwrap();
        let b = SIM_X25519.start().unwrap();
        let (apub, bpub) = (a.pub_key().to_vec(), b.pub_key().to_vec());
        assert_ne!(apub, bpub);
        let s1 = a.complete(&bpub).unwrap();
        let s2 = b.complete(&apub).unwrap();
        assert_eq!(s1.secret_bytes(), s2.secret_bytes());

        let c = SIM_X25519.start().unwrap();
        assert!(c.complete(&[0u8; 31]).is_err(), "wrong length");
        let d = SIM_X25519.start().unwrap();
        assert!(
            d.complete(&[0u8; 32]).is_err(),
            "small-order point gives an all-zero secret"
        );
    }

    #[test]
    fn matches_rfc7748_vector() {
        // RFC 7748 §6.1: Alice's private key and Bob's public key.
        let alice: [u8; 32] =
            hex::decode("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
                .unwrap()
                .try_into()
                .unwrap();
        let bob_pub: [u8; 32] =
            hex::decode("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
                .unwrap()
                .try_into()
                .unwrap();
        let kx = Box::new(ActiveX25519 {
            public: PublicKey::from(&StaticSecret::from(alice)),
            secret: StaticSecret::from(alice),
        });
        assert_eq!(
            hex::encode(kx.pub_key()),
            "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
        );
        let shared = kx.complete(&bob_pub).unwrap();
        assert_eq!(
            hex::encode(shared.secret_bytes()),
            "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"
        );
    }
}
