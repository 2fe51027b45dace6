//! Replay and sequence detection for received per-message tokens
//! (RFC 2743 §1.2.3, RFC 4121 §4.2.3).
//!
//! RFC 4121 leaves the checks to the implementation; this follows MIT's
//! `g_seqnum.c`: remember which of the last 64 sequence numbers below the
//! next expected one were seen. A repeat is `Duplicate`, anything older
//! than the window is `Old`: both are refused whenever replay detection
//! was negotiated. With sequence detection a gap or an out-of-order token
//! is refused as well; without it they are accepted (GSS-API calls them
//! supplementary information, not errors).

/// How many sequence numbers below the next expected one are remembered.
const WINDOW: u64 = 64;

/// Why a received token's sequence number is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SequenceError {
    /// The same sequence number was already accepted (GSS_S_DUPLICATE_TOKEN).
    #[error("token {seq} is a duplicate (replay)")]
    Duplicate {
        /// the repeated number
        seq: u64,
    },
    /// Older than the replay window (GSS_S_OLD_TOKEN).
    #[error("token {seq} is older than the replay window")]
    Old {
        /// the number
        seq: u64,
    },
    /// Tokens were skipped (GSS_S_GAP_TOKEN) under sequence detection.
    #[error("token {seq} arrived but {expected} was expected (gap)")]
    Gap {
        /// the number received
        seq: u64,
        /// the number expected
        expected: u64,
    },
    /// A late token under sequence detection (GSS_S_UNSEQ_TOKEN).
    #[error("token {seq} arrived out of order")]
    Unsequenced {
        /// the number received
        seq: u64,
    },
}

/// The receive-side state of one direction of a context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayWindow {
    /// The next sequence number expected.
    next: u64,
    /// Bit i set: `next - 1 - i` was accepted.
    seen: u64,
    replay: bool,
    sequence: bool,
}

impl ReplayWindow {
    /// A window starting at the peer's initial sequence number, enforcing
    /// replay detection and/or strict sequencing as negotiated.
    pub fn new(initial: u64, replay: bool, sequence: bool) -> Self {
        Self {
            next: initial,
            seen: 0,
            replay,
            sequence,
        }
    }

    /// The next sequence number expected.
    pub fn expected(&self) -> u64 {
        self.next
    }

    /// Checks `seq` and, when acceptable, records it.
    pub fn check(&mut self, seq: u64) -> Result<(), SequenceError> {
        if seq >= self.next {
            let gap = seq - self.next;
            if gap > 0 && self.sequence {
                return Err(SequenceError::Gap {
                    seq,
                    expected: self.next,
                });
            }
            // Shift the window past the skipped numbers and mark `seq`.
            let shift = gap.saturating_add(1);
            self.seen = if shift >= WINDOW {
                1
            } else {
                (self.seen << shift) | 1
            };
            self.next = seq.wrapping_add(1);
            return Ok(());
        }
        let back = self.next - seq;
        if back > WINDOW {
            return if self.replay || self.sequence {
                Err(SequenceError::Old { seq })
            } else {
                Ok(())
            };
        }
        let bit = 1u64 << (back - 1);
        if self.seen & bit != 0 {
            return if self.replay || self.sequence {
                Err(SequenceError::Duplicate { seq })
            } else {
                Ok(())
            };
        }
        if self.sequence {
            return Err(SequenceError::Unsequenced { seq });
        }
        self.seen |= bit;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_order_tokens_pass_and_repeats_do_not() {
        let mut w = ReplayWindow::new(1000, true, false);
        assert_eq!(w.check(1000), Ok(()));
        assert_eq!(w.check(1001), Ok(()));
        assert_eq!(w.check(1000), Err(SequenceError::Duplicate { seq: 1000 }));
        assert_eq!(w.expected(), 1002);
    }

    #[test]
    fn replay_only_tolerates_gaps_and_late_tokens() {
        let mut w = ReplayWindow::new(5, true, false);
        assert_eq!(w.check(8), Ok(()));
        assert_eq!(w.check(6), Ok(()), "late but new");
        assert_eq!(w.check(6), Err(SequenceError::Duplicate { seq: 6 }));
        assert_eq!(w.check(5), Ok(()));
        assert_eq!(w.check(8), Err(SequenceError::Duplicate { seq: 8 }));
        assert_eq!(w.check(200), Ok(()));
        assert_eq!(w.check(9), Err(SequenceError::Old { seq: 9 }));
    }

    #[test]
    fn sequence_detection_refuses_gaps_and_reordering() {
        let mut w = ReplayWindow::new(0, true, true);
        assert_eq!(w.check(0), Ok(()));
        assert_eq!(
            w.check(2),
            Err(SequenceError::Gap {
                seq: 2,
                expected: 1
            })
        );
        assert_eq!(w.check(1), Ok(()));
        assert_eq!(w.check(2), Ok(()));
        let mut w = ReplayWindow::new(10, false, true);
        w.check(10).unwrap();
        w.check(11).unwrap();
        assert!(w.check(10).is_err());
    }

    #[test]
    fn no_detection_accepts_everything() {
        let mut w = ReplayWindow::new(0, false, false);
        for s in [0, 0, 5, 1, 1000, 3] {
            assert_eq!(w.check(s), Ok(()));
        }
    }

    #[test]
    fn window_edges() {
        let mut w = ReplayWindow::new(0, true, false);
        w.check(0).unwrap();
        w.check(63).unwrap();
        // 0 is exactly 64 below next (64): the oldest remembered number.
        assert_eq!(w.check(0), Err(SequenceError::Duplicate { seq: 0 }));
        w.check(64).unwrap();
        // now 0 is 65 below next: outside the window
        assert_eq!(w.check(0), Err(SequenceError::Old { seq: 0 }));
        // u64::MAX does not overflow
        let mut w = ReplayWindow::new(u64::MAX - 1, true, false);
        w.check(u64::MAX).unwrap();
    }
}
