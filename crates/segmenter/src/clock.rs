//! The segmenter's notion of "now".
//!
//! The segment rules depend on time (`lapsed`), so the service reads the time through a
//! [`Clock`] rather than calling `Utc::now()` everywhere. In production it is the system clock;
//! tests move it forward to exercise the sweep without waiting months.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, TimeDelta, Utc};

/// The system clock, optionally shifted by an offset that tests can change.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    offset_seconds: Arc<AtomicI64>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock::default()
    }

    /// The current time (system time plus the offset).
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + TimeDelta::seconds(self.offset_seconds.load(Ordering::Relaxed))
    }

    /// Moves the clock forward by `by` (tests only need this; every clone sees it).
    pub fn advance(&self, by: TimeDelta) {
        self.offset_seconds
            .fetch_add(by.num_seconds(), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_advanced_clock_is_ahead_in_every_clone() {
        let clock = Clock::system();
        let clone = clock.clone();
        clock.advance(TimeDelta::days(10));
        let ahead = clone.now() - Utc::now();
        assert!(
            ahead >= TimeDelta::days(10) - TimeDelta::seconds(1),
            "{ahead}"
        );
        assert!(
            ahead <= TimeDelta::days(10) + TimeDelta::seconds(1),
            "{ahead}"
        );
    }
}
