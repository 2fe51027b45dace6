//! DER encoding of the KDC's replies, fast path.
//!
//! The KDC builds its replies as `kerberos_asn1` values; this module encodes
//! them into one buffer, written back to front (a constructed element's
//! length is known once its content is written), with no allocation per
//! element. `kerberos_asn1`'s `build()` allocates and copies at every level
//! and was a third of the KDC's time per request.
//!
//! The output is byte-identical to `kerberos_asn1`'s `build()` (tests below
//! and the insta snapshots hold it to that), which matters: kerbside's own
//! decoders accept only the canonical encoding.
//!
//! Encodings (RFC 4120 §5, X.690 DER): Int32 and UInt32 as minimal two's
//! complement (UInt32 through its 32-bit pattern, the 4-octet form MIT and
//! Windows use for values >= 2^31); KerberosString as GeneralString (0x1b);
//! KerberosTime as GeneralizedTime `YYYYMMDDHHMMSSZ`; KerberosFlags as a
//! 32-bit BIT STRING with no unused bits.

use kerbside_wire::krb::asn1::{
    AsRep, EncKdcRepPart, EncTicketPart, EncryptedData, EncryptionKey, HostAddress, KerberosTime,
    PaData, PrincipalName, TgsRep, Ticket,
};
use kerbside_wire::time::unix_seconds;

const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;
const OCTET_STRING: u8 = 0x04;
const SEQUENCE: u8 = 0x30;
const GENERALIZED_TIME: u8 = 0x18;
const GENERAL_STRING: u8 = 0x1b;

const fn ctx(n: u8) -> u8 {
    0xa0 | n
}

const fn app(n: u8) -> u8 {
    0x60 | n
}

/// A DER writer that fills its buffer back to front.
struct Rev {
    buf: Vec<u8>,
}

impl Rev {
    fn with_capacity(n: usize) -> Self {
        Self {
            buf: Vec::with_capacity(n),
        }
    }

    fn mark(&self) -> usize {
        self.buf.len()
    }

    /// Closes the element whose content started at `mark`.
    fn close(&mut self, mark: usize, tag: u8) {
        let len = self.buf.len() - mark;
        if len < 0x80 {
            self.buf.push(len as u8);
        } else {
            let bytes = len.to_be_bytes();
            let skip = bytes.iter().take_while(|b| **b == 0).count();
            for b in bytes[skip..].iter().rev() {
                self.buf.push(*b);
            }
            self.buf.push(0x80 | (bytes.len() - skip) as u8);
        }
        self.buf.push(tag);
    }

    fn bytes(&mut self, b: &[u8]) {
        self.buf.extend(b.iter().rev());
    }

    fn primitive(&mut self, tag: u8, content: &[u8]) {
        let m = self.mark();
        self.bytes(content);
        self.close(m, tag);
    }

    /// INTEGER, minimal two's complement.
    fn int(&mut self, v: i64) {
        let m = self.mark();
        let mut v = v;
        loop {
            let byte = (v & 0xff) as u8;
            self.buf.push(byte);
            v >>= 8;
            // Done when the rest is pure sign extension of this byte's top bit.
            if (v == 0 && byte & 0x80 == 0) || (v == -1 && byte & 0x80 != 0) {
                break;
            }
        }
        self.close(m, INTEGER);
    }

    fn uint32(&mut self, v: u32) {
        self.int(i64::from(v as i32));
    }

    fn octets(&mut self, b: &[u8]) {
        self.primitive(OCTET_STRING, b);
    }

    fn string(&mut self, s: &str) {
        self.primitive(GENERAL_STRING, s.as_bytes());
    }

    fn flags(&mut self, f: u32) {
        let m = self.mark();
        self.bytes(&f.to_be_bytes());
        self.buf.push(0); // no unused bits
        self.close(m, BIT_STRING);
    }

    fn time(&mut self, t: &KerberosTime) {
        self.primitive(GENERALIZED_TIME, &generalized_time(unix_seconds(t)));
    }

    /// `[n] EXPLICIT` around whatever `f` writes.
    fn explicit(&mut self, n: u8, f: impl FnOnce(&mut Self)) {
        let m = self.mark();
        f(self);
        self.close(m, ctx(n));
    }

    fn finish(mut self) -> Vec<u8> {
        self.buf.reverse();
        self.buf
    }
}

/// `YYYYMMDDHHMMSSZ` for Unix seconds (proleptic Gregorian, UTC), clamped to
/// the four-digit years as kerbside-wire's conversions are.
fn generalized_time(secs: i64) -> [u8; 15] {
    let secs = secs.clamp(-62_167_219_200, 253_402_300_799);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // H. Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let mut out = *b"00000000000000Z";
    let mut put = |at: usize, width: usize, v: i64| {
        let mut v = v;
        for i in (at..at + width).rev() {
            out[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, 4, y);
    put(4, 2, m);
    put(6, 2, d);
    put(8, 2, sod / 3600);
    put(10, 2, sod % 3600 / 60);
    put(12, 2, sod % 60);
    out
}

// Each writer emits its fields last to first: the buffer is reversed at the end.

fn principal_name(w: &mut Rev, p: &PrincipalName) {
    let m = w.mark();
    w.explicit(1, |w| {
        let s = w.mark();
        for c in p.name_string.iter().rev() {
            w.string(c);
        }
        w.close(s, SEQUENCE);
    });
    w.explicit(0, |w| w.int(i64::from(p.name_type)));
    w.close(m, SEQUENCE);
}

fn encrypted_data(w: &mut Rev, e: &EncryptedData) {
    let m = w.mark();
    w.explicit(2, |w| w.octets(&e.cipher));
    if let Some(k) = e.kvno {
        w.explicit(1, |w| w.uint32(k));
    }
    w.explicit(0, |w| w.int(i64::from(e.etype)));
    w.close(m, SEQUENCE);
}

fn encryption_key(w: &mut Rev, k: &EncryptionKey) {
    let m = w.mark();
    w.explicit(1, |w| w.octets(&k.keyvalue));
    w.explicit(0, |w| w.int(i64::from(k.keytype)));
    w.close(m, SEQUENCE);
}

fn host_addresses(w: &mut Rev, a: &[HostAddress]) {
    let m = w.mark();
    for h in a.iter().rev() {
        let s = w.mark();
        w.explicit(1, |w| w.octets(&h.address));
        w.explicit(0, |w| w.int(i64::from(h.addr_type)));
        w.close(s, SEQUENCE);
    }
    w.close(m, SEQUENCE);
}

fn padata_seq(w: &mut Rev, p: &[PaData]) {
    let m = w.mark();
    for pa in p.iter().rev() {
        let s = w.mark();
        w.explicit(2, |w| w.octets(&pa.padata_value));
        w.explicit(1, |w| w.int(i64::from(pa.padata_type)));
        w.close(s, SEQUENCE);
    }
    w.close(m, SEQUENCE);
}

fn ticket(w: &mut Rev, t: &Ticket) {
    let m = w.mark();
    let s = w.mark();
    w.explicit(3, |w| encrypted_data(w, &t.enc_part));
    w.explicit(2, |w| principal_name(w, &t.sname));
    w.explicit(1, |w| w.string(&t.realm));
    w.explicit(0, |w| w.int(i64::from(t.tkt_vno)));
    w.close(s, SEQUENCE);
    w.close(m, app(1));
}

/// DER of a Ticket (RFC 4120 §5.3).
pub fn encode_ticket(t: &Ticket) -> Vec<u8> {
    let mut w = Rev::with_capacity(256 + t.enc_part.cipher.len());
    ticket(&mut w, t);
    w.finish()
}

/// DER of an EncTicketPart (RFC 4120 §5.3).
pub fn encode_enc_ticket_part(p: &EncTicketPart) -> Vec<u8> {
    let mut w = Rev::with_capacity(256);
    let m = w.mark();
    let s = w.mark();
    if let Some(ad) = &p.authorization_data {
        w.explicit(10, |w| {
            let q = w.mark();
            for e in ad.iter().rev() {
                let r = w.mark();
                w.explicit(1, |w| w.octets(&e.ad_data));
                w.explicit(0, |w| w.int(i64::from(e.ad_type)));
                w.close(r, SEQUENCE);
            }
            w.close(q, SEQUENCE);
        });
    }
    if let Some(a) = &p.caddr {
        w.explicit(9, |w| host_addresses(w, a));
    }
    if let Some(t) = &p.renew_till {
        w.explicit(8, |w| w.time(t));
    }
    w.explicit(7, |w| w.time(&p.endtime));
    if let Some(t) = &p.starttime {
        w.explicit(6, |w| w.time(t));
    }
    w.explicit(5, |w| w.time(&p.authtime));
    w.explicit(4, |w| {
        let t = w.mark();
        w.explicit(1, |w| w.octets(&p.transited.contents));
        w.explicit(0, |w| w.int(i64::from(p.transited.tr_type)));
        w.close(t, SEQUENCE);
    });
    w.explicit(3, |w| principal_name(w, &p.cname));
    w.explicit(2, |w| w.string(&p.crealm));
    w.explicit(1, |w| encryption_key(w, &p.key));
    w.explicit(0, |w| w.flags(p.flags.flags));
    w.close(s, SEQUENCE);
    w.close(m, app(3));
    w.finish()
}

/// DER of an EncKDCRepPart under `[APPLICATION tag]`: 25 for
/// EncASRepPart, 26 for EncTGSRepPart (RFC 4120 §5.4.2).
pub fn encode_enc_kdc_rep_part(p: &EncKdcRepPart, tag: u8) -> Vec<u8> {
    let mut w = Rev::with_capacity(256);
    let m = w.mark();
    let s = w.mark();
    if let Some(pa) = &p.encrypted_pa_data {
        w.explicit(12, |w| padata_seq(w, pa));
    }
    if let Some(a) = &p.caddr {
        w.explicit(11, |w| host_addresses(w, a));
    }
    w.explicit(10, |w| principal_name(w, &p.sname));
    w.explicit(9, |w| w.string(&p.srealm));
    if let Some(t) = &p.renew_till {
        w.explicit(8, |w| w.time(t));
    }
    w.explicit(7, |w| w.time(&p.endtime));
    if let Some(t) = &p.starttime {
        w.explicit(6, |w| w.time(t));
    }
    w.explicit(5, |w| w.time(&p.authtime));
    w.explicit(4, |w| w.flags(p.flags.flags));
    if let Some(t) = &p.key_expiration {
        w.explicit(3, |w| w.time(t));
    }
    w.explicit(2, |w| w.uint32(p.nonce));
    w.explicit(1, |w| {
        let q = w.mark();
        for lr in p.last_req.iter().rev() {
            let r = w.mark();
            w.explicit(1, |w| w.time(&lr.lr_value));
            w.explicit(0, |w| w.int(i64::from(lr.lr_type)));
            w.close(r, SEQUENCE);
        }
        w.close(q, SEQUENCE);
    });
    w.explicit(0, |w| encryption_key(w, &p.key));
    w.close(s, SEQUENCE);
    w.close(m, app(tag));
    w.finish()
}

#[allow(clippy::too_many_arguments)]
fn kdc_rep(
    tag: u8,
    pvno: i32,
    msg_type: i32,
    padata: Option<&[PaData]>,
    crealm: &str,
    cname: &PrincipalName,
    t: &Ticket,
    enc_part: &EncryptedData,
) -> Vec<u8> {
    let mut w = Rev::with_capacity(512 + t.enc_part.cipher.len() + enc_part.cipher.len());
    let m = w.mark();
    let s = w.mark();
    w.explicit(6, |w| encrypted_data(w, enc_part));
    w.explicit(5, |w| ticket(w, t));
    w.explicit(4, |w| principal_name(w, cname));
    w.explicit(3, |w| w.string(crealm));
    if let Some(p) = padata {
        w.explicit(2, |w| padata_seq(w, p));
    }
    w.explicit(1, |w| w.int(i64::from(msg_type)));
    w.explicit(0, |w| w.int(i64::from(pvno)));
    w.close(s, SEQUENCE);
    w.close(m, app(tag));
    w.finish()
}

/// DER of an AS-REP (RFC 4120 §5.4.2).
pub fn encode_as_rep(r: &AsRep) -> Vec<u8> {
    kdc_rep(
        11,
        r.pvno,
        r.msg_type,
        r.padata.as_deref(),
        &r.crealm,
        &r.cname,
        &r.ticket,
        &r.enc_part,
    )
}

/// DER of a TGS-REP (RFC 4120 §5.4.2).
pub fn encode_tgs_rep(r: &TgsRep) -> Vec<u8> {
    kdc_rep(
        13,
        r.pvno,
        r.msg_type,
        r.padata.as_deref(),
        &r.crealm,
        &r.cname,
        &r.ticket,
        &r.enc_part,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use kerbside_wire::krb::asn1::{
        Asn1Object, AuthorizationDataEntry, EncAsRepPart, EncTgsRepPart, LastReqEntry, TicketFlags,
        TransitedEncoding,
    };
    use proptest::prelude::*;

    fn kt(secs: i64) -> KerberosTime {
        crate::ticket::kt(secs)
    }

    fn name(t: i32, c: &[String]) -> PrincipalName {
        PrincipalName {
            name_type: t,
            name_string: c.to_vec(),
        }
    }

    fn sample_ticket(kvno: Option<u32>, cipher: Vec<u8>) -> Ticket {
        Ticket::new(
            "LAB.TEST".into(),
            name(2, &["krbtgt".into(), "LAB.TEST".into()]),
            EncryptedData::new(18, kvno, cipher),
        )
    }

    #[test]
    fn integers_match_red_asn1() {
        for v in [
            0i32,
            1,
            127,
            128,
            255,
            256,
            -1,
            -128,
            -129,
            i32::MIN,
            i32::MAX,
            65_535,
            -65_536,
        ] {
            let mut w = Rev::with_capacity(8);
            w.int(i64::from(v));
            assert_eq!(w.finish(), v.build(), "{v}");
        }
        for v in [
            0u32,
            1,
            0x7fff_ffff,
            0x8000_0000,
            0xffff_ffff,
            4_165_284_616,
        ] {
            let mut w = Rev::with_capacity(8);
            w.uint32(v);
            assert_eq!(w.finish(), v.build(), "{v}");
        }
    }

    #[test]
    fn long_lengths() {
        let big = vec![7u8; 70_000];
        let mut w = Rev::with_capacity(8);
        w.octets(&big);
        let out = w.finish();
        assert_eq!(&out[..5], &[0x04, 0x83, 0x01, 0x11, 0x70]);
        assert_eq!(out.len(), 5 + 70_000);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn times_match_red_asn1(secs in -62_167_219_200i64..253_402_300_799) {
            let t = kt(secs);
            let mut w = Rev::with_capacity(20);
            w.time(&t);
            prop_assert_eq!(w.finish(), t.build());
        }

        #[test]
        fn replies_match_kerberos_asn1(
            comps in proptest::collection::vec("[a-z.$]{1,12}", 1..3),
            cipher in proptest::collection::vec(any::<u8>(), 0..300),
            kvno in proptest::option::of(any::<u32>()),
            nonce: u32,
            flags: u32,
            etype in -200i32..200,
            secs in 0i64..4_000_000_000,
            opt in any::<[bool; 6]>(),
        ) {
            let t = sample_ticket(kvno, cipher.clone());
            prop_assert_eq!(encode_ticket(&t), t.build());
            let key = EncryptionKey::new(etype, cipher.iter().take(32).copied().collect());
            let part = EncTicketPart {
                flags: TicketFlags::from(flags),
                key: key.clone(),
                crealm: "LAB.TEST".into(),
                cname: name(1, &comps),
                transited: TransitedEncoding { tr_type: 1, contents: if opt[5] { vec![1, 2] } else { vec![] } },
                authtime: kt(secs),
                starttime: opt[0].then(|| kt(secs + 1)),
                endtime: kt(secs + 36_000),
                renew_till: opt[1].then(|| kt(secs + 86_400)),
                caddr: opt[2].then(|| vec![HostAddress::new(2, vec![127, 0, 0, 1]), HostAddress::new(24, vec![0; 16])]),
                authorization_data: opt[3].then(|| vec![AuthorizationDataEntry { ad_type: 1, ad_data: cipher.clone() }]),
            };
            prop_assert_eq!(encode_enc_ticket_part(&part), part.build());
            let rep_part = EncKdcRepPart {
                key,
                last_req: vec![LastReqEntry::new(0, kt(0))],
                nonce,
                key_expiration: opt[4].then(|| kt(secs + 5)),
                flags: TicketFlags::from(flags),
                authtime: kt(secs),
                starttime: opt[0].then(|| kt(secs + 1)),
                endtime: kt(secs + 36_000),
                renew_till: opt[1].then(|| kt(secs + 86_400)),
                srealm: "LAB.TEST".into(),
                sname: name(3, &comps),
                caddr: opt[2].then(|| vec![HostAddress::new(2, vec![127, 0, 0, 1])]),
                encrypted_pa_data: opt[3].then(|| vec![PaData::new(149, cipher.clone()), PaData::new(136, vec![])]),
            };
            prop_assert_eq!(encode_enc_kdc_rep_part(&rep_part, 25), EncAsRepPart::from(rep_part.clone()).build());
            prop_assert_eq!(encode_enc_kdc_rep_part(&rep_part, 26), EncTgsRepPart::from(rep_part).build());
            let as_rep = AsRep {
                pvno: 5,
                msg_type: 11,
                padata: opt[4].then(|| vec![PaData::new(19, cipher.clone())]),
                crealm: "LAB.TEST".into(),
                cname: name(1, &comps),
                ticket: t.clone(),
                enc_part: EncryptedData::new(etype, None, cipher.clone()),
            };
            prop_assert_eq!(encode_as_rep(&as_rep), as_rep.build());
            let tgs_rep = TgsRep {
                pvno: 5,
                msg_type: 13,
                padata: None,
                crealm: "LAB.TEST".into(),
                cname: name(1, &comps),
                ticket: t,
                enc_part: EncryptedData::new(etype, kvno, cipher),
            };
            prop_assert_eq!(encode_tgs_rep(&tgs_rep), tgs_rep.build());
        }
    }
}
