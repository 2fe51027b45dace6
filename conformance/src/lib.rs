//! Conformance vectors (JSON), vector checker and live runner for KDCs,
//! KDC proxies and IAKERB acceptors.

pub mod model;
