//! What an application server accepts, and how strictly.

use std::time::Duration;

use kerbside_client::gss::Mechanism;
use kerbside_kdc::localkdc::LocalKdcTrust;

/// Which mechanisms the server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub enum AcceptMode {
    /// Kerberos and NTLM, raw or through SPNEGO (a Windows server's
    /// Negotiate package), Kerberos preferred.
    Negotiate,
    /// Kerberos only (no NTLM accounts).
    KerberosOnly,
    /// NTLM only, raw or through SPNEGO offering only NTLM: the printer or
    /// NAS that was never joined to the domain. A Kerberos token gets no
    /// answer it could use.
    NtlmOnly,
}

impl AcceptMode {
    /// The mechanisms in the server's order of preference.
    pub fn mechanisms(self) -> &'static [Mechanism] {
        match self {
            AcceptMode::Negotiate => &[Mechanism::Kerberos, Mechanism::Ntlm],
            AcceptMode::KerberosOnly => &[Mechanism::Kerberos],
            AcceptMode::NtlmOnly => &[Mechanism::Ntlm],
        }
    }

    /// Whether `m` is accepted.
    pub fn accepts(self, m: Mechanism) -> bool {
        self.mechanisms().contains(&m)
    }
}

/// How the NTLM acceptor describes itself and what it insists on.
#[derive(Debug, Clone)]
pub struct NtlmServerConfig {
    /// NetBIOS domain (MsvAvNbDomainName; TargetName of the CHALLENGE).
    pub netbios_domain: String,
    /// NetBIOS computer name (MsvAvNbComputerName).
    pub netbios_computer: String,
    /// DNS domain (MsvAvDnsDomainName).
    pub dns_domain: String,
    /// DNS computer name (MsvAvDnsComputerName).
    pub dns_computer: String,
    /// Refuse an AUTHENTICATE without a MIC (our CHALLENGE always carries
    /// MsvAvTimestamp, after which MS-NLMP §3.1.5.1.2 has clients send
    /// one; only pre-Vista clients do not).
    pub require_mic: bool,
    /// SPNs the client may name in MsvAvTargetName (case-insensitive);
    /// empty accepts any. A name that is not ours means the authentication
    /// was meant for another server and is being relayed (MS-NLMP
    /// §3.2.5.1.2, "Extended Protection").
    pub accepted_target_names: Vec<String>,
    /// MD5 of the channel bindings expected in MsvAvChannelBindings; `None`
    /// does not check them.
    pub channel_bindings: Option<[u8; 16]>,
}

impl Default for NtlmServerConfig {
    fn default() -> Self {
        Self {
            netbios_domain: "KERBSIDE".into(),
            netbios_computer: "APPSERVER".into(),
            dns_domain: "kerbside.test".into(),
            dns_computer: "appserver.kerbside.test".into(),
            require_mic: true,
            accepted_target_names: Vec::new(),
            channel_bindings: None,
        }
    }
}

/// The acceptor's configuration.
#[derive(Debug, Clone)]
pub struct AcceptorConfig {
    /// Mechanisms accepted.
    pub mode: AcceptMode,
    /// Allowed clock skew for authenticators and ticket times (RFC 4120
    /// §3.2.3; MIT and Windows default to 5 minutes).
    pub max_skew: Duration,
    /// Replay cache bound (authenticators remembered within the skew
    /// window); when full, new authenticators are refused (§3.2.3).
    pub replay_capacity: usize,
    /// MD5 of the channel bindings the Kerberos authenticator must carry;
    /// `None` ignores them (as MIT does without acceptor bindings).
    pub channel_bindings: Option<[u8; 16]>,
    /// NTLM settings.
    pub ntlm: NtlmServerConfig,
    /// Accept IAKERB tokens and proxy their KDC messages (draft-ietf-kitten-
    /// iakerb-03); `None` refuses an IAKERB token as an unaccepted
    /// mechanism (MIT offers IAKERB only when asked for, krb5/krb5#303).
    pub iakerb: Option<IakerbConfig>,
    /// On-client LocalKDC realms whose tickets this service accepts (it
    /// holds their enrolment keys), each with the limits it enforces on
    /// such tickets (`kerbside_kdc::localkdc`, the trust model).
    pub localkdc_trust: Vec<LocalKdcTrust>,
}

/// How IAKERB replies name the realm (protocols.md §2.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub enum IakerbReplyStyle {
    /// MIT: the reply's target-realm is the realm the request was for, no
    /// header-flags.
    Mit,
    /// Windows (build 29617, scapy recording): target-realm `"."` and
    /// header-flags `01 00 00 00` in every server token.
    Windows,
}

/// The IAKERB acceptor's knobs (draft-ietf-kitten-iakerb-03, MIT
/// `iakerb.c`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IakerbConfig {
    /// Realms whose KDC this server can reach, in preference order: the
    /// first answers realm discovery (draft §3.1). A request for any other
    /// realm gets KRB_AP_ERR_IAKERB_KDC_NOT_FOUND (85) without a KDC being
    /// contacted. Matching ignores case; `"."` (Windows' spelling of the
    /// local machine) means the first realm.
    pub realms: Vec<String>,
    /// Refuse an AP-REQ after an IAKERB exchange unless its 0x8003
    /// checksum carries a valid finished checksum over the conversation
    /// (MIT's acceptor; GSS_S_BAD_SIG otherwise). Off is the compatibility
    /// switch for initiators that omit it (the scapy client Windows
    /// accepted, protocols.md §2.4).
    pub require_finished: bool,
    /// Most IAKERB_PROXY tokens accepted from one initiator (MIT
    /// `IAKERB_MAX_HOPS`: 16 + `KRB5_REFERRAL_MAXHOPS` 10 = 26). The next is
    /// refused without reaching the KDC.
    pub max_hops: u32,
    /// Send a fresh random cookie in every reply and require the initiator
    /// to echo the latest one verbatim (draft §3: "MUST be copied by the
    /// client verbatim"). MIT sends none.
    pub issue_cookie: bool,
    /// How replies name the realm.
    pub reply_style: IakerbReplyStyle,
}

/// MIT's `IAKERB_MAX_HOPS` (src/lib/gssapi/krb5/iakerb.c).
pub const IAKERB_MAX_HOPS: u32 = 26;

impl IakerbConfig {
    /// MIT-like defaults for a server whose KDC serves `realm`.
    pub fn for_realm(realm: &str) -> Self {
        Self {
            realms: vec![realm.to_owned()],
            require_finished: true,
            max_hops: IAKERB_MAX_HOPS,
            issue_cookie: false,
            reply_style: IakerbReplyStyle::Mit,
        }
    }

    /// The configured spelling of `realm` (case-insensitive match; `"."`
    /// is the first realm), or `None` when this server reaches no KDC for
    /// it.
    pub fn known_realm(&self, realm: &str) -> Option<&str> {
        if realm == "." {
            return self.realms.first().map(String::as_str);
        }
        self.realms
            .iter()
            .find(|r| r.eq_ignore_ascii_case(realm))
            .map(String::as_str)
    }

    /// The realm realm discovery answers with.
    pub fn discovery_realm(&self) -> Option<&str> {
        self.realms.first().map(String::as_str)
    }
}

impl Default for AcceptorConfig {
    fn default() -> Self {
        Self {
            mode: AcceptMode::Negotiate,
            max_skew: Duration::from_secs(300),
            replay_capacity: 100_000,
            channel_bindings: None,
            ntlm: NtlmServerConfig::default(),
            iakerb: None,
            localkdc_trust: Vec::new(),
        }
    }
}
