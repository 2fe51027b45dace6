//! The audit events of one logon as they happen, and the id counters of its
//! exchanges and timers.

use std::time::Duration;

use crate::audit::{AuditDetail, AuditEvent};

use super::io::{ExchangeId, TimerId};

/// Events of one logon, with the fields every event shares.
#[derive(Clone, Debug)]
pub(crate) struct EventLog {
    logon: u64,
    client: String,
    target: String,
    events: Vec<AuditEvent>,
}

impl EventLog {
    pub(crate) fn new(logon: u64, client: String, target: String) -> Self {
        EventLog {
            logon,
            client,
            target,
            events: Vec::new(),
        }
    }

    /// Appends an event.
    pub(crate) fn push(&mut self, id: u32, at: Duration, detail: AuditDetail) {
        self.events.push(AuditEvent {
            id,
            logon: self.logon,
            at,
            client: self.client.clone(),
            target: self.target.clone(),
            detail,
        });
    }

    /// The events so far.
    pub(crate) fn events(&self) -> &[AuditEvent] {
        &self.events
    }

    /// Takes the events.
    pub(crate) fn take(&mut self) -> Vec<AuditEvent> {
        std::mem::take(&mut self.events)
    }
}

/// Id counters of one logon.
#[derive(Clone, Debug, Default)]
pub(crate) struct Ids {
    exchange: u64,
    timer: u64,
}

impl Ids {
    pub(crate) fn exchange(&mut self) -> ExchangeId {
        self.exchange += 1;
        ExchangeId(self.exchange)
    }

    pub(crate) fn timer(&mut self) -> TimerId {
        self.timer += 1;
        TimerId(self.timer)
    }
}
