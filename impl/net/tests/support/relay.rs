//! Runs our relay on its own thread, as real mode does (current-thread
//! runtime + LocalSet), for tests that drive it with external programs.
#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use kerbside_net::relay_server::{RelayServer, ServerLimits};
use kerbside_net::tokio_driver::{SystemClock, TokioNet};
use kerbside_net::{Net, TcpListen};
use kerbside_relay::{MemoryAudit, Relay, RelayConfig};

/// Starts the relay; returns its address and its audit records.
pub fn start_relay(
    config: RelayConfig,
    tls: Option<Arc<rustls::ServerConfig>>,
) -> (SocketAddr, Arc<MemoryAudit>) {
    let audit = Arc::new(MemoryAudit::default());
    let relay = Arc::new(Relay::new(config).unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    let sink = audit.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        tokio::task::LocalSet::new().block_on(&rt, async move {
            let l = TokioNet
                .bind_tcp("127.0.0.1:0".parse().unwrap())
                .await
                .unwrap();
            tx.send(TcpListen::local_addr(&l).unwrap()).unwrap();
            RelayServer::new(
                TokioNet,
                SystemClock,
                relay,
                tls,
                sink,
                ServerLimits::default(),
            )
            .serve(l)
            .await;
        });
    });
    (rx.recv_timeout(Duration::from_secs(10)).unwrap(), audit)
}
