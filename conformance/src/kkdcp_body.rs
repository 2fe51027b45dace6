//! Building KKDCP request bodies (MS-KKDCP §2.2.2 KDC-PROXY-MESSAGE) from
//! recipes, including the variants a relay must refuse: no or wrong length
//! prefix, no target-domain, other string tags, trailing bytes.

use std::time::SystemTime;

use rand_core::RngCore;

use crate::model::{BodyRecipe, KkdcpBody, PrefixMode, TargetDomain};
use crate::realm::Realm;
use crate::recipe::{self, Built, IssuedTicket, RecipeError};

/// A built body and, when it wraps a built request, what checking the
/// reply needs.
#[derive(Debug, Clone)]
pub struct BuiltBody {
    /// The HTTP body.
    pub bytes: Vec<u8>,
    /// The inner request, when built from a recipe.
    pub inner: Option<Built>,
}

/// DER tag-length-value (X.690 §10.1: definite, minimal length).
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        let used = bytes.get(skip..).unwrap_or_default();
        out.push(0x80 | used.len() as u8);
        out.extend_from_slice(used);
    }
    out.extend_from_slice(content);
    out
}

/// DER INTEGER content (minimal two's complement).
fn integer(v: i64) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    let mut start = 0;
    while start < 7 {
        let (b, next) = (bytes[start], bytes[start + 1]);
        if (b == 0x00 && next & 0x80 == 0) || (b == 0xff && next & 0x80 != 0) {
            start += 1;
        } else {
            break;
        }
    }
    bytes.get(start..).unwrap_or_default().to_vec()
}

/// Builds a body. `tgt` as in [`recipe::build`].
pub fn build(
    body: &BodyRecipe,
    realm: &Realm,
    now: SystemTime,
    rng: &mut dyn RngCore,
    tgt: Option<&IssuedTicket>,
) -> Result<BuiltBody, RecipeError> {
    match body {
        BodyRecipe::Kkdcp(k) => kkdcp(k, realm, now, rng, tgt),
        BodyRecipe::Raw(_) => Err(RecipeError::Raw),
        BodyRecipe::Filler { byte, len } => Ok(BuiltBody {
            bytes: vec![*byte; *len],
            inner: None,
        }),
        BodyRecipe::Empty => Ok(BuiltBody {
            bytes: Vec::new(),
            inner: None,
        }),
    }
}

fn kkdcp(
    k: &KkdcpBody,
    realm: &Realm,
    now: SystemTime,
    rng: &mut dyn RngCore,
    tgt: Option<&IssuedTicket>,
) -> Result<BuiltBody, RecipeError> {
    let (message, inner) = match (&k.message, &k.message_hex) {
        (Some(r), _) => {
            let b = recipe::build(r, realm, now, rng, tgt)?;
            (b.bytes.clone(), Some(b))
        }
        (None, Some(h)) => (
            hex::decode(h).map_err(|_| RecipeError::Hex(h.clone()))?,
            None,
        ),
        (None, None) => (Vec::new(), None),
    };
    let declared = match &k.prefix {
        PrefixMode::Correct => Some(u32::try_from(message.len()).unwrap_or(u32::MAX)),
        PrefixMode::Absent => None,
        PrefixMode::Delta { delta } => {
            let n = i64::try_from(message.len()).unwrap_or(i64::MAX) + delta;
            Some(u32::try_from(n.max(0)).unwrap_or(u32::MAX))
        }
        PrefixMode::Value { value } => Some(*value),
    };
    let mut kerb_message = Vec::new();
    if let Some(d) = declared {
        kerb_message.extend_from_slice(&d.to_be_bytes());
    }
    kerb_message.extend_from_slice(&message);
    let mut seq = tlv(0xa0, &tlv(0x04, &kerb_message));
    let domain = match &k.target_domain {
        TargetDomain::Realm => Some(realm.name.clone()),
        TargetDomain::Lowercase => Some(realm.name.to_ascii_lowercase()),
        TargetDomain::Absent => None,
        TargetDomain::Literal { value } => Some(value.clone()),
    };
    if let Some(d) = domain {
        // KERB-REALM is a GeneralString (0x1b) in every known client.
        let tag = k.realm_tag.unwrap_or(0x1b);
        seq.extend(tlv(0xa1, &tlv(tag, d.as_bytes())));
    }
    if let Some(h) = k.dclocator_hint {
        seq.extend(tlv(0xa2, &tlv(0x02, &integer(h))));
    }
    let mut bytes = tlv(0x30, &seq);
    bytes.extend(
        hex::decode(&k.trailing_hex).map_err(|_| RecipeError::Hex(k.trailing_hex.clone()))?,
    );
    Ok(BuiltBody { bytes, inner })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_helpers_are_minimal() {
        assert_eq!(tlv(0x04, &[1, 2]), [0x04, 2, 1, 2]);
        assert_eq!(tlv(0x04, &[0; 200])[..3], [0x04, 0x81, 200]);
        assert_eq!(tlv(0x04, &[0; 300])[..4], [0x04, 0x82, 1, 44]);
        assert_eq!(integer(0), [0]);
        assert_eq!(integer(128), [0, 128]);
        assert_eq!(integer(-1), [0xff]);
        assert_eq!(integer(-129), [0xff, 0x7f]);
    }

    #[test]
    fn matches_kerbsides_encoder() {
        let r = Realm::new("LAB.TEST", Vec::new());
        let body = KkdcpBody {
            message: None,
            message_hex: Some("6a00".into()),
            target_domain: TargetDomain::Realm,
            prefix: PrefixMode::Correct,
            dclocator_hint: Some(4),
            trailing_hex: String::new(),
            realm_tag: None,
        };
        let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(1);
        let b = build(
            &BodyRecipe::Kkdcp(body),
            &r,
            std::time::UNIX_EPOCH,
            &mut rng,
            None,
        )
        .unwrap();
        let mut m = kerbside_wire::kkdcp::KdcProxyMessage::request(&[0x6a, 0], "LAB.TEST").unwrap();
        m.dclocator_hint = Some(4);
        assert_eq!(b.bytes, m.encode());
    }

    use rand_core::SeedableRng;
}
