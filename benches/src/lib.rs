//! criterion benchmarks and the loopback load comparisons with MIT krb5kdc and kdcproxy
