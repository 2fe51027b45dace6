//! The last line of defence around third-party decoders: `catch_unwind`.
//!
//! The DER validator makes the known `kerberos_asn1` panics unreachable;
//! this fence turns any unknown one into a typed error instead of a crashed
//! KDC. Panics caught here are bugs in the validator, so the message is kept
//! (the fuzzer reports them as findings).
//!
//! Silencing the panic hook without global races: the process-wide hook is
//! replaced once (chaining to the previous hook) by one that stays quiet only
//! while the *current thread* is inside a fence. Other threads' panics, and
//! this thread's panics outside a fence, print exactly as before.
//! Requires `panic = "unwind"` (the default profile setting).

use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

thread_local! {
    static IN_FENCE: Cell<bool> = const { Cell::new(false) };
    static LAST_MESSAGE: RefCell<Option<String>> = const { RefCell::new(None) };
}

static INSTALL_HOOK: Once = Once::new();

fn install_hook() {
    INSTALL_HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if IN_FENCE.with(Cell::get) {
                let location = info
                    .location()
                    .map(|l| format!(" at {}:{}", l.file(), l.line()))
                    .unwrap_or_default();
                let message = payload_text(info.payload());
                LAST_MESSAGE.with(|m| *m.borrow_mut() = Some(format!("{message}{location}")));
            } else {
                previous(info);
            }
        }));
    });
}

fn payload_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}

/// Runs `f`; a panic inside becomes `Err(message)`.
pub(crate) fn fenced<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    install_hook();
    let was_inside = IN_FENCE.with(|c| c.replace(true));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    IN_FENCE.with(|c| c.set(was_inside));
    result.map_err(|payload| {
        LAST_MESSAGE
            .with(|m| m.borrow_mut().take())
            .unwrap_or_else(|| payload_text(payload.as_ref()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_panics_to_errors_with_location() {
        #[allow(clippy::panic)]
        let r: Result<(), String> = fenced(|| panic!("boom {}", 7));
        let msg = r.unwrap_err();
        assert!(msg.starts_with("boom 7 at "), "{msg}");
        assert!(msg.contains("fence.rs"), "{msg}");
        assert_eq!(fenced(|| 5), Ok(5));
        assert!(!IN_FENCE.with(Cell::get));
    }
}
