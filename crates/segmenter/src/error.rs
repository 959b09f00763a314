//! Error policy of the segmenter (the decision each error leads to).
//!
//! - A message that cannot be decoded ([`MessageError::Decode`]) or that breaks an invariant
//!   ([`MessageError::Invalid`]: an id beyond PostgreSQL's `bigint`, an amount that overflows)
//!   is **permanent**: it goes to the dead-letter queue with the reason in its headers, and the
//!   next message is processed. Retrying would fail the same way.
//! - A database error is classified by [`DbErrorClass`]: **transient** ones (lock timeout,
//!   deadlock, serialization failure, resource shortage) send the message to a retry tier;
//!   losing the **connection** keeps the messages unacknowledged and retries the batch once
//!   the database answers again (sending every message to a retry tier while the database is
//!   down would only churn the broker); anything else (a constraint the message violates) is
//!   permanent, like an invalid message.
//! - `anyhow` is used only at the top (start-up, `main`), with context.

use audience_core::envelope::EnvelopeError;

/// Why one message cannot be applied, ever.
#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    /// The body is not an envelope this build reads.
    #[error(transparent)]
    Decode(#[from] EnvelopeError),
    /// The message breaks an invariant of the segmenter's model.
    #[error("{0}")]
    Invalid(String),
}

impl MessageError {
    /// The `x-error-kind` header for the dead-letter queue.
    pub fn kind(&self) -> &'static str {
        match self {
            MessageError::Decode(_) => "decode",
            MessageError::Invalid(_) => "invalid",
        }
    }
}

/// What a database error means for the message that hit it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbErrorClass {
    /// Try again later (retry tier): lock timeout, deadlock, serialization failure, shortage.
    Transient,
    /// The connection is gone: keep the messages and retry once the database is back.
    Connection,
    /// The message cannot be stored (dead-letter queue).
    Permanent,
}

/// Classifies a diesel error by its SQLSTATE.
pub fn classify_db_error(error: &diesel::result::Error) -> DbErrorClass {
    use diesel::result::{DatabaseErrorKind, Error};
    match error {
        Error::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _,
        ) => DbErrorClass::Connection,
        Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => DbErrorClass::Transient,
        Error::DatabaseError(_, info) => match info.sqlstate() {
            Some(state) => classify_sqlstate(state.as_str()),
            None => DbErrorClass::Permanent,
        },
        Error::BrokenTransactionManager | Error::AlreadyInTransaction | Error::NotInTransaction => {
            DbErrorClass::Connection
        }
        _ => DbErrorClass::Permanent,
    }
}

/// Classifies a PostgreSQL SQLSTATE (<https://www.postgresql.org/docs/current/errcodes-appendix.html>).
pub fn classify_sqlstate(state: &str) -> DbErrorClass {
    match state {
        // Connection exceptions; admin, crash or cannot-connect-now shutdowns.
        s if s.starts_with("08") || s.starts_with("57P") => DbErrorClass::Connection,
        // Transaction rollback (serialization failure, deadlock), lock not available, query
        // cancelled (statement timeout), insufficient resources.
        s if s.starts_with("40") || s == "55P03" || s == "57014" || s.starts_with("53") => {
            DbErrorClass::Transient
        }
        _ => DbErrorClass::Permanent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlstates_map_to_decisions() {
        assert_eq!(classify_sqlstate("55P03"), DbErrorClass::Transient);
        assert_eq!(classify_sqlstate("40P01"), DbErrorClass::Transient);
        assert_eq!(classify_sqlstate("40001"), DbErrorClass::Transient);
        assert_eq!(classify_sqlstate("53300"), DbErrorClass::Transient);
        assert_eq!(classify_sqlstate("57014"), DbErrorClass::Transient);
        assert_eq!(classify_sqlstate("08006"), DbErrorClass::Connection);
        assert_eq!(classify_sqlstate("57P01"), DbErrorClass::Connection);
        assert_eq!(classify_sqlstate("23505"), DbErrorClass::Permanent);
        assert_eq!(classify_sqlstate("22003"), DbErrorClass::Permanent);
        assert_eq!(
            classify_db_error(&diesel::result::Error::NotFound),
            DbErrorClass::Permanent
        );
    }
}
