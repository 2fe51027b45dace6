//! Client side: negotiator (fallback chain), Kerberos exchanges, SPNEGO and IAKERB initiator, NTLM client, policy, audit, ticket cache

pub mod krb;
