//! `KdcExchange` tests against kerbside's KDC core: the request bytes are
//! first rebuilt from the recipe (they must match: the recipe is what a
//! live run sends), then sent `sends` times (altered after the first with
//! `resendAltered`) to a fresh KDC at the group clock, and the last answer
//! is graded.

use std::time::SystemTime;

use kerbside_kdc::{Kdc, KdcConfig, Outcome, PrincipalStore, Transport};
use kerbside_wire::krb::{self, KrbMessage};
use rand_chacha::ChaCha12Rng;
use rand_core::SeedableRng;

use crate::clock;
use crate::kdc_reply;
use crate::model::{Group, KdcExpected, KdcInput, KdcParams, KdcRecipe, KdcTransport, Test};
use crate::observe::Evaluation;
use crate::realm::{self, Realm};
use crate::recipe::{self, Built};

/// The RNG a test's fixed bytes are made with.
pub fn test_rng(tc_id: u32) -> ChaCha12Rng {
    ChaCha12Rng::seed_from_u64(u64::from(tc_id))
}

/// What checking a raw request's reply needs, read from the request.
pub fn built_from_bytes(bytes: &[u8]) -> Built {
    let (client, nonce) = match krb::decode(bytes) {
        Ok(KrbMessage::AsReq(r)) => (
            r.req_body.cname.map(|c| c.name_string.join("/")),
            r.req_body.nonce,
        ),
        Ok(KrbMessage::TgsReq(r)) => (None, r.req_body.nonce),
        _ => (None, 0),
    };
    Built {
        bytes: bytes.to_vec(),
        nonce,
        client,
        reply_key: None,
    }
}

/// The realm, clock and KDC a group describes.
#[derive(Debug)]
pub struct KdcGroup {
    /// The realm.
    pub realm: Realm,
    /// The clock.
    pub now: SystemTime,
    config: KdcConfig,
    store: PrincipalStore,
}

impl KdcGroup {
    /// Builds the group's realm and KDC configuration.
    pub fn new(p: &KdcParams) -> Result<Self, String> {
        let realm = Realm::new(&p.realm, p.principals.clone());
        let now = clock::parse(&p.clock).map_err(|e| e.to_string())?;
        let config = realm::kdc_config(&p.realm, &p.kdc).map_err(|e| e.to_string())?;
        let store = realm
            .kdc(&p.kdc)
            .map_err(|e| e.to_string())?
            .store()
            .clone();
        Ok(KdcGroup {
            realm,
            now,
            config,
            store,
        })
    }

    /// A fresh KDC (empty replay cache).
    pub fn kdc(&self) -> Result<Kdc, String> {
        Kdc::new(self.config.clone(), self.store.clone()).map_err(|e| e.to_string())
    }

    /// The request of a test, rebuilt from its recipe at the group clock;
    /// a raw recipe gives the listed bytes.
    pub fn rebuild(&self, t: &Test<KdcInput, KdcExpected>) -> Result<Built, String> {
        let listed = hex::decode(&t.input.request_hex).map_err(|_| "bad requestHex".to_owned())?;
        if let KdcRecipe::Raw(_) = &t.input.recipe {
            return Ok(built_from_bytes(&listed));
        }
        let mut rng = test_rng(t.tc_id);
        recipe::build(&t.input.recipe, &self.realm, self.now, &mut rng, None)
            .map_err(|e| e.to_string())
    }
}

/// Grades one test against kerbside's KDC.
pub fn evaluate(group: &KdcGroup, t: &Test<KdcInput, KdcExpected>) -> Evaluation {
    let built = match group.rebuild(t) {
        Ok(b) => b,
        Err(e) => return Evaluation::fail("recipe", e),
    };
    if hex::encode(&built.bytes) != t.input.request_hex {
        return Evaluation::fail(
            "recipe",
            "requestHex is not what the recipe builds at the group clock",
        );
    }
    let mut kdc = match group.kdc() {
        Ok(k) => k,
        Err(e) => return Evaluation::fail("kdc", e),
    };
    let transport = match t.input.transport {
        KdcTransport::Udp => Transport::Udp,
        KdcTransport::Tcp => Transport::Tcp,
    };
    let sends = match recipe::sends(&built.bytes, t.input.sends, t.input.resend_altered) {
        Ok(s) => s,
        Err(e) => return Evaluation::fail("recipe", e),
    };
    let mut rng = ChaCha12Rng::seed_from_u64(0x6b64_6300 ^ u64::from(t.tc_id));
    let mut last = None;
    for bytes in &sends {
        last = match kdc.handle(bytes, transport, group.now, &mut rng) {
            Outcome::Reply(r) => Some(r),
            Outcome::Drop(_) => None,
        };
    }
    kdc_reply::evaluate(&t.expected, last.as_deref(), &group.realm, &built)
}

/// Grades a whole group (one fresh KDC per test).
pub fn evaluate_group(g: &Group<KdcParams, KdcInput, KdcExpected>) -> Vec<(u32, Evaluation)> {
    match KdcGroup::new(&g.params) {
        Ok(group) => g
            .tests
            .iter()
            .map(|t| (t.tc_id, evaluate(&group, t)))
            .collect(),
        Err(e) => g
            .tests
            .iter()
            .map(|t| (t.tc_id, Evaluation::fail("group", e.clone())))
            .collect(),
    }
}
