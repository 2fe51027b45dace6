//! sans-IO Kerberos KDC (AS, TGS, pre-auth, replay cache, skew) and LocalKDC policy
