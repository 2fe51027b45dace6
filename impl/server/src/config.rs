//! What an application server accepts, and how strictly.

use std::time::Duration;

use kerbside_client::gss::Mechanism;

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
    /// iakerb); without it an IAKERB token is refused as an unaccepted
    /// mechanism.
    pub iakerb: bool,
}

impl Default for AcceptorConfig {
    fn default() -> Self {
        Self {
            mode: AcceptMode::Negotiate,
            max_skew: Duration::from_secs(300),
            replay_capacity: 100_000,
            channel_bindings: None,
            ntlm: NtlmServerConfig::default(),
            iakerb: false,
        }
    }
}
