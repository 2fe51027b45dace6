//! The vector file format: the serde model every `conformance/vectors/*.json`
//! file is read with, and from which `conformance/schema.json` is derived
//! (schemars), so the schema and the model cannot disagree.
//!
//! The shape follows Wycheproof (reference/simulation-conformance-style.md
//! §2.4, §2.9): a file per suite with a `schema` version, `notes` explaining
//! every flag, `testGroups` with shared parameters, and tests with a stable
//! numeric `tcId`, a stable string `id`, a `comment`, `flags`, hex inputs, a
//! `result` (`valid` / `invalid` / `acceptable`) and the expected observable
//! outcome. Every struct is `deny_unknown_fields`: a typo in a vector file is
//! an error, not a silently ignored field.
//!
//! Observations (what a party did) are written as short strings so that
//! expected outcomes, profile deviations and reports share one vocabulary:
//! `as-rep`, `tgs-rep`, `krb-error 25`, `no-reply`, `http 503`,
//! `connection-closed`. A pattern may end in `*` (`krb-error *`).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The format version every file carries in `schema`.
pub const SCHEMA_VERSION: &str = "kerbside-vectors-v1";

/// One vector file (one suite).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VectorFile {
    /// Always `kerbside-vectors-v1` for this format.
    pub schema: String,
    /// Suite name; the file is `vectors/<suite>.json`.
    pub suite: String,
    /// What the suite covers.
    pub description: String,
    /// Number of tests in the file (checked).
    pub number_of_tests: usize,
    /// Where captured inputs come from (software, version, capture).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<Provenance>,
    /// Every flag used in this file, explained.
    pub notes: BTreeMap<String, Note>,
    /// The tests, in groups sharing parameters.
    pub test_groups: Vec<TestGroup>,
}

/// Where a captured input comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Provenance {
    /// Referenced by a test's `source`.
    pub id: String,
    /// What was captured, with which software and versions.
    pub description: String,
    /// The original file(s), relative to the kerbside shared vectors.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
}

/// What a flag means.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Note {
    /// Class of the behaviour tested.
    pub bug_type: BugType,
    /// What the flag tests and why it matters.
    pub description: String,
    /// Specification sections (`RFC 4120 §3.1.3`, `MS-KKDCP §3.2.5.1`).
    pub spec: Vec<String>,
    /// CVE identifiers the flag guards against.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cves: Vec<String>,
}

/// Wycheproof-style classes of tested behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BugType {
    /// Ordinary protocol behaviour every implementation must have.
    Basic,
    /// Input that must be rejected because it is malformed.
    Malformed,
    /// Boundaries: lengths, sizes, optional fields, limits.
    EdgeCase,
    /// A check whose absence lets an attacker authenticate or forge.
    AuthBypass,
    /// A check whose absence lets an attacker force a weaker mechanism.
    Downgrade,
    /// A check whose absence enables denial of service.
    Dos,
    /// A check whose absence enables server-side request forgery.
    Ssrf,
    /// Behaviour of legacy or non-standard peers that must be handled.
    Interop,
    /// Legacy or weak algorithms.
    Legacy,
    /// Known-answer values of an algorithm.
    KnownAnswer,
    /// Policy decisions (timeouts, order, audit).
    Policy,
}

/// Expected verdict of a test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// A conforming implementation accepts the input / succeeds.
    Valid,
    /// A conforming implementation rejects the input.
    Invalid,
    /// Either is conforming; `expected` records what kerbside does.
    Acceptable,
}

impl Verdict {
    /// `valid`, `invalid`, `acceptable`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Valid => "valid",
            Verdict::Invalid => "invalid",
            Verdict::Acceptable => "acceptable",
        }
    }
}

/// One test: the fields every suite shares, then its input and expectation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Test<I, E> {
    /// Unique across all files and never reused (retired ids are listed in
    /// `retired-ids.json`).
    pub tc_id: u32,
    /// Stable dotted name, unique across all files.
    pub id: String,
    /// What the test does.
    pub comment: String,
    /// Flags (keys of the file's `notes`); at least one.
    pub flags: Vec<String>,
    /// Expected verdict.
    pub result: Verdict,
    /// `id` of a `sources` entry when the input was captured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The input.
    pub input: I,
    /// The expected observable outcome.
    pub expected: E,
}

/// Tests sharing parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Group<P, I, E> {
    /// What the group has in common.
    pub comment: String,
    /// Shared parameters.
    pub params: P,
    /// The tests.
    pub tests: Vec<Test<I, E>>,
}

/// The kinds of test groups; `type` selects one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type")]
#[allow(clippy::large_enum_variant)]
pub enum TestGroup {
    /// Decoding (and re-encoding) of one wire format.
    WireDecode(Group<WireParams, WireInput, WireExpected>),
    /// Kerberos cryptography known answers and invalid inputs.
    Crypto(Group<CryptoParams, CryptoInput, CryptoExpected>),
    /// A request to a KDC and the reply a conforming KDC gives.
    KdcExchange(Group<KdcParams, KdcInput, KdcExpected>),
    /// An HTTP request to a KKDCP relay and the status it answers.
    RelayRequest(Group<RelayParams, RelayInput, RelayExpected>),
    /// Tokens to a GSS acceptor (SPNEGO, Kerberos, NTLM, IAKERB) and its outcome.
    GssAccept(Group<AcceptParams, AcceptInput, AcceptExpected>),
    /// Environment facts for the client negotiator and the path it takes.
    Negotiation(Group<NegotiationParams, NegotiationInput, NegotiationExpected>),
}

// ---------------------------------------------------------------- wire ----

/// Parameters of a wire group.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WireParams {
    /// Largest frame the decoder accepts (record marks), bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_frame: Option<usize>,
}

/// Which decoder a wire test drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum WireFormat {
    /// A bare Kerberos message (RFC 4120 §5, APPLICATION tag first).
    Kerberos,
    /// One RFC 4120 §7.2.2 record: 4-byte mark + message.
    RecordMark,
    /// An MS-KKDCP §2.2.2 KDC-PROXY-MESSAGE and the Kerberos message inside.
    Kkdcp,
    /// Only the KDC-PROXY-MESSAGE envelope (the inner message is not decoded).
    KkdcpEnvelope,
    /// An IAKERB_PROXY token (draft-ietf-kitten-iakerb-03 §3) and its message.
    Iakerb,
    /// An IAKERB-HEADER alone.
    IakerbHeader,
    /// A KRB-FINISHED (IAKERB finished message).
    KrbFinished,
    /// RFC 2743 §3.1 InitialContextToken framing only.
    GssFraming,
    /// A framed RFC 4121 §4.1 Kerberos token (TOK_ID + body).
    GssKrb5,
    /// RFC 4121 §4.2.6.1 MIC token.
    MicToken,
    /// RFC 4121 §4.2.6.2 Wrap token.
    WrapToken,
    /// RFC 4121 §4.1.1 authenticator checksum (0x8003) with RFC 6542 extensions.
    GssChecksum,
    /// An RFC 4178 / MS-SPNG NegotiationToken.
    Spnego,
    /// An MS-NLMP NTLM message.
    Ntlm,
}

/// A wire test's input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WireInput {
    /// The decoder.
    pub format: WireFormat,
    /// The bytes.
    pub hex: String,
}

/// What decoding gives.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WireExpected {
    /// Decoded fields (dotted paths in kerbside's decoded tree, as
    /// `kerbside decode` prints them) and their values; a subset.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
    /// Re-encoding the decoded value gives exactly the input bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reencodes: Option<bool>,
    /// The decode error (for inputs that are rejected).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<WireErrorExpected>,
}

/// A decode error, as kerbside classifies it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WireErrorExpected {
    /// Error class (`truncated`, `length-mismatch`, `unexpected-tag`, ...).
    pub kind: String,
    /// Byte offset kerbside reports (informative for other decoders).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<usize>,
}

// -------------------------------------------------------------- crypto ----

/// Parameters of a crypto group (none so far; the inputs are self-contained).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CryptoParams {
    /// The publication the values come from.
    pub reference: String,
}

/// A crypto operation; `op` selects one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum CryptoInput {
    /// RFC 3961 §3 string-to-key.
    StringToKey(StringToKey),
    /// RFC 3961 encryption with a fixed confounder.
    Encrypt(Encrypt),
    /// RFC 3961 decryption (integrity checked).
    Decrypt(Decrypt),
    /// Keyed checksum (the enctype's mandatory checksum type).
    Checksum(ChecksumOp),
    /// Checksum verification.
    VerifyChecksum(VerifyChecksum),
    /// RFC 3961 §3 pseudo-random function.
    Prf(Prf),
    /// RFC 6113 §5.1 KRB-FX-CF2.
    Cf2(Cf2),
    /// RFC 3961 §5.1 n-fold.
    Nfold(Nfold),
    /// RFC 4757 string-to-key (the NT hash).
    NtHash(NtHash),
    /// Importing raw key bytes for an enctype.
    ImportKey(ImportKey),
}

/// `string-to-key`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StringToKey {
    /// Enctype number.
    pub enctype: i32,
    /// The password (UTF-8).
    pub password: String,
    /// The salt.
    pub salt_hex: String,
    /// s2kparams (iteration count, big-endian); default parameters when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params_hex: Option<String>,
}

/// `encrypt`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Encrypt {
    /// Enctype number.
    pub enctype: i32,
    /// Base key.
    pub key_hex: String,
    /// Key usage.
    pub usage: u32,
    /// The confounder (random in real use).
    pub confounder_hex: String,
    /// Plaintext.
    pub plaintext_hex: String,
}

/// `decrypt`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Decrypt {
    /// Enctype number.
    pub enctype: i32,
    /// Base key.
    pub key_hex: String,
    /// Key usage.
    pub usage: u32,
    /// Ciphertext.
    pub ciphertext_hex: String,
}

/// `checksum`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ChecksumOp {
    /// Enctype number.
    pub enctype: i32,
    /// Base key.
    pub key_hex: String,
    /// Key usage.
    pub usage: u32,
    /// Data.
    pub data_hex: String,
}

/// `verify-checksum`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VerifyChecksum {
    /// Enctype number of the key.
    pub enctype: i32,
    /// Base key.
    pub key_hex: String,
    /// Key usage.
    pub usage: u32,
    /// Checksum type claimed.
    pub cksumtype: i32,
    /// Data.
    pub data_hex: String,
    /// Checksum to verify.
    pub checksum_hex: String,
}

/// `prf`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Prf {
    /// Enctype number.
    pub enctype: i32,
    /// Base key.
    pub key_hex: String,
    /// PRF input.
    pub input_hex: String,
}

/// `cf2`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Cf2 {
    /// Enctype number.
    pub enctype: i32,
    /// First key.
    pub key1_hex: String,
    /// Second key.
    pub key2_hex: String,
    /// First pepper (UTF-8).
    pub pepper1: String,
    /// Second pepper (UTF-8).
    pub pepper2: String,
}

/// `nfold`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Nfold {
    /// Input.
    pub input_hex: String,
    /// Output size in bits.
    pub out_bits: usize,
}

/// `nt-hash`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NtHash {
    /// The password (UTF-8).
    pub password: String,
}

/// `import-key`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ImportKey {
    /// Enctype number.
    pub enctype: i32,
    /// Key bytes.
    pub key_hex: String,
}

/// What a crypto operation gives.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CryptoExpected {
    /// Output (key, ciphertext, plaintext, checksum, PRF output, n-fold).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_hex: Option<String>,
    /// Error class (`integrity`, `too-short`, `key-length`,
    /// `unsupported-enctype`, `inappropriate-checksum`, `checksum-length`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

// ----------------------------------------------------------------- kdc ----

/// A principal of a test realm, in the fields of kerbside's principals
/// file (`kerbside serve kdc --principals`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PrincipalDef {
    /// Name without the realm (`alice`, `host/app.lab.test`, `krbtgt/LAB.TEST`).
    pub name: String,
    /// Password (keys use the MIT default salt and s2k parameters).
    pub password: String,
    /// Key version number (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kvno: Option<u32>,
    /// Pre-authentication required.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub requires_preauth: bool,
    /// Disabled account.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
    /// Account expiry (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// Enctypes with keys (default: the KDC's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enctypes: Option<Vec<i32>>,
}

/// KDC settings of a test realm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KdcSettings {
    /// Allowed clock skew (RFC 4120 §1.6), seconds.
    pub max_skew_seconds: u64,
    /// Largest UDP reply before KRB_ERR_RESPONSE_TOO_BIG (RFC 4120 §7.2.1).
    pub udp_max_reply: usize,
    /// Longest ticket lifetime, seconds.
    pub max_lifetime_seconds: u64,
    /// Enabled enctypes, preferred first.
    pub enctypes: Vec<i32>,
}

/// Parameters of a KDC group: the realm every request is for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KdcParams {
    /// The realm.
    pub realm: String,
    /// The KDC's clock when the fixed request bytes were made (RFC 3339).
    pub clock: String,
    /// The realm's principals.
    pub principals: Vec<PrincipalDef>,
    /// KDC settings.
    pub kdc: KdcSettings,
}

/// How a request reaches the KDC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum KdcTransport {
    /// RFC 4120 §7.2.1.
    Udp,
    /// RFC 4120 §7.2.2.
    Tcp,
}

/// A KDC test's input: fixed bytes made at the group clock, and the recipe
/// that re-makes them with fresh nonces and timestamps for a live KDC.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KdcInput {
    /// Transport.
    pub transport: KdcTransport,
    /// How often the request is sent; the expectation is for the last
    /// reply (2 = a retransmission, or a replay with `resendAltered`).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub sends: u32,
    /// Every send after the first carries one more padata, outside the
    /// checksummed body ([`crate::recipe::altered_copy`]): a different
    /// TGS-REQ with the same authenticator, which a lookaside cache does
    /// not answer and the replay cache must refuse.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub resend_altered: bool,
    /// The request bytes (bare Kerberos message, no record mark).
    pub request_hex: String,
    /// How the request is built.
    pub recipe: KdcRecipe,
}

fn one() -> u32 {
    1
}

fn is_one(n: &u32) -> bool {
    *n == 1
}

/// How a KDC request is built; `kind` selects one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum KdcRecipe {
    /// An AS-REQ (RFC 4120 §5.4.1).
    AsReq(AsRecipe),
    /// A TGS-REQ (RFC 4120 §5.4.1) with PA-TGS-REQ.
    TgsReq(TgsRecipe),
    /// Fixed bytes (malformed inputs, captures); sent as they are.
    Raw(RawRecipe),
}

/// Fixed request bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawRecipe {
    /// The bytes contain timestamps of the group clock: a live KDC with
    /// another clock answers differently, so live runs skip the test.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub clock_bound: bool,
}

/// An AS-REQ.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AsRecipe {
    /// Client name (NT-PRINCIPAL) without realm; absent: no cname.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// Service name; default `krbtgt/REALM`; absent when `omitService`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// Leave sname out.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub omit_service: bool,
    /// req-body realm when not the group realm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub realm: Option<String>,
    /// etype list, preferred first.
    pub etypes: Vec<i32>,
    /// KDC options (RFC 4120 §5.4.1 KDCOptions bits as a 32-bit number).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub kdc_options: u32,
    /// `till` relative to the clock, seconds.
    pub till_offset_seconds: i64,
    /// `from` relative to the clock, seconds (postdating).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_offset_seconds: Option<i64>,
    /// `rtime` relative to the clock, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rtime_offset_seconds: Option<i64>,
    /// PA-ENC-TIMESTAMP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enc_timestamp: Option<EncTimestampRecipe>,
    /// Other padata, verbatim.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_padata: Vec<PadataRecipe>,
    /// pvno when not 5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pvno: Option<i32>,
    /// msg-type when not 10.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msg_type: Option<i32>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// A padata entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PadataRecipe {
    /// padata-type.
    pub padata_type: i32,
    /// padata-value.
    pub value_hex: String,
}

/// PA-ENC-TIMESTAMP (RFC 4120 §5.2.7.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EncTimestampRecipe {
    /// Enctype of the key.
    pub etype: i32,
    /// Password the key is made from; default the client's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Timestamp relative to the clock, seconds.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub offset_seconds: i64,
    /// Key usage when not 1 (a wrong usage must fail).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<u32>,
    /// Flip a bit of the ciphertext.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub corrupt: bool,
    /// Encrypt these bytes instead of a PA-ENC-TS-ENC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plaintext_hex: Option<String>,
}

fn is_zero_i64(n: &i64) -> bool {
    *n == 0
}

/// A ticket inside a TGS-REQ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TicketRecipe {
    /// `as-exchange`: an ordinary TGT; a live run gets one with an AS
    /// exchange (the fixed bytes hold an equivalent ticket made with the
    /// krbtgt key). `forge`: made with the sealing principal's key (live
    /// runs need that principal's password).
    pub origin: TicketOrigin,
    /// Client.
    pub client: String,
    /// Service the ticket is for; default `krbtgt/REALM`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// Principal whose key seals the ticket; default the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed_with: Option<String>,
    /// Password of the sealing key when it is not the principal's (a wrong key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealing_password: Option<String>,
    /// kvno written in the ticket; default the sealing principal's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kvno: Option<u32>,
    /// Enctype of the ticket encryption.
    pub etype: i32,
    /// Enctype of the session key.
    pub session_etype: i32,
    /// Start relative to the clock, seconds.
    pub start_offset_seconds: i64,
    /// End relative to the clock, seconds.
    pub end_offset_seconds: i64,
    /// renew-till relative to the clock, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renew_till_offset_seconds: Option<i64>,
    /// TicketFlags as a 32-bit number.
    pub flags: u32,
    /// Flip a bit of the ticket ciphertext.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub corrupt: bool,
}

/// Where a TGS-REQ's ticket comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TicketOrigin {
    /// An ordinary TGT from an AS exchange.
    AsExchange,
    /// Made with the sealing key.
    Forge,
}

/// The authenticator of PA-TGS-REQ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AuthenticatorRecipe {
    /// ctime relative to the clock, seconds.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub offset_seconds: i64,
    /// The body checksum (RFC 4120 §7.5.1 usage 6).
    pub checksum: ChecksumMode,
    /// cname when not the ticket's client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cname: Option<String>,
    /// Include a subkey (the reply is then encrypted with it, usage 9).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub subkey: bool,
    /// Encrypt with a key that is not the ticket session key.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub wrong_key: bool,
}

/// The authenticator checksum over the request body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ChecksumMode {
    /// Correct, keyed with the session key.
    Good,
    /// Absent.
    Absent,
    /// Computed over a different body.
    WrongBody,
    /// An unkeyed checksum type (RSA-MD5).
    Unkeyed,
}

/// A TGS-REQ.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TgsRecipe {
    /// The ticket.
    pub ticket: TicketRecipe,
    /// The service asked for.
    pub service: String,
    /// req-body realm when not the group realm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub realm: Option<String>,
    /// etype list.
    pub etypes: Vec<i32>,
    /// KDC options.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub kdc_options: u32,
    /// `till` relative to the clock, seconds.
    pub till_offset_seconds: i64,
    /// The authenticator.
    pub authenticator: AuthenticatorRecipe,
    /// Leave PA-TGS-REQ out (padata empty).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub omit_pa_tgs_req: bool,
}

/// Class of a KDC reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ReplyClass {
    /// AS-REP.
    AsRep,
    /// TGS-REP.
    TgsRep,
    /// KRB-ERROR.
    KrbError,
    /// Nothing (dropped).
    NoReply,
}

/// What a conforming KDC answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KdcExpected {
    /// Reply class.
    pub reply: ReplyClass,
    /// KRB-ERROR code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<i32>,
    /// Its RFC 4120 name (informative).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_name: Option<String>,
    /// Other observations that are also conforming (`krb-error 60`, `no-reply`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alternatives: Vec<String>,
    /// Checks on the reply's content.
    #[serde(default, skip_serializing_if = "ReplyChecks::is_empty")]
    pub checks: ReplyChecks,
}

/// Checks on a KDC reply.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ReplyChecks {
    /// KRB-ERROR e-data is METHOD-DATA containing these padata types.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub e_data_padata: Vec<i32>,
    /// PA-ETYPE-INFO2 (in e-data or reply padata) has these entries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub etype_info2: Vec<EtypeInfoExpected>,
    /// The reply's enc-part decrypts with the expected key (client key for
    /// AS-REP, session key or subkey for TGS-REP) and its nonce matches.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub decrypts: bool,
    /// Enctype of the reply enc-part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_etype: Option<i32>,
    /// Enctype of the session key in the reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_etype: Option<i32>,
    /// Server of the issued ticket (`{realm}` stands for the KDC's realm).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_server: Option<String>,
    /// Ticket flags that must be set (names: `initial`, `pre-authent`, `renewable`, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags_set: Vec<String>,
    /// Ticket flags that must not be set.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags_clear: Vec<String>,
    /// endtime - starttime at most this, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_lifetime_seconds: Option<u64>,
}

impl ReplyChecks {
    /// No checks.
    pub fn is_empty(&self) -> bool {
        *self == ReplyChecks::default()
    }
}

/// A PA-ETYPE-INFO2 entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EtypeInfoExpected {
    /// Enctype.
    pub etype: i32,
    /// Salt (with the group realm substituted for `{realm}` in live runs).
    pub salt: String,
}

// --------------------------------------------------------------- relay ----

/// Relay settings of a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RelaySettings {
    /// Realms the relay serves (all forwarded to the group's KDC).
    pub realms: Vec<String>,
    /// HTTP path of the endpoint (MS-KKDCP §2.1).
    pub path: String,
    /// Largest request body, bytes (kdcproxy: 131072).
    pub max_request: usize,
    /// What a kerb-message without the length prefix gets (`reject`, `accept`).
    pub prefix_policy: String,
    /// The inner request's realm must equal target-domain.
    pub require_realm_match: bool,
}

/// Parameters of a relay group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RelayParams {
    /// The relay.
    pub relay: RelaySettings,
    /// The upstream KDC's realm.
    pub realm: String,
    /// Clock of the fixed bodies (RFC 3339).
    pub clock: String,
    /// The upstream realm's principals.
    pub principals: Vec<PrincipalDef>,
}

/// How Content-Length is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "mode", rename_all = "kebab-case")]
pub enum ContentLength {
    /// The body's length.
    Auto,
    /// No Content-Length header (and no chunked encoding).
    Absent,
    /// A declared value; only `bodyHex` bytes are sent.
    Declared {
        /// The value.
        value: u64,
    },
}

/// What the relay's upstream KDC does (in-process checks only; a live
/// relay forwards to its real KDC, so other behaviours are unsupported there).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum UpstreamBehaviour {
    /// The group's KDC answers.
    Kdc,
    /// Connection refused.
    Refused,
    /// No answer until the relay's timeout.
    Silent,
    /// These bytes (framed reply, record mark included) come back.
    Reply {
        /// The bytes.
        hex: String,
    },
}

/// An HTTP request to a KKDCP relay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RelayInput {
    /// HTTP method.
    pub method: String,
    /// Request path; default the relay's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Content-Type; absent: none sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Content-Length.
    pub content_length: ContentLength,
    /// The body, when small enough to list (else made from `body`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_hex: Option<String>,
    /// How the body is built.
    pub body: BodyRecipe,
    /// What the upstream KDC does.
    pub upstream: UpstreamBehaviour,
}

/// How a relay request body is built; `kind` selects one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[allow(clippy::large_enum_variant)] // read once per test; boxing only adds noise
pub enum BodyRecipe {
    /// A KDC-PROXY-MESSAGE around a Kerberos request.
    Kkdcp(KkdcpBody),
    /// Fixed bytes.
    Raw(RawRecipe),
    /// `len` copies of `byte` (oversized bodies).
    Filler {
        /// The byte.
        byte: u8,
        /// How many.
        len: usize,
    },
    /// No body.
    Empty,
}

/// A KDC-PROXY-MESSAGE body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KkdcpBody {
    /// The Kerberos message inside, built from a recipe...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<KdcRecipe>,
    /// ...or these bytes (messages that are not requests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_hex: Option<String>,
    /// target-domain.
    pub target_domain: TargetDomain,
    /// The 4-byte length prefix of kerb-message.
    pub prefix: PrefixMode,
    /// dclocator-hint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dclocator_hint: Option<i64>,
    /// Bytes appended after the DER SEQUENCE.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub trailing_hex: String,
    /// DER tag of the target-domain string (0x1b GeneralString default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub realm_tag: Option<u8>,
}

/// target-domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "mode", rename_all = "kebab-case")]
pub enum TargetDomain {
    /// The realm as configured.
    Realm,
    /// The realm in lower case (MS-KKDCP §2.2.2: not case-sensitive).
    Lowercase,
    /// Absent.
    Absent,
    /// This literal value.
    Literal {
        /// The value.
        value: String,
    },
}

/// The kerb-message length prefix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "mode", rename_all = "kebab-case")]
pub enum PrefixMode {
    /// The message length (MS-KKDCP §2.2.2).
    Correct,
    /// No prefix (Apple's client).
    Absent,
    /// Length plus `delta` (negative: shorter).
    Delta {
        /// The difference.
        delta: i64,
    },
    /// This 32-bit value.
    Value {
        /// The value.
        value: u32,
    },
}

/// What a conforming relay answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RelayExpected {
    /// HTTP status.
    pub status: u16,
    /// Other observations that are also conforming (`http 503`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alternatives: Vec<String>,
    /// For 200: the Kerberos reply inside the KDC-PROXY-MESSAGE
    /// (`as-rep`, `krb-error 25`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<String>,
}

// ------------------------------------------------------------- acceptor ----

/// A GSS acceptor's configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AcceptParams {
    /// Realm of the service.
    pub realm: String,
    /// Service principal (`host/app.lab.test`).
    pub service: String,
    /// Its password (aes256-cts-hmac-sha1-96 key, MIT default salt).
    pub service_password: String,
    /// Its kvno.
    pub service_kvno: u32,
    /// Local NTLM accounts.
    pub accounts: Vec<Account>,
    /// `negotiate`, `kerberos-only`, `ntlm-only`.
    pub mode: String,
    /// NTLM AUTHENTICATE must carry a MIC.
    pub require_mic: bool,
    /// The acceptor's clock (RFC 3339).
    pub clock: String,
    /// Seed of the acceptor's RNG (its NTLM challenge, subkeys).
    pub seed: u64,
    /// IAKERB: the acceptor relays KDC messages (absent: IAKERB refused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iakerb: Option<IakerbParams>,
}

/// An IAKERB acceptor and the KDC behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IakerbParams {
    /// Realms whose KDC the acceptor reaches (the first answers discovery).
    pub realms: Vec<String>,
    /// Refuse an AP-REQ without a valid finished checksum.
    pub require_finished: bool,
    /// Issue a cookie in every reply and require it echoed.
    pub issue_cookie: bool,
    /// `mit` (replies name the realm) or `windows` (`"."` and header-flags).
    pub reply_style: String,
    /// `answers` (the realm's KDC answers) or `silent` (no KDC answers).
    pub kdc: String,
    /// The KDC's principals (the service's key must match the acceptor's).
    pub principals: Vec<PrincipalDef>,
}

/// A local NTLM account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Account {
    /// User name.
    pub user: String,
    /// Password.
    pub password: String,
}

/// Tokens sent to the acceptor, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AcceptInput {
    /// Initiator tokens (hex), one per leg, as an initiator sent them
    /// against this acceptor with the group's seed.
    pub tokens: Vec<String>,
    /// How the tokens were made.
    pub recipe: ConversationRecipe,
}

/// How an initiator conversation is made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConversationRecipe {
    /// `spnego`, `krb5` (raw RFC 4121) or `ntlm` (raw NTLMSSP).
    pub wrapper: String,
    /// Mechanisms offered, preferred first (`krb5`, `ntlm`).
    pub mechs: Vec<String>,
    /// User.
    pub user: String,
    /// Password the initiator uses.
    pub password: String,
    /// The Kerberos service ticket (forged with the service key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<ServiceTicketRecipe>,
    /// Changes made on the path (a man in the middle or a broken peer).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub edits: Vec<TokenEdit>,
}

/// A service ticket for a GSS conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ServiceTicketRecipe {
    /// Start relative to the clock, seconds.
    pub start_offset_seconds: i64,
    /// End relative to the clock, seconds.
    pub end_offset_seconds: i64,
    /// Password of the sealing key when not the service's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealing_password: Option<String>,
    /// kvno in the ticket when not the service's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kvno: Option<u32>,
    /// Service the ticket names when not the acceptor's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// The initiator's clock relative to the acceptor's, seconds.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub client_clock_offset_seconds: i64,
}

/// A change to one token of the conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TokenEdit {
    /// Leg: 0 is the initiator's first token, 1 the acceptor's reply, ...
    pub leg: usize,
    /// What is done (`strip-krb5`, `reorder`, `strip-mic`, `flip-byte`, ...).
    pub action: String,
    /// Byte offset for `flip-byte` (from the end when negative).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<i64>,
}

/// The acceptor's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AcceptExpected {
    /// One per token: `continue <reply>`, `complete <reply>`, `reject <reply>`.
    pub steps: Vec<String>,
    /// `complete` or `reject`.
    pub outcome: String,
    /// Refusal class (`downgrade-detected`, `kerberos`, `ntlm`, `malformed`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Kerberos error code of the refusal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub krb_code: Option<i32>,
    /// Authenticated client (`alice@LAB.TEST`, `LAB\alice`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// Mechanism of the session (`kerberos`, `ntlm`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mechanism: Option<String>,
}

// ----------------------------------------------------------- negotiator ----

/// The world a negotiator runs in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NegotiationParams {
    /// Realm of the user and the DCs.
    pub realm: String,
    /// Its principals.
    pub principals: Vec<PrincipalDef>,
    /// The user.
    pub user: String,
    /// Service asked for (`host/app.corp.example`).
    pub service: String,
    /// Clock of the KDC at the start (RFC 3339).
    pub clock: String,
}

/// What one route does (`native-tcp dc1:88`, `kkdcp https://relay/KdcProxy`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum RouteBehaviour {
    /// The realm's KDC answers after `rttMs`.
    Kdc {
        /// Round trip, ms.
        rtt_ms: u64,
    },
    /// Nothing comes back (a firewall drops it).
    Silent,
    /// Refused (RST / ICMP) after `afterMs`.
    Refused {
        /// Delay, ms.
        after_ms: u64,
    },
    /// The relay answers HTTP `status`.
    Http {
        /// Status.
        status: u16,
        /// Delay, ms.
        after_ms: u64,
    },
    /// TLS fails (bad certificate).
    TlsError {
        /// Delay, ms.
        after_ms: u64,
    },
}

/// The application server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ServerDef {
    /// Host name (NTLM exceptions match it).
    pub host: String,
    /// `negotiate`, `kerberos-only`, `ntlm-only`, or `refused`.
    pub mode: String,
    /// `negotiate` (SPNEGO) or `ntlm` (raw NTLMSSP, NTLM-only device).
    pub protocol: String,
    /// Round trip, ms.
    pub rtt_ms: u64,
    /// A man in the middle: `none` or `strip-kerberos`.
    pub mitm: String,
}

/// One logon in a negotiation test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LogonDef {
    /// Time passing before it, ms.
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub sleep_before_ms: u64,
    /// Route changes before it (the firewall changed).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub route_changes: BTreeMap<String, RouteBehaviour>,
    /// Password the user types; default the principal's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

fn is_zero_u64(n: &u64) -> bool {
    *n == 0
}

/// Environment facts and policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NegotiationInput {
    /// The negotiator policy (kerbside's policy TOML/JSON shape).
    pub policy: serde_json::Value,
    /// What each route does.
    pub routes: BTreeMap<String, RouteBehaviour>,
    /// What routes not listed do.
    pub default_route: RouteBehaviour,
    /// The application server, if the logon goes that far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<ServerDef>,
    /// The client's clock relative to the KDC's, seconds.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub client_clock_offset_seconds: i64,
    /// The logons, in order.
    pub logons: Vec<LogonDef>,
}

/// What one logon must show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LogonExpected {
    /// `success` or `failure`.
    pub outcome: String,
    /// Final path (`native-tcp`, `kkdcp`, `ntlm`, `cache`, `none`, ...).
    pub path: String,
    /// Every attempt in order: `<path> <endpoint> <exchange> #<try> <outcome>`.
    pub attempts: Vec<String>,
    /// Audit event ids in order.
    pub events: Vec<u32>,
    /// Whether NTLM bytes were sent.
    pub ntlm_used: bool,
    /// NTLM policy verdict when NTLM was considered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ntlm_verdict: Option<String>,
    /// Kerberos error code that ended a failed logon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<i32>,
    /// Time until the ticket was in hand, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_to_ticket_ms: Option<u64>,
}

/// The expectation of a negotiation test, one entry per logon.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NegotiationExpected {
    /// Per logon.
    pub logons: Vec<LogonExpected>,
}

// ------------------------------------------------------------- helpers ----

/// The fields every test carries, whatever its group.
#[derive(Debug, Clone, Copy)]
pub struct TestMeta<'a> {
    /// tcId.
    pub tc_id: u32,
    /// id.
    pub id: &'a str,
    /// comment.
    pub comment: &'a str,
    /// flags.
    pub flags: &'a [String],
    /// result.
    pub result: Verdict,
    /// source.
    pub source: Option<&'a str>,
}

impl<I, E> Test<I, E> {
    /// The shared fields.
    pub fn meta(&self) -> TestMeta<'_> {
        TestMeta {
            tc_id: self.tc_id,
            id: &self.id,
            comment: &self.comment,
            flags: &self.flags,
            result: self.result,
            source: self.source.as_deref(),
        }
    }
}

impl TestGroup {
    /// The group's `type`.
    pub fn type_name(&self) -> &'static str {
        match self {
            TestGroup::WireDecode(_) => "WireDecode",
            TestGroup::Crypto(_) => "Crypto",
            TestGroup::KdcExchange(_) => "KdcExchange",
            TestGroup::RelayRequest(_) => "RelayRequest",
            TestGroup::GssAccept(_) => "GssAccept",
            TestGroup::Negotiation(_) => "Negotiation",
        }
    }

    /// The shared fields of every test, with the input as JSON (for the
    /// duplicate check).
    pub fn metas(&self) -> Vec<(TestMeta<'_>, serde_json::Value)> {
        fn each<I: Serialize, E>(tests: &[Test<I, E>]) -> Vec<(TestMeta<'_>, serde_json::Value)> {
            tests
                .iter()
                .map(|t| {
                    (
                        t.meta(),
                        serde_json::to_value(&t.input).unwrap_or(serde_json::Value::Null),
                    )
                })
                .collect()
        }
        match self {
            TestGroup::WireDecode(g) => each(&g.tests),
            TestGroup::Crypto(g) => each(&g.tests),
            TestGroup::KdcExchange(g) => each(&g.tests),
            TestGroup::RelayRequest(g) => each(&g.tests),
            TestGroup::GssAccept(g) => each(&g.tests),
            TestGroup::Negotiation(g) => each(&g.tests),
        }
    }

    /// The group's parameters as JSON (part of a test's substance).
    pub fn params_json(&self) -> serde_json::Value {
        let v = match self {
            TestGroup::WireDecode(g) => serde_json::to_value(&g.params),
            TestGroup::Crypto(g) => serde_json::to_value(&g.params),
            TestGroup::KdcExchange(g) => serde_json::to_value(&g.params),
            TestGroup::RelayRequest(g) => serde_json::to_value(&g.params),
            TestGroup::GssAccept(g) => serde_json::to_value(&g.params),
            TestGroup::Negotiation(g) => serde_json::to_value(&g.params),
        };
        v.unwrap_or(serde_json::Value::Null)
    }

    /// Number of tests.
    pub fn len(&self) -> usize {
        match self {
            TestGroup::WireDecode(g) => g.tests.len(),
            TestGroup::Crypto(g) => g.tests.len(),
            TestGroup::KdcExchange(g) => g.tests.len(),
            TestGroup::RelayRequest(g) => g.tests.len(),
            TestGroup::GssAccept(g) => g.tests.len(),
            TestGroup::Negotiation(g) => g.tests.len(),
        }
    }

    /// No tests.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl VectorFile {
    /// Every test's shared fields and input.
    pub fn metas(&self) -> Vec<(TestMeta<'_>, serde_json::Value)> {
        self.test_groups.iter().flat_map(TestGroup::metas).collect()
    }

    /// Pretty JSON with a trailing newline: the committed form.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }
}

/// The JSON Schema of a vector file (what `schema.json` holds).
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(VectorFile);
    let mut s = serde_json::to_string_pretty(&schema).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tagged_groups_parse_and_reject_unknown_fields() {
        let ok = r#"{"type":"Crypto","comment":"c","params":{"reference":"r"},"tests":[
            {"tcId":1,"id":"a","comment":"c","flags":["F"],"result":"valid",
             "input":{"op":"nfold","inputHex":"00","outBits":64},"expected":{"outputHex":"00"}}]}"#;
        let g: TestGroup = serde_json::from_str(ok).unwrap();
        assert_eq!(g.type_name(), "Crypto");
        let typo = ok.replace("\"outBits\"", "\"outBitz\"");
        assert!(serde_json::from_str::<TestGroup>(&typo).is_err());
        let extra = ok.replace(
            "\"comment\":\"c\",\"params\"",
            "\"comment\":\"c\",\"x\":1,\"params\"",
        );
        assert!(serde_json::from_str::<TestGroup>(&extra).is_err());
        let back = serde_json::to_value(&g).unwrap();
        assert_eq!(back["tests"][0]["input"]["op"], "nfold");
    }
}
