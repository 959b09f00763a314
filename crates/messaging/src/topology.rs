//! Declares the pipeline's topology on a broker: the one place that does.
//!
//! The topology itself is data in [`audience_core::topology`]; this module turns it into AMQP
//! declarations. Declarations are idempotent, so every service calls [`declare`] after each
//! (re)connection; a declaration with different arguments from an existing queue fails with
//! `PRECONDITION_FAILED`, which surfaces drift instead of hiding it.

use audience_core::topology::{ArgValue, ExchangeKind, Topology};
use lapin::Channel;
use lapin::options::{
    ExchangeDeclareOptions, ExchangeDeleteOptions, QueueBindOptions, QueueDeclareOptions,
    QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};

/// Declares every exchange, queue and binding of `topology` on `channel`.
pub async fn declare(channel: &Channel, topology: &Topology) -> lapin::Result<()> {
    for exchange in &topology.exchanges {
        let kind = match exchange.kind {
            ExchangeKind::Topic => lapin::ExchangeKind::Topic,
            ExchangeKind::Direct => lapin::ExchangeKind::Direct,
        };
        channel
            .exchange_declare(
                exchange.name.as_str().into(),
                kind,
                ExchangeDeclareOptions {
                    durable: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await?;
    }
    for queue in &topology.queues {
        let mut args = FieldTable::default();
        for (key, value) in topology.queue_arguments(queue) {
            let value = match value {
                ArgValue::Str(s) => AMQPValue::LongString(LongString::from(s)),
                ArgValue::Int(i) => AMQPValue::LongLongInt(i),
            };
            args.insert(ShortString::from(key), value);
        }
        channel
            .queue_declare(
                queue.name.as_str().into(),
                QueueDeclareOptions {
                    durable: true,
                    ..Default::default()
                },
                args,
            )
            .await?;
    }
    for binding in &topology.bindings {
        channel
            .queue_bind(
                binding.queue.as_str().into(),
                binding.exchange.as_str().into(),
                binding.routing_key.as_str().into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
    }
    Ok(())
}

/// Deletes every exchange and queue of `topology`: for tests and tools that created a
/// prefixed topology of their own. Never call it on the production (unprefixed) topology.
pub async fn delete(channel: &Channel, topology: &Topology) -> lapin::Result<()> {
    for name in topology.queue_names() {
        channel
            .queue_delete(name.into(), QueueDeleteOptions::default())
            .await?;
    }
    for exchange in &topology.exchanges {
        channel
            .exchange_delete(
                exchange.name.as_str().into(),
                ExchangeDeleteOptions::default(),
            )
            .await?;
    }
    Ok(())
}
