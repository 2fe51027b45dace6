//! Conformance vectors (JSON), vector checker and live runner for KDCs,
//! KDC proxies and IAKERB acceptors.

pub mod check;
pub mod clock;
pub mod files;
pub mod generate;
pub mod ids;
pub mod kdc_reply;
pub mod kkdcp_body;
pub mod live;
pub mod model;
pub mod observe;
pub mod realm;
pub mod recipe;
