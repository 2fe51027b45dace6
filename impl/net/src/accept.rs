//! The TCP accept loop every server in this crate runs (KDC, KKDCP relay,
//! application server): a bounded number of open connections, one
//! `spawn_local` task each, and accept errors that never end the server.

use std::cell::Cell;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use crate::TcpListen;

/// How long to pause after an accept error that is not the peer's doing
/// (out of file descriptors, out of memory): retrying at once would spin.
const ACCEPT_RETRY_PAUSE: Duration = Duration::from_millis(50);

/// The count of open connections, shared by a server's accept loop and its
/// connection tasks.
#[derive(Clone, Debug, Default)]
pub(crate) struct Slots(Rc<Cell<usize>>);

impl Slots {
    /// Connections open now.
    pub(crate) fn open(&self) -> usize {
        self.0.get()
    }

    /// Counts one more connection until the returned guard drops.
    fn take(&self) -> Slot {
        self.0.set(self.0.get() + 1);
        Slot(self.0.clone())
    }
}

/// One counted connection; dropping it (the task ended, or panicked and
/// unwound) frees the slot.
struct Slot(Rc<Cell<usize>>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.set(self.0.get().saturating_sub(1));
    }
}

/// Accepts on `listener` forever. With `max` connections open a new one is
/// closed at once (a flood cannot exhaust memory or descriptors); every
/// other one is served by `serve` on its own task, counted in `slots` until
/// that task ends. A connection reset or aborted before accept completed is
/// skipped; any other accept error is logged and retried after a pause
/// rather than ending the server. `role` names the server in logs.
pub(crate) async fn accept_loop<L, F, Fut>(
    listener: &L,
    role: &'static str,
    max: usize,
    slots: &Slots,
    serve: F,
) -> !
where
    L: TcpListen,
    F: Fn(L::Stream, SocketAddr) -> Fut,
    Fut: Future<Output = ()> + 'static,
{
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                if slots.open() >= max {
                    tracing::warn!(%peer, "{role}: connection limit reached, closing new connection");
                    drop(stream);
                    continue;
                }
                let slot = slots.take();
                let task = serve(stream, peer);
                tokio::task::spawn_local(async move {
                    let _slot = slot;
                    task.await;
                });
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
                ) => {}
            Err(e) => {
                tracing::warn!(error = %e, "{role}: accept failed");
                tokio::time::sleep(ACCEPT_RETRY_PAUSE).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use tokio::io::AsyncReadExt;
    use tokio::sync::Notify;

    use super::*;

    /// Reads until the peer closes; true when it closed without sending.
    async fn closed_silently(s: &mut tokio::net::TcpStream) -> bool {
        let mut b = [0u8; 1];
        matches!(
            tokio::time::timeout(Duration::from_secs(2), s.read(&mut b)).await,
            Ok(Ok(0))
        )
    }

    #[test]
    fn connections_over_the_limit_are_closed_and_slots_free_on_task_end() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        // Bounded: a broken loop fails the test instead of hanging it.
        let _enter = rt.enter();
        let run = tokio::task::LocalSet::new().block_on(
            &rt,
            tokio::time::timeout(Duration::from_secs(10), async {
                let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
                    .await
                    .unwrap();
                let addr = listener.local_addr().unwrap();
                let slots = Slots::default();
                let release = Rc::new(Notify::new());
                let (l, s, r) = (listener, slots.clone(), release.clone());
                tokio::task::spawn_local(async move {
                    accept_loop(&l, "test", 1, &s, move |stream, _| {
                        let r = r.clone();
                        // Holds its connection open until released.
                        async move {
                            r.notified().await;
                            drop(stream);
                        }
                    })
                    .await
                });
                let mut first = tokio::net::TcpStream::connect(addr).await.unwrap();
                while slots.open() == 0 {
                    tokio::task::yield_now().await;
                }
                // The limit is one: the second connection is closed unserved.
                let mut second = tokio::net::TcpStream::connect(addr).await.unwrap();
                assert!(closed_silently(&mut second).await);
                assert_eq!(slots.open(), 1);
                // The first task ends: its slot is free for the next one.
                release.notify_one();
                assert!(closed_silently(&mut first).await);
                while slots.open() != 0 {
                    tokio::task::yield_now().await;
                }
                let _third = tokio::net::TcpStream::connect(addr).await.unwrap();
                while slots.open() == 0 {
                    tokio::task::yield_now().await;
                }
                assert_eq!(slots.open(), 1);
            }),
        );
        assert!(run.is_ok(), "accept loop test timed out");
    }
}
