//! Kerberos structures as [`Node`] trees, field by field, with RFC 4120
//! field names, numbers resolved to names, and optional decryption of
//! every EncryptedData with the key usage its position implies
//! (RFC 4120 §7.5.1).

use kerberos_asn1::{
    ApRep, ApReq, Authenticator, Checksum, EncApRepPart, EncKdcRepPart, EncKrbCredPart,
    EncKrbPrivPart, EncTicketPart, EncryptedData, EncryptionKey, HostAddress, KdcReqBody,
    KerberosFlags, KerberosTime, KrbCred, KrbError, KrbPriv, KrbSafe, LastReqEntry, PaData,
    PaEncTsEnc, PrincipalName, Ticket, TransitedEncoding,
};

use super::Describer;
use crate::krb::constants::{self as c, key_usage as ku};
use crate::krb::{self, KrbMessage, PaValue};
use crate::tree::Node;

/// What a decrypted blob is, by key usage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plain {
    EncTicketPart,
    EncRepPart,
    PaEncTsEnc,
    Authenticator,
    EncApRepPart,
    EncKrbPrivPart,
    EncKrbCredPart,
}

fn num(v: i32, name: Option<&str>) -> String {
    match name {
        Some(n) => format!("{v} ({n})"),
        None => v.to_string(),
    }
}

fn etype(v: i32) -> String {
    num(v, c::etype_name(v))
}

fn time(name: &str, t: &KerberosTime) -> Node {
    Node::leaf(name, crate::time::format(t))
}

fn opt_time(name: &str, t: &Option<KerberosTime>) -> Option<Node> {
    t.as_ref().map(|t| time(name, t))
}

fn flags(name: &str, f: &KerberosFlags, table: &[(u32, &'static str)]) -> Node {
    let names = c::flag_names(f.flags, table);
    let shown = if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    };
    Node::leaf(name, format!("0x{:08x} ({shown})", f.flags))
}

pub(super) fn principal(name: &str, p: &PrincipalName) -> Node {
    Node::leaf(
        name,
        format!(
            "{} ({})",
            krb::principal_to_string(p),
            c::name_type_name(p.name_type)
                .map(str::to_string)
                .unwrap_or_else(|| format!("name-type {}", p.name_type))
        ),
    )
}

fn checksum(name: &str, ck: &Checksum) -> Node {
    Node::new(name)
        .child(Node::leaf(
            "cksumtype",
            num(ck.cksumtype, c::cksum_type_name(ck.cksumtype)),
        ))
        .child(Node::bytes("checksum", &ck.checksum))
}

fn host_address(name: &str, a: &HostAddress) -> Node {
    let shown = match (a.addr_type, a.address.as_slice()) {
        (c::addr_type::IPV4, [a0, a1, a2, a3]) => format!("{a0}.{a1}.{a2}.{a3}"),
        (c::addr_type::IPV6, b) if b.len() == 16 => {
            let mut arr = [0u8; 16];
            arr.copy_from_slice(b);
            std::net::Ipv6Addr::from(arr).to_string()
        }
        (c::addr_type::NETBIOS, b) => format!("\"{}\"", String::from_utf8_lossy(b).trim_end()),
        (_, b) => crate::tree::hex_value(b),
    };
    Node::leaf(
        name,
        format!(
            "{} {shown}",
            num(a.addr_type, c::addr_type_name(a.addr_type))
        ),
    )
}

fn addresses(name: &str, addrs: &Option<Vec<HostAddress>>) -> Option<Node> {
    addrs.as_ref().map(|list| {
        let mut n = Node::new(name);
        for (i, a) in list.iter().enumerate() {
            n.push(host_address(&format!("[{i}]"), a));
        }
        n
    })
}

fn key(name: &str, k: &EncryptionKey) -> Node {
    Node::new(name)
        .child(Node::leaf("keytype", etype(k.keytype)))
        .child(Node::bytes("keyvalue", &k.keyvalue))
}

fn authorization_data(
    name: &str,
    ad: &Option<Vec<kerberos_asn1::AuthorizationDataEntry>>,
) -> Option<Node> {
    ad.as_ref().map(|entries| {
        let mut n = Node::new(name);
        for (i, e) in entries.iter().enumerate() {
            n.push(
                Node::new(format!("[{i}]"))
                    .child(Node::leaf(
                        "ad-type",
                        num(e.ad_type, c::ad_type_name(e.ad_type)),
                    ))
                    .child(Node::bytes("ad-data", &e.ad_data)),
            );
        }
        n
    })
}

impl Describer<'_> {
    /// A top-level Kerberos message.
    pub fn krb_message(&mut self, m: &KrbMessage) -> Node {
        match m {
            KrbMessage::AsReq(r) => {
                self.kdc_req(m.name(), r.pvno, r.msg_type, &r.padata, &r.req_body)
            }
            KrbMessage::TgsReq(r) => {
                self.kdc_req(m.name(), r.pvno, r.msg_type, &r.padata, &r.req_body)
            }
            KrbMessage::AsRep(r) => self.kdc_rep(
                m.name(),
                (r.pvno, r.msg_type),
                &r.padata,
                (&r.crealm, &r.cname),
                &r.ticket,
                &r.enc_part,
                &[ku::AS_REP_ENC_PART],
            ),
            KrbMessage::TgsRep(r) => self.kdc_rep(
                m.name(),
                (r.pvno, r.msg_type),
                &r.padata,
                (&r.crealm, &r.cname),
                &r.ticket,
                &r.enc_part,
                &[ku::TGS_REP_ENC_PART_SESSKEY, ku::TGS_REP_ENC_PART_SUBKEY],
            ),
            KrbMessage::ApReq(r) => self.ap_req(m.name(), r, ku::AP_REQ_AUTH),
            KrbMessage::ApRep(r) => self.ap_rep(m.name(), r),
            KrbMessage::KrbError(e) => self.krb_error(e),
            KrbMessage::KrbPriv(p) => self.krb_priv(p),
            KrbMessage::KrbSafe(s) => krb_safe(s),
            KrbMessage::KrbCred(cr) => self.krb_cred(cr),
        }
    }

    fn header(name: &str, pvno: i32, msg_type: i32) -> Node {
        Node::new(name)
            .child(Node::leaf("pvno", pvno.to_string()))
            .child(Node::leaf(
                "msg-type",
                num(msg_type, c::msg_type_name(msg_type)),
            ))
    }

    fn kdc_req(
        &mut self,
        name: &str,
        pvno: i32,
        msg_type: i32,
        padata: &Option<Vec<PaData>>,
        body: &KdcReqBody,
    ) -> Node {
        let pa = padata.as_ref().map(|p| self.padata_list("padata", p));
        Self::header(name, pvno, msg_type)
            .opt(pa)
            .child(self.req_body(body))
    }

    fn req_body(&mut self, b: &KdcReqBody) -> Node {
        let mut etypes = Node::new("etype");
        for (i, e) in b.etypes.iter().enumerate() {
            etypes.push(Node::leaf(format!("[{i}]"), etype(*e)));
        }
        let enc_ad = b.enc_authorization_data.as_ref().map(|ed| {
            self.encrypted(
                "enc-authorization-data",
                ed,
                &[ku::TGS_REQ_AD_SESSKEY, ku::TGS_REQ_AD_SUBKEY],
                None,
            )
        });
        let tickets = b.additional_tickets.as_ref().map(|ts| {
            let mut n = Node::new("additional-tickets");
            for (i, t) in ts.iter().enumerate() {
                n.push(self.ticket(&format!("[{i}]"), t));
            }
            n
        });
        Node::new("req-body")
            .child(flags("kdc-options", &b.kdc_options, c::KDC_OPTION_NAMES))
            .opt(b.cname.as_ref().map(|p| principal("cname", p)))
            .child(Node::leaf("realm", b.realm.clone()))
            .opt(b.sname.as_ref().map(|p| principal("sname", p)))
            .opt(opt_time("from", &b.from))
            .child(time("till", &b.till))
            .opt(opt_time("rtime", &b.rtime))
            .child(Node::leaf("nonce", b.nonce.to_string()))
            .child(etypes)
            .opt(addresses("addresses", &b.addresses))
            .opt(enc_ad)
            .opt(tickets)
    }

    #[allow(clippy::too_many_arguments)]
    fn kdc_rep(
        &mut self,
        name: &str,
        (pvno, msg_type): (i32, i32),
        padata: &Option<Vec<PaData>>,
        (crealm, cname): (&str, &PrincipalName),
        ticket: &Ticket,
        enc_part: &EncryptedData,
        usages: &[u32],
    ) -> Node {
        let pa = padata.as_ref().map(|p| self.padata_list("padata", p));
        let t = self.ticket("ticket", ticket);
        let e = self.encrypted("enc-part", enc_part, usages, Some(Plain::EncRepPart));
        Self::header(name, pvno, msg_type)
            .opt(pa)
            .child(Node::leaf("crealm", crealm))
            .child(principal("cname", cname))
            .child(t)
            .child(e)
    }

    fn ticket(&mut self, name: &str, t: &Ticket) -> Node {
        let e = self.encrypted(
            "enc-part",
            &t.enc_part,
            &[ku::KDC_REP_TICKET],
            Some(Plain::EncTicketPart),
        );
        Node::new(name)
            .child(Node::leaf("tkt-vno", t.tkt_vno.to_string()))
            .child(Node::leaf("realm", t.realm.clone()))
            .child(principal("sname", &t.sname))
            .child(e)
    }

    fn ap_req(&mut self, name: &str, r: &ApReq, auth_usage: u32) -> Node {
        let t = self.ticket("ticket", &r.ticket);
        let a = self.encrypted(
            "authenticator",
            &r.authenticator,
            &[auth_usage],
            Some(Plain::Authenticator),
        );
        Self::header(name, r.pvno, r.msg_type)
            .child(flags("ap-options", &r.ap_options, c::AP_OPTION_NAMES))
            .child(t)
            .child(a)
    }

    fn ap_rep(&mut self, name: &str, r: &ApRep) -> Node {
        let e = self.encrypted(
            "enc-part",
            &r.enc_part,
            &[ku::AP_REP_ENC_PART],
            Some(Plain::EncApRepPart),
        );
        Self::header(name, r.pvno, r.msg_type).child(e)
    }

    fn krb_error(&mut self, e: &KrbError) -> Node {
        let e_data = e.e_data.as_ref().map(|d| self.e_data(d));
        Self::header("KRB-ERROR", e.pvno, e.msg_type)
            .opt(opt_time("ctime", &e.ctime))
            .opt(e.cusec.map(|u| Node::leaf("cusec", u.to_string())))
            .child(time("stime", &e.stime))
            .child(Node::leaf("susec", e.susec.to_string()))
            .child(Node::leaf(
                "error-code",
                num(e.error_code, c::error_code_name(e.error_code)),
            ))
            .opt(e.crealm.as_ref().map(|r| Node::leaf("crealm", r.clone())))
            .opt(e.cname.as_ref().map(|p| principal("cname", p)))
            .child(Node::leaf("realm", e.realm.clone()))
            .child(principal("sname", &e.sname))
            .opt(
                e.e_text
                    .as_ref()
                    .map(|t| Node::leaf("e-text", format!("{t:?}"))),
            )
            .opt(e_data)
    }

    /// e-data: METHOD-DATA for the pre-auth errors (RFC 4120 §5.9.1), else
    /// TYPED-DATA, else raw.
    fn e_data(&mut self, d: &[u8]) -> Node {
        if let Ok(md) = krb::decode_method_data(d) {
            return self.padata_list("e-data (METHOD-DATA)", &md);
        }
        if let Ok(td) = krb::decode_der::<kerberos_asn1::TypedData>(d) {
            let mut n = Node::new("e-data (TYPED-DATA)");
            for (i, t) in td.iter().enumerate() {
                n.push(
                    Node::new(format!("[{i}]"))
                        .child(Node::leaf("data-type", t.data_type.to_string()))
                        .opt(t.data_value.as_ref().map(|v| Node::bytes("data-value", v))),
                );
            }
            return n;
        }
        Node::bytes("e-data", d)
    }

    fn krb_priv(&mut self, p: &KrbPriv) -> Node {
        let e = self.encrypted(
            "enc-part",
            &p.enc_part,
            &[ku::KRB_PRIV_ENC_PART],
            Some(Plain::EncKrbPrivPart),
        );
        Self::header("KRB-PRIV", p.pvno, p.msg_type).child(e)
    }

    fn krb_cred(&mut self, cr: &KrbCred) -> Node {
        let mut ts = Node::new("tickets");
        for (i, t) in cr.tickets.iter().enumerate() {
            let n = self.ticket(&format!("[{i}]"), t);
            ts.push(n);
        }
        let e = self.encrypted(
            "enc-part",
            &cr.enc_part,
            &[ku::KRB_CRED_ENC_PART],
            Some(Plain::EncKrbCredPart),
        );
        Self::header("KRB-CRED", cr.pvno, cr.msg_type)
            .child(ts)
            .child(e)
    }

    /// A PA-DATA list with each value decoded by type.
    pub(super) fn padata_list(&mut self, name: &str, list: &[PaData]) -> Node {
        let mut n = Node::new(name);
        for (i, pa) in list.iter().enumerate() {
            let label = num(pa.padata_type, c::padata_type_name(pa.padata_type));
            let mut item = Node::new(format!("[{i}]")).child(Node::leaf("padata-type", label));
            match krb::decode_padata(pa) {
                Ok(v) => item.push(self.pa_value(&v, &pa.padata_value)),
                Err(e) => item
                    .push(Node::bytes("padata-value", &pa.padata_value))
                    .push(Node::leaf("decode-error", e.to_string())),
            };
            n.push(item);
        }
        n
    }

    fn pa_value(&mut self, v: &PaValue, raw: &[u8]) -> Node {
        match v {
            PaValue::TgsReq(ap) => self.ap_req("padata-value (AP-REQ)", ap, ku::TGS_REQ_AUTH),
            PaValue::EncTimestamp(ed) => self.encrypted(
                "padata-value (PA-ENC-TIMESTAMP)",
                ed,
                &[ku::AS_REQ_PA_ENC_TIMESTAMP],
                Some(Plain::PaEncTsEnc),
            ),
            PaValue::EncTimestampHint
            | PaValue::ReqEncPaRep(None)
            | PaValue::AsFreshness(_)
            | PaValue::FxFast(_)
            | PaValue::FxCookie(_)
            | PaValue::Other { .. } => Node::bytes("padata-value", raw),
            PaValue::EtypeInfo2(info) => {
                let mut n = Node::new("padata-value (ETYPE-INFO2)");
                for (i, e) in info.iter().enumerate() {
                    n.push(
                        Node::new(format!("[{i}]"))
                            .child(Node::leaf("etype", etype(e.etype)))
                            .opt(
                                e.salt
                                    .as_ref()
                                    .map(|s| Node::leaf("salt", format!("{s:?}"))),
                            )
                            .opt(e.s2kparams.as_ref().map(|p| Node::bytes("s2kparams", p))),
                    );
                }
                n
            }
            PaValue::ReqEncPaRep(Some(ck)) => checksum("padata-value (Checksum)", ck),
            PaValue::PacRequest(b) => Node::leaf(
                "padata-value (KERB-PA-PAC-REQUEST)",
                format!("include-pac {b}"),
            ),
        }
    }

    /// EncryptedData with an attempt to decrypt (if a decryptor is set).
    fn encrypted(
        &mut self,
        name: &str,
        ed: &EncryptedData,
        usages: &[u32],
        plain: Option<Plain>,
    ) -> Node {
        let mut n = Node::new(name)
            .child(Node::leaf("etype", etype(ed.etype)))
            .opt(ed.kvno.map(|k| Node::leaf("kvno", k.to_string())))
            .child(Node::bytes("cipher", &ed.cipher));
        let Some(dec) = self.decryptor.as_deref_mut() else {
            return n;
        };
        let found = usages
            .iter()
            .find_map(|&u| dec.decrypt(ed.etype, u, &ed.cipher).map(|d| (u, d)));
        match found {
            Some((usage, d)) => {
                let mut dn = Node::new("decrypted")
                    .with_value(format!("key usage {usage}, {}", d.key_label));
                dn.push(self.plaintext(plain, usage, &d.plaintext));
                n.push(dn);
            }
            None => {
                let list: Vec<String> = usages.iter().map(u32::to_string).collect();
                n.push(Node::leaf(
                    "decrypted",
                    format!(
                        "no key matched (etype {}, key usage {})",
                        ed.etype,
                        list.join("/")
                    ),
                ));
            }
        }
        n
    }

    fn plaintext(&mut self, plain: Option<Plain>, usage: u32, bytes: &[u8]) -> Node {
        let decoded = match plain {
            Some(Plain::EncTicketPart) => {
                krb::decode_der::<EncTicketPart>(bytes).map(|p| self.enc_ticket_part(&p))
            }
            Some(Plain::EncRepPart) => krb::decode_enc_rep_part(bytes).map(|p| {
                // Named by where it was found; MIT tags both with 26
                // (protocols.md §5.1), so say so when the tag differs.
                let (name, tag) = if usage == ku::AS_REP_ENC_PART {
                    ("EncASRepPart", 25)
                } else {
                    ("EncTGSRepPart", 26)
                };
                let mut n = self.enc_kdc_rep_part(name, &p.part);
                if p.application_tag != tag {
                    n.value = Some(format!("tagged [APPLICATION {}]", p.application_tag));
                }
                n
            }),
            Some(Plain::PaEncTsEnc) => krb::decode_der::<PaEncTsEnc>(bytes).map(|p| {
                Node::new("PA-ENC-TS-ENC")
                    .child(time("patimestamp", &p.patimestamp))
                    .opt(p.pausec.map(|u| Node::leaf("pausec", u.to_string())))
            }),
            Some(Plain::Authenticator) => {
                krb::decode_der::<Authenticator>(bytes).map(|a| self.authenticator(&a))
            }
            Some(Plain::EncApRepPart) => {
                krb::decode_der::<EncApRepPart>(bytes).map(|p| self.enc_ap_rep_part(&p))
            }
            Some(Plain::EncKrbPrivPart) => krb::decode_der::<EncKrbPrivPart>(bytes).map(|p| {
                Node::new("EncKrbPrivPart")
                    .child(Node::bytes("user-data", &p.user_data))
                    .opt(opt_time("timestamp", &p.timestamp))
                    .opt(p.usec.map(|u| Node::leaf("usec", u.to_string())))
                    .opt(
                        p.seq_number
                            .map(|s| Node::leaf("seq-number", s.to_string())),
                    )
                    .child(host_address("s-address", &p.s_address))
                    .opt(p.r_address.as_ref().map(|a| host_address("r-address", a)))
            }),
            Some(Plain::EncKrbCredPart) => krb::decode_der::<EncKrbCredPart>(bytes).map(|p| {
                let mut n = Node::new("EncKrbCredPart");
                for (i, info) in p.ticket_info.iter().enumerate() {
                    n.push(
                        Node::new(format!("ticket-info[{i}]"))
                            .child(key("key", &info.key))
                            .opt(
                                info.prealm
                                    .as_ref()
                                    .map(|r| Node::leaf("prealm", r.clone())),
                            )
                            .opt(info.pname.as_ref().map(|p| principal("pname", p)))
                            .opt(
                                info.srealm
                                    .as_ref()
                                    .map(|r| Node::leaf("srealm", r.clone())),
                            )
                            .opt(info.sname.as_ref().map(|p| principal("sname", p))),
                    );
                }
                n
            }),
            None => return Node::bytes("plaintext", bytes),
        };
        decoded.unwrap_or_else(|e| {
            Node::bytes("plaintext", bytes).child(Node::leaf("decode-error", e.to_string()))
        })
    }

    fn learn(&mut self, k: &EncryptionKey, label: String) {
        if let Some(d) = self.decryptor.as_deref_mut() {
            d.learn(k.keytype, &k.keyvalue, label);
        }
    }

    fn enc_ticket_part(&mut self, p: &EncTicketPart) -> Node {
        self.learn(
            &p.key,
            format!(
                "session key of {}@{}'s ticket",
                krb::principal_to_string(&p.cname),
                p.crealm
            ),
        );
        Node::new("EncTicketPart")
            .child(flags("flags", &p.flags, c::TICKET_FLAG_NAMES))
            .child(key("key", &p.key))
            .child(Node::leaf("crealm", p.crealm.clone()))
            .child(principal("cname", &p.cname))
            .child(transited(&p.transited))
            .child(time("authtime", &p.authtime))
            .opt(opt_time("starttime", &p.starttime))
            .child(time("endtime", &p.endtime))
            .opt(opt_time("renew-till", &p.renew_till))
            .opt(addresses("caddr", &p.caddr))
            .opt(authorization_data(
                "authorization-data",
                &p.authorization_data,
            ))
    }

    fn enc_kdc_rep_part(&mut self, name: &str, p: &EncKdcRepPart) -> Node {
        self.learn(
            &p.key,
            format!(
                "session key from {name} for {}",
                krb::principal_to_string(&p.sname)
            ),
        );
        let mut lr = Node::new("last-req");
        for (i, e) in p.last_req.iter().enumerate() {
            lr.push(last_req(&format!("[{i}]"), e));
        }
        let pa = p
            .encrypted_pa_data
            .as_ref()
            .map(|l| self.padata_list("encrypted-pa-data", l));
        Node::new(name)
            .child(key("key", &p.key))
            .child(lr)
            .child(Node::leaf("nonce", p.nonce.to_string()))
            .opt(opt_time("key-expiration", &p.key_expiration))
            .child(flags("flags", &p.flags, c::TICKET_FLAG_NAMES))
            .child(time("authtime", &p.authtime))
            .opt(opt_time("starttime", &p.starttime))
            .child(time("endtime", &p.endtime))
            .opt(opt_time("renew-till", &p.renew_till))
            .child(Node::leaf("srealm", p.srealm.clone()))
            .child(principal("sname", &p.sname))
            .opt(addresses("caddr", &p.caddr))
            .opt(pa)
    }

    fn authenticator(&mut self, a: &Authenticator) -> Node {
        if let Some(k) = &a.subkey {
            self.learn(k, "authenticator subkey".to_string());
        }
        Node::new("Authenticator")
            .child(Node::leaf(
                "authenticator-vno",
                a.authenticator_vno.to_string(),
            ))
            .child(Node::leaf("crealm", a.crealm.clone()))
            .child(principal("cname", &a.cname))
            .opt(a.cksum.as_ref().map(|ck| checksum("cksum", ck)))
            .child(Node::leaf("cusec", a.cusec.to_string()))
            .child(time("ctime", &a.ctime))
            .opt(a.subkey.as_ref().map(|k| key("subkey", k)))
            .opt(
                a.seq_number
                    .map(|s| Node::leaf("seq-number", s.to_string())),
            )
            .opt(authorization_data(
                "authorization-data",
                &a.authorization_data,
            ))
    }

    fn enc_ap_rep_part(&mut self, p: &EncApRepPart) -> Node {
        self.learn(&p.subkey, "AP-REP subkey".to_string());
        Node::new("EncAPRepPart")
            .child(time("ctime", &p.ctime))
            .child(Node::leaf("cusec", p.cusec.to_string()))
            .child(key("subkey", &p.subkey))
            .child(Node::leaf("seq-number", p.seq_number.to_string()))
    }
}

fn transited(t: &TransitedEncoding) -> Node {
    Node::new("transited")
        .child(Node::leaf("tr-type", t.tr_type.to_string()))
        .child(Node::bytes("contents", &t.contents))
}

fn last_req(name: &str, e: &LastReqEntry) -> Node {
    Node::new(name)
        .child(Node::leaf("lr-type", e.lr_type.to_string()))
        .child(time("lr-value", &e.lr_value))
}

fn krb_safe(s: &KrbSafe) -> Node {
    let b = &s.safe_body;
    Describer::header("KRB-SAFE", s.pvno, s.msg_type)
        .child(
            Node::new("safe-body")
                .child(Node::bytes("user-data", &b.user_data))
                .opt(opt_time("timestamp", &b.timestamp))
                .opt(b.usec.map(|u| Node::leaf("usec", u.to_string())))
                .opt(
                    b.seq_number
                        .map(|s| Node::leaf("seq-number", s.to_string())),
                )
                .child(host_address("s-address", &b.s_address))
                .opt(b.r_address.as_ref().map(|a| host_address("r-address", a))),
        )
        .child(checksum("cksum", &s.cksum))
}
