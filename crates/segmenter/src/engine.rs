//! The batch engine: applies many state messages (customers, orders, refunds) in ONE database
//! transaction, each of them atomically.
//!
//! Per batch, in one transaction:
//! 1. the shops are read (created with default settings if new);
//! 2. advisory locks are taken on every order, then every customer the batch touches
//!    ([`crate::db::locks`]), so that replicas serialize per customer;
//! 3. the message ids are claimed in `processed_messages` (a redelivered id is skipped);
//! 4. the working set is loaded in bulk: those customers, all their orders, the orders the
//!    messages name, their refunds, and the tombstones;
//! 5. each message is applied in order by its handler, inside a working-set "savepoint": a
//!    message that fails is rolled back (and its claim released) while the others stand;
//! 6. the changed rows, the transitions and the outbox messages are written in bulk.
//!
//! A failed message never leaves a trace; a database error fails the whole batch (nothing of
//! it is committed) and the consumer then applies the messages one by one to isolate the
//! culprit. The sweep reuses steps 2, 4 and 6 for the customers that time moved.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::Duration;

use audience_core::envelope::Envelope;
use audience_core::events::StoreEvent;
use chrono::{DateTime, Utc};
use diesel::QueryResult;
use diesel_async::{AsyncConnection, AsyncPgConnection};

use crate::db;
use crate::db::models::{
    CustomerRow, NewOutboxRow, NewTransitionRow, OrderRow, RefundRow, ShopRow,
};
use crate::error::MessageError;
use crate::handlers::{self, Applied, MessageContext, SkipReason, db_id};
use crate::reclassify::{Cause, reclassify};
use crate::state::{Key, Shop, Subject, WorkingSet};

/// The result of applying one message.
pub type MessageResult = Result<Applied, MessageError>;

/// What the sweep changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepCount {
    /// Customers looked at.
    pub examined: usize,
    /// Segment transitions written.
    pub transitions: usize,
}

/// The ids a message names (for locking and loading).
#[derive(Debug, Clone, Copy, Default)]
struct Ids {
    customer: Option<i64>,
    order: Option<i64>,
}

fn ids_of(event: &StoreEvent) -> Result<Ids, MessageError> {
    Ok(match event {
        StoreEvent::Customer(e) => Ids {
            customer: Some(db_id(e.customer_id, "customer id")?),
            order: None,
        },
        StoreEvent::Order(e) => Ids {
            customer: e
                .customer_id
                .map(|id| db_id(id, "customer id"))
                .transpose()?,
            order: Some(db_id(e.order_id, "order id")?),
        },
        StoreEvent::Refund(e) => Ids {
            customer: None,
            order: Some(db_id(e.order_id, "order id")?),
        },
        _ => Ids::default(),
    })
}

/// When Shopify triggered the message (else when ingest received it).
pub fn triggered_at(envelope: &Envelope<StoreEvent>) -> DateTime<Utc> {
    envelope.triggered_at.unwrap_or(envelope.received_at)
}

/// Applies state messages (all [`handlers::is_state_event`]) in one transaction; one result per
/// message, in order. An `Err` means nothing was committed.
pub async fn apply_batch(
    conn: &mut AsyncPgConnection,
    messages: &[&Envelope<StoreEvent>],
    now: DateTime<Utc>,
    lock_timeout: Duration,
) -> QueryResult<Vec<MessageResult>> {
    conn.transaction::<_, diesel::result::Error, _>(async |conn| {
        db::set_lock_timeout(conn, lock_timeout).await?;
        apply_in_transaction(conn, messages, now).await
    })
    .await
}

async fn apply_in_transaction(
    conn: &mut AsyncPgConnection,
    messages: &[&Envelope<StoreEvent>],
    now: DateTime<Utc>,
) -> QueryResult<Vec<MessageResult>> {
    let started = std::time::Instant::now();
    // 1. Shops.
    let domains: Vec<String> = messages
        .iter()
        .map(|m| m.shop_domain.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let shop_rows = db::shops::ensure(conn, &domains).await?;
    let mut shop_ids: HashMap<String, Result<i64, String>> = HashMap::new();
    let mut shops = Vec::new();
    for row in shop_rows {
        let domain = row.shop_domain.clone();
        match Shop::try_from(row) {
            Ok(shop) => {
                shop_ids.insert(domain, Ok(shop.id));
                shops.push(shop);
            }
            Err(error) => {
                shop_ids.insert(domain, Err(error.to_string()));
            }
        }
    }

    // 2 + 4. Locks and the working set.
    let plans: Vec<Result<(i64, Ids), MessageError>> = messages
        .iter()
        .map(|m| {
            let shop_id = match shop_ids.get(&m.shop_domain) {
                Some(Ok(id)) => *id,
                Some(Err(reason)) => return Err(MessageError::Invalid(reason.clone())),
                None => {
                    return Err(MessageError::Invalid(format!(
                        "shop {} was not created",
                        m.shop_domain
                    )));
                }
            };
            Ok((shop_id, ids_of(&m.payload)?))
        })
        .collect();
    let mut order_keys = Vec::new();
    let mut customer_keys = Vec::new();
    for (shop_id, ids) in plans.iter().flatten() {
        if let Some(order) = ids.order {
            order_keys.push((*shop_id, order));
        }
        if let Some(customer) = ids.customer {
            customer_keys.push((*shop_id, customer));
        }
    }
    let mut ws = load_working_set(conn, shops, order_keys, customer_keys).await?;
    // 3. Claims, after the locks: a transaction waiting for a lock holds no claim that
    // another one (with a duplicate of its message) could be waiting for.
    let ids: Vec<String> = messages
        .iter()
        .map(|m| m.message_id.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut claimed = db::processed::claim(conn, ids).await?;

    let loaded = started.elapsed();

    // 5. Apply, one "savepoint" per message.
    let mut results = Vec::with_capacity(messages.len());
    let mut released = Vec::new();
    for (envelope, plan) in messages.iter().zip(plans) {
        if !claimed.remove(&envelope.message_id) {
            results.push(Ok(Applied::Skipped(SkipReason::Duplicate)));
            continue;
        }
        let result = match plan {
            Err(error) => Err(error),
            Ok((shop_id, _)) => apply_one(&mut ws, shop_id, envelope, now),
        };
        if result.is_err() {
            released.push(envelope.message_id.clone());
        }
        results.push(result);
    }

    let applied = started.elapsed();

    // 6. Write back.
    write_working_set(conn, &ws, now).await?;
    db::processed::unclaim(conn, &released).await?;
    tracing::debug!(
        messages = messages.len(),
        outbox = ws.outbox().len(),
        load_ms = loaded.as_secs_f64() * 1e3,
        apply_ms = (applied - loaded).as_secs_f64() * 1e3,
        write_ms = (started.elapsed() - applied).as_secs_f64() * 1e3,
        "Batch applied (before commit)."
    );
    Ok(results)
}

fn apply_one(
    ws: &mut WorkingSet,
    shop_id: i64,
    envelope: &Envelope<StoreEvent>,
    now: DateTime<Utc>,
) -> MessageResult {
    let Some(shop) = ws.shop(shop_id).cloned() else {
        return Err(MessageError::Invalid(format!(
            "shop {shop_id} is not loaded"
        )));
    };
    if !shop.active_at(triggered_at(envelope)) {
        return Ok(Applied::Skipped(SkipReason::ShopInactive));
    }
    ws.begin();
    if shop.inactive() {
        // Triggered after the uninstall or redaction: the app was installed again.
        tracing::info!(shop = %shop.domain, "Shop is active again (an event was triggered after its uninstall).");
        ws.put_shop(Shop {
            uninstalled_at: None,
            redacted_at: None,
            ..shop
        });
    }
    let ctx = MessageContext {
        shop_id,
        message_id: &envelope.message_id,
        topic: &envelope.topic,
        now,
    };
    let result = handlers::apply(ws, &ctx, &envelope.payload);
    if result.is_err() {
        ws.rollback();
    }
    result
}

/// Locks and loads everything needed to recompute the given customers and orders: the order
/// locks, the orders, then the customer locks (including the orders' customers), the
/// customers, all their orders, every refund of those orders, and the tombstones.
async fn load_working_set(
    conn: &mut AsyncPgConnection,
    shops: Vec<Shop>,
    order_keys: Vec<Key>,
    customer_keys: Vec<Key>,
) -> QueryResult<WorkingSet> {
    let mut ws = WorkingSet::new();
    for shop in shops {
        ws.load_shop(shop);
    }
    let order_keys = dedup(order_keys);
    db::locks::lock_all(
        conn,
        order_keys
            .iter()
            .map(|(s, o)| db::locks::lock_key(*s, Subject::Order, *o))
            .collect(),
    )
    .await?;
    let named_orders = db::orders::load_by_ids(conn, &order_keys).await?;
    let mut customer_keys = customer_keys;
    customer_keys.extend(
        named_orders
            .iter()
            .filter_map(|o| o.customer_id.map(|c| (o.shop_id, c))),
    );
    let customer_keys = dedup(customer_keys);
    db::locks::lock_all(
        conn,
        customer_keys
            .iter()
            .map(|(s, c)| db::locks::lock_key(*s, Subject::Customer, *c))
            .collect(),
    )
    .await?;
    let customers = db::customers::load(conn, &customer_keys).await?;
    let their_orders = db::orders::load_by_customers(conn, &customer_keys).await?;
    let mut all_order_keys: Vec<Key> = order_keys.clone();
    for row in named_orders.iter().chain(their_orders.iter()) {
        all_order_keys.push((row.shop_id, row.order_id));
    }
    let all_order_keys = dedup(all_order_keys);
    let refunds = db::orders::load_refunds(conn, &all_order_keys).await?;
    let mut tomb_keys: Vec<(i64, Subject, i64)> = Vec::new();
    tomb_keys.extend(
        customer_keys
            .iter()
            .map(|(s, c)| (*s, Subject::Customer, *c)),
    );
    tomb_keys.extend(order_keys.iter().map(|(s, o)| (*s, Subject::Order, *o)));
    let tombstones = db::tombstones::load(conn, &tomb_keys).await?;

    for row in named_orders.into_iter().chain(their_orders) {
        let shop_id = row.shop_id;
        ws.load_order(shop_id, row.into_order());
    }
    for row in customers {
        let shop_id = row.shop_id;
        let customer = row
            .into_customer()
            .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))?;
        ws.load_customer(shop_id, customer);
    }
    for row in refunds {
        let shop_id = row.shop_id;
        ws.load_refund(shop_id, row.into_refund());
    }
    for row in tombstones {
        if let Some(subject) = Subject::parse(&row.subject) {
            ws.load_tombstone(row.shop_id, subject, row.subject_id);
        }
    }
    Ok(ws)
}

/// Writes the working set's changes: shops, customers, orders, new refunds, transitions and
/// outbox messages.
async fn write_working_set(
    conn: &mut AsyncPgConnection,
    ws: &WorkingSet,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    for shop in ws.dirty_shops() {
        db::shops::update_state(conn, shop, now).await?;
    }
    let customers: Vec<CustomerRow> = ws
        .dirty_customers()
        .filter_map(|(shop_id, c)| CustomerRow::from_customer(shop_id, c, now))
        .collect();
    db::customers::upsert(conn, &customers).await?;
    let orders: Vec<OrderRow> = ws
        .dirty_orders()
        .map(|(shop_id, o)| OrderRow::from_order(shop_id, o, now))
        .collect();
    db::orders::upsert(conn, &orders).await?;
    let refunds: Vec<RefundRow> = ws
        .new_refunds()
        .map(|(shop_id, r)| RefundRow::from_refund(shop_id, r))
        .collect();
    db::orders::insert_refunds(conn, &refunds).await?;
    let transitions: Vec<NewTransitionRow> = ws
        .transitions()
        .iter()
        .map(NewTransitionRow::from_transition)
        .collect();
    db::transitions::insert(conn, &transitions).await?;
    let mut outbox = Vec::with_capacity(ws.outbox().len());
    for message in ws.outbox() {
        let payload = serde_json::to_string(&message.message)
            .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
        let shop_domain = ws
            .shop(message.shop_id)
            .map(|s| s.domain.clone())
            .unwrap_or_default();
        outbox.push(NewOutboxRow {
            shop_id: message.shop_id,
            shop_domain,
            customer_id: message.customer_id,
            topic: message.message.topic().to_owned(),
            payload,
        });
    }
    db::outbox::insert(conn, &outbox).await
}

/// Reclassifies customers at `now` (the time sweep) in one transaction; returns what changed.
pub async fn reclassify_customers(
    conn: &mut AsyncPgConnection,
    keys: &[Key],
    now: DateTime<Utc>,
    lock_timeout: Duration,
) -> QueryResult<SweepCount> {
    conn.transaction::<_, diesel::result::Error, _>(async |conn| {
        db::set_lock_timeout(conn, lock_timeout).await?;
        let shop_ids: Vec<i64> = keys.iter().map(|k| k.0).collect::<HashSet<_>>().into_iter().collect();
        let shop_rows: Vec<ShopRow> = db::shops::by_ids(conn, &shop_ids).await?;
        let shops: Vec<Shop> = shop_rows.into_iter().filter_map(|row| Shop::try_from(row).ok()).collect();
        let mut ws = load_working_set(conn, shops, Vec::new(), keys.to_vec()).await?;
        let mut count = SweepCount::default();
        for &(shop_id, customer_id) in keys {
            let active = ws.shop(shop_id).is_some_and(|s| !s.inactive());
            if !active || ws.customer((shop_id, customer_id)).is_none() {
                continue;
            }
            count.examined += 1;
            ws.begin();
            let cause = Cause { label: "sweep", message_id: None, now };
            if let Err(error) = reclassify(&mut ws, shop_id, customer_id, cause, None) {
                tracing::warn!(shop_id, error.message = %error, "Sweep cannot reclassify a customer.");
                ws.rollback();
            }
        }
        count.transitions = ws.transitions().len();
        write_working_set(conn, &ws, now).await?;
        Ok(count)
    })
    .await
}

fn dedup(mut keys: Vec<Key>) -> Vec<Key> {
    keys.sort_unstable();
    keys.dedup();
    keys
}
