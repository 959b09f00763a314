//! Confirm-mode channels for publishing, on `amqprs` (docs/decisions/0006).
//!
//! `amqprs` runs its reader, writer and per-channel dispatcher as tasks on the caller's tokio
//! runtime, so a publish is a send into the writer task and its confirmation a callback on
//! the same runtime: no I/O thread to wake per message. It leaves confirmation tracking to the
//! application, which this module does:
//!
//! - The broker numbers the publishes of a channel in confirm mode 1, 2, 3… in the order it
//!   receives them. [`ConfirmChannel::publish`] takes the next number, registers a waiter under
//!   it and hands the frames to the writer while holding the channel's send lock, so numbers
//!   and wire order agree.
//! - `basic.ack` / `basic.nack` (possibly `multiple`) resolve the waiters up to the tag.
//! - A `mandatory` message that no queue takes comes back as `basic.return`, which RabbitMQ
//!   sends before that message's `basic.ack`
//!   (<https://www.rabbitmq.com/docs/confirms#when-publishes-are-confirmed>): the return marks
//!   the oldest unresolved waiter with the returned message's exchange, routing key and id,
//!   and its ack then resolves as [`Outcome::Returned`]. Two waiters that share all three
//!   were routed alike, so either both come back or neither does: marking the oldest is
//!   exact. (The id alone is not enough: the same id may be in flight to another route.)
//! - When the broker closes the channel, or the connection manager gives the connection up,
//!   every waiter is dropped, so its publisher learns at once that nothing was confirmed.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use amqprs::callbacks::ChannelCallback;
use amqprs::channel::{BasicPublishArguments, Channel, ConfirmSelectArguments};
use amqprs::connection::Connection;
use amqprs::{Ack, BasicProperties, Cancel, CloseChannel, Nack, Return};
use tokio::sync::oneshot;

/// How the broker answered one publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Stored (for a quorum queue: written by a majority of its replicas).
    Ack,
    /// Refused (`basic.nack`).
    Nack,
    /// Unroutable: returned (`mandatory`), then acked without being stored anywhere.
    Returned,
}

/// Why a publish did not get as far as waiting for its confirmation.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SendError {
    /// The channel is closed (by the broker, or with its connection).
    #[error("the channel is closed")]
    Closed,
    /// The client could not hand the message to its connection.
    #[error(transparent)]
    Amqp(#[from] amqprs::error::Error),
}

struct Waiter {
    tx: oneshot::Sender<Outcome>,
    /// What a `basic.return` is matched on: see [`route_key`].
    route: Box<str>,
    returned: bool,
}

/// Exchange, routing key and message id in one string; the first two are length-prefixed, so
/// two different triples never give the same string.
fn route_key(exchange: &str, routing_key: &str, message_id: &str) -> Box<str> {
    format!(
        "{}:{exchange}{}:{routing_key}{message_id}",
        exchange.len(),
        routing_key.len()
    )
    .into_boxed_str()
}

#[derive(Default)]
struct Pending {
    waiters: BTreeMap<u64, Waiter>,
    closed: bool,
}

#[derive(Default)]
struct Tracker {
    /// The delivery tag the next publish gets; held across the hand-off to the writer task.
    next_tag: tokio::sync::Mutex<u64>,
    pending: Mutex<Pending>,
}

impl Tracker {
    fn pending(&self) -> std::sync::MutexGuard<'_, Pending> {
        // The lock guards plain map operations that cannot panic half-way.
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn resolve(&self, tag: u64, multiple: bool, outcome: Outcome) {
        let mut pending = self.pending();
        let resolved: Vec<Waiter> = if multiple {
            let rest = pending.waiters.split_off(&(tag + 1));
            std::mem::replace(&mut pending.waiters, rest)
                .into_values()
                .collect()
        } else {
            pending.waiters.remove(&tag).into_iter().collect()
        };
        drop(pending);
        for waiter in resolved {
            let outcome = match outcome {
                Outcome::Ack if waiter.returned => Outcome::Returned,
                other => other,
            };
            // The publisher may have stopped waiting (timeout); nothing to do then.
            let _ = waiter.tx.send(outcome);
        }
    }

    fn mark_returned(&self, route: &str) -> bool {
        let mut pending = self.pending();
        pending
            .waiters
            .values_mut()
            .find(|w| !w.returned && &*w.route == route)
            .map(|w| w.returned = true)
            .is_some()
    }

    fn close(&self) {
        let mut pending = self.pending();
        pending.closed = true;
        // Dropping the senders tells every waiting publisher that no confirmation will come.
        pending.waiters.clear();
    }
}

/// One channel in confirm mode with its confirmation tracking; cheap to clone.
#[derive(Clone)]
pub(crate) struct ConfirmChannel {
    channel: Channel,
    tracker: Arc<Tracker>,
}

impl ConfirmChannel {
    /// Opens a channel on `connection` and puts it in confirm mode.
    pub(crate) async fn open(connection: &Connection) -> Result<Self, amqprs::error::Error> {
        let channel = connection.open_channel(None).await?;
        let tracker = Arc::new(Tracker::default());
        channel
            .register_callback(Callbacks {
                tracker: Arc::clone(&tracker),
            })
            .await?;
        channel
            .confirm_select(ConfirmSelectArguments::default())
            .await?;
        *tracker.next_tag.lock().await = 1;
        Ok(Self { channel, tracker })
    }

    /// Open, and not given up.
    pub(crate) fn is_open(&self) -> bool {
        self.channel.is_open() && !self.tracker.pending().closed
    }

    /// Fails every waiting publish and refuses new ones: the connection is being given up.
    pub(crate) fn give_up(&self) {
        self.tracker.close();
    }

    /// Hands one persistent, mandatory message to the connection; the receiver resolves with
    /// the broker's answer, or fails if the channel closes first.
    pub(crate) async fn publish(
        &self,
        exchange: &str,
        routing_key: &str,
        properties: BasicProperties,
        body: Vec<u8>,
    ) -> Result<oneshot::Receiver<Outcome>, SendError> {
        let mut next_tag = self.tracker.next_tag.lock().await;
        if !self.channel.is_open() {
            return Err(SendError::Closed);
        }
        let tag = *next_tag;
        let (tx, rx) = oneshot::channel();
        {
            let mut pending = self.tracker.pending();
            if pending.closed {
                return Err(SendError::Closed);
            }
            let message_id = properties.message_id().map_or("", String::as_str);
            pending.waiters.insert(
                tag,
                Waiter {
                    tx,
                    route: route_key(exchange, routing_key, message_id),
                    returned: false,
                },
            );
        }
        let mut args = BasicPublishArguments::new(exchange, routing_key);
        args.mandatory(true);
        #[expect(clippy::disallowed_methods, reason = "the one sanctioned publish")]
        let sent = self.channel.basic_publish(properties, body, args).await;
        match sent {
            Ok(()) => {
                *next_tag = tag + 1;
                Ok(rx)
            }
            Err(error) => {
                // Not handed to the writer: the connection is gone, and the numbering with it.
                self.tracker.pending().waiters.remove(&tag);
                Err(error.into())
            }
        }
    }
}

struct Callbacks {
    tracker: Arc<Tracker>,
}

#[async_trait::async_trait]
impl ChannelCallback for Callbacks {
    async fn close(
        &mut self,
        channel: &Channel,
        close: CloseChannel,
    ) -> Result<(), amqprs::error::Error> {
        tracing::warn!(
            channel = channel.channel_id(),
            reply_code = close.reply_code(),
            reply_text = close.reply_text(),
            "The message broker closed a publishing channel."
        );
        self.tracker.close();
        Ok(())
    }

    async fn cancel(&mut self, _: &Channel, _: Cancel) -> Result<(), amqprs::error::Error> {
        // No consumers on publishing channels.
        Ok(())
    }

    async fn flow(&mut self, _: &Channel, active: bool) -> Result<bool, amqprs::error::Error> {
        Ok(active)
    }

    async fn publish_ack(&mut self, _: &Channel, ack: Ack) {
        self.tracker
            .resolve(ack.delivery_tag(), ack.mutiple(), Outcome::Ack);
    }

    async fn publish_nack(&mut self, _: &Channel, nack: Nack) {
        self.tracker
            .resolve(nack.delivery_tag(), nack.multiple(), Outcome::Nack);
    }

    async fn publish_return(
        &mut self,
        channel: &Channel,
        ret: Return,
        properties: BasicProperties,
        _body: Vec<u8>,
    ) {
        let message_id = properties.message_id().map_or("", String::as_str);
        let route = route_key(ret.exchange(), ret.routing_key(), message_id);
        if !self.tracker.mark_returned(&route) {
            tracing::warn!(
                channel = channel.channel_id(),
                reply_text = ret.reply_text(),
                "A returned message matched no waiting publish."
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waiter(tracker: &Tracker, tag: u64, id: &str) -> oneshot::Receiver<Outcome> {
        routed_waiter(tracker, tag, "ex", "key", id)
    }

    fn routed_waiter(
        tracker: &Tracker,
        tag: u64,
        exchange: &str,
        key: &str,
        id: &str,
    ) -> oneshot::Receiver<Outcome> {
        let (tx, rx) = oneshot::channel();
        tracker.pending().waiters.insert(
            tag,
            Waiter {
                tx,
                route: route_key(exchange, key, id),
                returned: false,
            },
        );
        rx
    }

    #[tokio::test]
    async fn a_multiple_ack_resolves_every_tag_up_to_it_and_no_further() {
        let tracker = Tracker::default();
        let r1 = waiter(&tracker, 1, "a");
        let r2 = waiter(&tracker, 2, "b");
        let r3 = waiter(&tracker, 3, "c");
        tracker.resolve(2, true, Outcome::Ack);
        assert_eq!(r1.await.ok(), Some(Outcome::Ack));
        assert_eq!(r2.await.ok(), Some(Outcome::Ack));
        assert_eq!(tracker.pending().waiters.len(), 1);
        tracker.resolve(3, false, Outcome::Nack);
        assert_eq!(r3.await.ok(), Some(Outcome::Nack));
    }

    #[tokio::test]
    async fn a_return_turns_the_matching_publishes_ack_into_returned() {
        let tracker = Tracker::default();
        let r1 = waiter(&tracker, 1, "same");
        let r2 = waiter(&tracker, 2, "same");
        assert!(tracker.mark_returned(&route_key("ex", "key", "same")));
        assert!(!tracker.mark_returned(&route_key("ex", "key", "other")));
        tracker.resolve(2, true, Outcome::Ack);
        assert_eq!(
            r1.await.ok(),
            Some(Outcome::Returned),
            "the oldest is marked"
        );
        assert_eq!(r2.await.ok(), Some(Outcome::Ack));
    }

    #[tokio::test]
    async fn a_return_marks_the_publish_with_its_route_not_another_with_the_same_id() {
        let tracker = Tracker::default();
        let routable = routed_waiter(&tracker, 1, "events", "shopify.orders.create", "dup");
        let unroutable = routed_waiter(&tracker, 2, "events", "nothing.binds", "dup");
        assert!(tracker.mark_returned(&route_key("events", "nothing.binds", "dup")));
        tracker.resolve(2, true, Outcome::Ack);
        assert_eq!(routable.await.ok(), Some(Outcome::Ack));
        assert_eq!(unroutable.await.ok(), Some(Outcome::Returned));
    }

    #[test]
    fn route_keys_do_not_collide_across_part_boundaries() {
        assert_ne!(route_key("a", "bc", "d"), route_key("ab", "c", "d"));
        assert_ne!(route_key("a", "b", "cd"), route_key("a", "bc", "d"));
    }

    #[tokio::test]
    async fn closing_fails_every_waiter() {
        let tracker = Tracker::default();
        let r1 = waiter(&tracker, 1, "a");
        tracker.close();
        assert!(r1.await.is_err());
        assert!(tracker.pending().closed);
    }
}
