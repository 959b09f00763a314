//! The whole pipeline's RabbitMQ topology, as plain data.
//!
//! Every exchange, queue, binding, retry tier and dead-letter queue of audience-sync is
//! described here, once. `audience-messaging` has the only function that declares it on a
//! broker, and every service calls that function at start-up (declarations are idempotent).
//! Declaring the same queue from two places with slightly different arguments is how
//! `PRECONDITION_FAILED` and silent drift happen, which is why nothing else may declare.
//!
//! Shape (names shown without a prefix):
//!
//! ```text
//! shopify.events (topic) --shopify.#--> segmenter.store-events (quorum)
//! meta.dispatch  (direct) --capi-----> meta.capi (quorum)
//!                         --audience-> meta.audience (quorum)
//! audience-sync.dlx (direct) --<queue>--> <queue>.dlq (quorum), for every work queue
//! <queue>.retry.<n> (quorum, x-message-ttl) --TTL expiry, default exchange--> <queue>
//! ```
//!
//! A prefix (for example `t-3f9c.`) is put in front of every exchange and queue name, so that
//! tests running in parallel on one broker never see each other's messages. Routing keys are
//! not prefixed: they only match inside their own (prefixed) exchange.

use std::time::Duration;

/// Exchange that ingest publishes every accepted Shopify webhook to.
pub const SHOPIFY_EVENTS: &str = "shopify.events";
/// Exchange that the segmenter's outbox relay publishes Meta work to.
pub const META_DISPATCH: &str = "meta.dispatch";
/// Dead-letter exchange shared by every work queue; routes by the work queue's name.
pub const DEAD_LETTER: &str = "audience-sync.dlx";

/// Work queue of the segmenter: every Shopify store event.
pub const SEGMENTER_QUEUE: &str = "segmenter.store-events";
/// Work queue of Conversions API events (purchases).
pub const META_CAPI_QUEUE: &str = "meta.capi";
/// Work queue of Custom Audience membership changes.
pub const META_AUDIENCE_QUEUE: &str = "meta.audience";

/// Routing key on [`META_DISPATCH`] for Conversions API events.
pub const CAPI_ROUTING_KEY: &str = "capi";
/// Routing key on [`META_DISPATCH`] for audience membership changes.
pub const AUDIENCE_ROUTING_KEY: &str = "audience";

/// How long a message waits in each retry tier before it goes back to its work queue.
/// A consumer that hits a transient error republishes the message to tier
/// `min(attempt, len - 1)`, so the waits grow and then stay at the last one.
pub const RETRY_DELAYS: [Duration; 4] = [
    Duration::from_secs(5),
    Duration::from_secs(30),
    Duration::from_secs(300),
    Duration::from_secs(1800),
];

/// A quorum queue's redelivery limit: a message that crashed its consumer this many times is
/// dead-lettered by the broker itself, so a poison message can never cause a crash loop.
pub const DELIVERY_LIMIT: u32 = 20;

/// The kind of an exchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExchangeKind {
    /// Routes by pattern (`*` one word, `#` zero or more).
    Topic,
    /// Routes by exact routing key.
    Direct,
}

/// One exchange to declare (always durable).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExchangeSpec {
    /// Full (prefixed) name.
    pub name: String,
    /// Exchange kind.
    pub kind: ExchangeKind,
}

/// What a queue is for; decides its arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QueueRole {
    /// A work queue: dead-letters to [`DEAD_LETTER`] with its own name as routing key,
    /// at least once, and rejects publishes when full rather than dropping the oldest.
    Work,
    /// A retry tier: holds messages for `delay`, then dead-letters them back to `target`
    /// through the default exchange.
    Retry {
        /// Full name of the work queue the messages return to.
        target: String,
        /// How long each message waits.
        delay: Duration,
    },
    /// A dead-letter queue: holds what could not be processed, for inspection and replay.
    DeadLetter,
}

/// One queue to declare. Every queue is a durable quorum queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueSpec {
    /// Full (prefixed) name.
    pub name: String,
    /// What it is for.
    pub role: QueueRole,
}

/// A binding of a queue to an exchange.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BindingSpec {
    /// Full (prefixed) exchange name.
    pub exchange: String,
    /// Full (prefixed) queue name.
    pub queue: String,
    /// Routing key or pattern.
    pub routing_key: String,
}

/// A value of a queue argument (`x-…`), independent of any AMQP library.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ArgValue {
    /// A string argument.
    Str(String),
    /// An integer argument.
    Int(i64),
}

/// Names of one work queue's companions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkQueue {
    /// The work queue itself.
    pub name: String,
    /// Its dead-letter queue (`<name>.dlq`).
    pub dlq: String,
    /// Its retry tiers, in order (`<name>.retry.<n>`), matching [`RETRY_DELAYS`].
    pub retries: Vec<String>,
}

impl WorkQueue {
    /// The retry tier for a message that has failed `attempt` times already (0-based).
    pub fn retry_queue(&self, attempt: u32) -> &str {
        let last = self.retries.len().saturating_sub(1);
        let index = usize::try_from(attempt).unwrap_or(usize::MAX).min(last);
        self.retries
            .get(index)
            .map_or(self.name.as_str(), String::as_str)
    }
}

/// The complete topology under one name prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Topology {
    prefix: String,
    /// Exchanges, in declaration order.
    pub exchanges: Vec<ExchangeSpec>,
    /// Queues, in declaration order.
    pub queues: Vec<QueueSpec>,
    /// Bindings, declared after exchanges and queues.
    pub bindings: Vec<BindingSpec>,
}

impl Topology {
    /// The topology with every exchange and queue name prefixed by `prefix` (may be empty).
    pub fn new(prefix: &str) -> Self {
        let name = |base: &str| format!("{prefix}{base}");
        let exchanges = vec![
            ExchangeSpec {
                name: name(SHOPIFY_EVENTS),
                kind: ExchangeKind::Topic,
            },
            ExchangeSpec {
                name: name(META_DISPATCH),
                kind: ExchangeKind::Direct,
            },
            ExchangeSpec {
                name: name(DEAD_LETTER),
                kind: ExchangeKind::Direct,
            },
        ];
        let routes = [
            (SEGMENTER_QUEUE, SHOPIFY_EVENTS, "shopify.#"),
            (META_CAPI_QUEUE, META_DISPATCH, CAPI_ROUTING_KEY),
            (META_AUDIENCE_QUEUE, META_DISPATCH, AUDIENCE_ROUTING_KEY),
        ];
        let mut queues = Vec::new();
        let mut bindings = Vec::new();
        for (queue, exchange, key) in routes {
            let work = name(queue);
            let dlq = format!("{work}.dlq");
            queues.push(QueueSpec {
                name: work.clone(),
                role: QueueRole::Work,
            });
            queues.push(QueueSpec {
                name: dlq.clone(),
                role: QueueRole::DeadLetter,
            });
            for (tier, delay) in RETRY_DELAYS.iter().enumerate() {
                queues.push(QueueSpec {
                    name: format!("{work}.retry.{tier}"),
                    role: QueueRole::Retry {
                        target: work.clone(),
                        delay: *delay,
                    },
                });
            }
            bindings.push(BindingSpec {
                exchange: name(exchange),
                queue: work.clone(),
                routing_key: key.to_owned(),
            });
            bindings.push(BindingSpec {
                exchange: name(DEAD_LETTER),
                queue: dlq,
                routing_key: work,
            });
        }
        Self {
            prefix: prefix.to_owned(),
            exchanges,
            queues,
            bindings,
        }
    }

    /// The name prefix this topology was built with.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Full name of the exchange Shopify events are published to.
    pub fn shopify_events(&self) -> String {
        format!("{}{SHOPIFY_EVENTS}", self.prefix)
    }

    /// Full name of the exchange Meta work is published to.
    pub fn meta_dispatch(&self) -> String {
        format!("{}{META_DISPATCH}", self.prefix)
    }

    /// Full name of the dead-letter exchange.
    pub fn dead_letter_exchange(&self) -> String {
        format!("{}{DEAD_LETTER}", self.prefix)
    }

    /// A work queue and its companions, by base name (e.g. [`SEGMENTER_QUEUE`]).
    pub fn work_queue(&self, base: &str) -> WorkQueue {
        let name = format!("{}{base}", self.prefix);
        WorkQueue {
            dlq: format!("{name}.dlq"),
            retries: (0..RETRY_DELAYS.len())
                .map(|tier| format!("{name}.retry.{tier}"))
                .collect(),
            name,
        }
    }

    /// The arguments a queue is declared with. Quorum queues everywhere: they survive a
    /// broker restart, and on this broker (3.10) they are also faster than classic durable
    /// queues for persistent messages.
    pub fn queue_arguments(&self, queue: &QueueSpec) -> Vec<(&'static str, ArgValue)> {
        let mut args = vec![("x-queue-type", ArgValue::Str("quorum".into()))];
        match &queue.role {
            QueueRole::Work => {
                // Quorum dead-lettering is at-most-once unless at-least-once is asked for,
                // which in turn requires `reject-publish` overflow
                // (https://www.rabbitmq.com/docs/quorum-queues#dead-lettering).
                args.push((
                    "x-dead-letter-exchange",
                    ArgValue::Str(self.dead_letter_exchange()),
                ));
                args.push((
                    "x-dead-letter-routing-key",
                    ArgValue::Str(queue.name.clone()),
                ));
                args.push((
                    "x-dead-letter-strategy",
                    ArgValue::Str("at-least-once".into()),
                ));
                args.push(("x-overflow", ArgValue::Str("reject-publish".into())));
                args.push(("x-delivery-limit", ArgValue::Int(i64::from(DELIVERY_LIMIT))));
            }
            QueueRole::Retry { target, delay } => {
                // Expired messages go back to the work queue through the default exchange,
                // whose routing key is the queue name.
                let ttl = i64::try_from(delay.as_millis()).unwrap_or(i64::MAX);
                args.push(("x-message-ttl", ArgValue::Int(ttl)));
                args.push(("x-dead-letter-exchange", ArgValue::Str(String::new())));
                args.push(("x-dead-letter-routing-key", ArgValue::Str(target.clone())));
                args.push((
                    "x-dead-letter-strategy",
                    ArgValue::Str("at-least-once".into()),
                ));
                args.push(("x-overflow", ArgValue::Str("reject-publish".into())));
            }
            QueueRole::DeadLetter => {}
        }
        args
    }

    /// Every queue name, for tests and tools that clean up after themselves.
    pub fn queue_names(&self) -> impl Iterator<Item = &str> {
        self.queues.iter().map(|q| q.name.as_str())
    }
}

/// The routing key ingest publishes a Shopify topic under: `shopify.` + the topic with `/`
/// replaced by `.` (`orders/create` → `shopify.orders.create`).
pub fn shopify_routing_key(topic: &str) -> String {
    format!("shopify.{}", topic.replace('/', "."))
}

/// Whether a topic-exchange binding pattern matches a routing key (`*` one word, `#` zero or
/// more words), as RabbitMQ defines it. Used to check the topology, not to route.
pub fn topic_matches(pattern: &str, key: &str) -> bool {
    fn go(p: &[&str], k: &[&str]) -> bool {
        match (p.first(), k.first()) {
            (None, None) => true,
            (Some(&"#"), _) => go(&p[1..], k) || (!k.is_empty() && go(p, &k[1..])),
            (Some(&"*"), Some(_)) => go(&p[1..], &k[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &k[1..]),
            _ => false,
        }
    }
    let p: Vec<&str> = pattern.split('.').collect();
    let k: Vec<&str> = key.split('.').collect();
    go(&p, &k)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bound_queues(t: &Topology, exchange: &str, key: &str) -> Vec<String> {
        let kind = t
            .exchanges
            .iter()
            .find(|e| e.name == exchange)
            .map(|e| e.kind);
        t.bindings
            .iter()
            .filter(|b| b.exchange == exchange)
            .filter(|b| match kind {
                Some(ExchangeKind::Topic) => topic_matches(&b.routing_key, key),
                _ => b.routing_key == key,
            })
            .map(|b| b.queue.clone())
            .collect()
    }

    #[test]
    fn every_shopify_routing_key_reaches_the_segmenter_queue() {
        let t = Topology::new("p.");
        for topic in [
            "orders/create",
            "customers/redact",
            "shop/redact",
            "app/uninstalled",
        ] {
            let key = shopify_routing_key(topic);
            assert_eq!(
                bound_queues(&t, "p.shopify.events", &key),
                vec!["p.segmenter.store-events"]
            );
        }
    }

    #[test]
    fn meta_routing_keys_reach_one_queue_each() {
        let t = Topology::new("");
        assert_eq!(
            bound_queues(&t, "meta.dispatch", CAPI_ROUTING_KEY),
            vec!["meta.capi"]
        );
        assert_eq!(
            bound_queues(&t, "meta.dispatch", AUDIENCE_ROUTING_KEY),
            vec!["meta.audience"]
        );
    }

    #[test]
    fn every_work_queue_dead_letters_to_its_own_dlq() {
        let t = Topology::new("x.");
        for q in t.queues.iter().filter(|q| q.role == QueueRole::Work) {
            let args = t.queue_arguments(q);
            let key = args
                .iter()
                .find(|(k, _)| *k == "x-dead-letter-routing-key")
                .map(|(_, v)| v);
            assert_eq!(key, Some(&ArgValue::Str(q.name.clone())));
            assert_eq!(
                bound_queues(&t, "x.audience-sync.dlx", &q.name),
                vec![format!("{}.dlq", q.name)]
            );
            assert!(args.contains(&(
                "x-dead-letter-strategy",
                ArgValue::Str("at-least-once".into())
            )));
        }
    }

    #[test]
    fn retry_tiers_return_to_their_work_queue_and_cap_at_the_last_tier() {
        let t = Topology::new("");
        let wq = t.work_queue(META_CAPI_QUEUE);
        assert_eq!(wq.retry_queue(0), "meta.capi.retry.0");
        assert_eq!(wq.retry_queue(99), "meta.capi.retry.3");
        let retry = t
            .queues
            .iter()
            .find(|q| q.name == "meta.capi.retry.1")
            .map(|q| t.queue_arguments(q));
        let retry = retry.unwrap_or_default();
        assert!(retry.contains(&("x-message-ttl", ArgValue::Int(30_000))));
        assert!(retry.contains(&(
            "x-dead-letter-routing-key",
            ArgValue::Str("meta.capi".into())
        )));
        assert!(retry.contains(&("x-dead-letter-exchange", ArgValue::Str(String::new()))));
    }

    #[test]
    fn topic_patterns_follow_rabbitmq_rules() {
        assert!(topic_matches("shopify.#", "shopify.orders.create"));
        assert!(topic_matches("shopify.*.create", "shopify.orders.create"));
        assert!(!topic_matches("shopify.*", "shopify.orders.create"));
        assert!(topic_matches("#", "anything.at.all"));
        assert!(!topic_matches("meta.#", "shopify.orders"));
    }
}
