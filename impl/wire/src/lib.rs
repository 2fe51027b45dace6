//! Every kerbside wire format: Kerberos (RFC 4120), record mark, MS-KKDCP, IAKERB, GSS framing, SPNEGO, NTLM; one safe decode entry point per format
