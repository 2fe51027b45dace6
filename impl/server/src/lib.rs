//! Application server / GSS acceptor: SPNEGO, Kerberos AP, IAKERB proxying, NTLM acceptor
