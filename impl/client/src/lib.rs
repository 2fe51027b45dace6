//! Client side: negotiator (fallback chain), Kerberos exchanges, SPNEGO and IAKERB initiator, NTLM client, policy, audit, ticket cache

pub mod audit;
pub mod gss;
pub mod gss_krb;
pub mod iakerb;
pub mod krb;
pub mod negotiator;
pub mod ntlm;
pub mod spnego;
