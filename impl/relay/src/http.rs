//! The HTTP-level facts the core decides on, and the response it returns.
//! The driver (hyper, or anything else) fills these in; the core never sees
//! a socket.

use std::net::SocketAddr;

/// MS-KKDCP gives no media type; MIT sends and kdcproxy answers this one.
pub const CONTENT_TYPE_KERBEROS: &str = "application/kerberos";
/// Error bodies are short human-readable text, as kdcproxy's are.
pub const CONTENT_TYPE_TEXT: &str = "text/plain; charset=utf-8";

/// Who sent the request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientInfo {
    /// The peer address of the connection.
    pub addr: Option<SocketAddr>,
    /// The verified TLS client certificate's identity, when mutual TLS
    /// authenticated the connection.
    pub tls_identity: Option<String>,
}

/// The request line and the headers the relay cares about.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestHead {
    /// The method, as sent (`POST`).
    pub method: String,
    /// The request path without query string.
    pub path: String,
    /// `Content-Type`, if present.
    pub content_type: Option<String>,
    /// `Content-Length`, if present and a valid number. `None` also for a
    /// chunked body: like kdcproxy we require a declared length (411).
    pub content_length: Option<u64>,
    /// `Authorization`, if present.
    pub authorization: Option<String>,
    /// The client.
    pub client: ClientInfo,
}

impl RequestHead {
    /// A `POST` to `path` with the given body length, content type
    /// `application/kerberos`: what a well-behaved client sends.
    pub fn post(path: &str, content_length: usize) -> Self {
        RequestHead {
            method: "POST".to_owned(),
            path: path.to_owned(),
            content_type: Some(CONTENT_TYPE_KERBEROS.to_owned()),
            content_length: Some(content_length as u64),
            authorization: None,
            client: ClientInfo::default(),
        }
    }
}

/// The response the driver writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// Extra headers (`Allow`, `WWW-Authenticate`, `Retry-After`).
    pub headers: Vec<(&'static str, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// Close the connection after this response. MS-KKDCP §3.2.5.1: on a
    /// malformed message the server "SHOULD drop the connection"; we still
    /// send a status first so the failure is visible to HTTP clients.
    pub close: bool,
}

impl HttpResponse {
    /// A 200 carrying a KDC-PROXY-MESSAGE.
    pub(crate) fn kerberos(body: Vec<u8>) -> Self {
        HttpResponse {
            status: 200,
            content_type: CONTENT_TYPE_KERBEROS,
            headers: Vec::new(),
            body,
            close: false,
        }
    }

    /// An error status with a text body.
    pub(crate) fn text(status: u16, body: String) -> Self {
        HttpResponse {
            status,
            content_type: CONTENT_TYPE_TEXT,
            headers: Vec::new(),
            body: body.into_bytes(),
            close: false,
        }
    }
}
