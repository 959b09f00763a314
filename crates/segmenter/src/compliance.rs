//! The compliance topics and the shop lifecycle, each in a transaction of its own:
//!
//! - `customers/delete` and `customers/redact`: every row of the customer is deleted (their
//!   orders and refunds, segment history, pending outbox rows, data-request exports); a
//!   tombstone keeps the id, and nothing else, so that later events for it change nothing; and
//!   the customer leaves every audience they were in (removal messages, with the keys they were
//!   added with). `customers/redact` also erases the listed `orders_to_redact` (tombstoned too),
//!   and finds the customer by hashed email or phone when the request names no id. Removals are
//!   sent even for an uninstalled shop: erasure is owed to the customer.
//! - `shop/redact`: every row of the shop is deleted; the shop row stays, marked redacted, as
//!   the shop's tombstone (domain and settings only). Events triggered before the redaction are
//!   ignored; one triggered after it means the app was installed again.
//! - `customers/data_request`: a JSON export of what is held about the customer (hashes and
//!   derived figures only) is stored in `data_requests` for the operator.
//! - `app/uninstalled`: the shop is marked uninstalled and its pending outbox rows are
//!   dropped; until an event triggered after the uninstall shows a reinstall, its events change
//!   nothing and nothing is dispatched for it.

use std::time::Duration;

use audience_core::dispatch::{Audience, AudienceAction};
use audience_core::envelope::Envelope;
use audience_core::events::{CustomerDataRequestEvent, CustomerRedactEvent, StoreEvent, UserData};
use chrono::{DateTime, Utc};
use diesel::QueryResult;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde_json::json;

use crate::db;
use crate::db::models::{NewDataRequestRow, NewOutboxRow, ShopRow};
use crate::engine::{MessageResult, triggered_at};
use crate::error::MessageError;
use crate::handlers::{Applied, SkipReason, db_id};
use crate::reclassify::audience_change;
use crate::state::Subject;

enum TxError {
    Db(diesel::result::Error),
    Message(MessageError),
}

impl From<diesel::result::Error> for TxError {
    fn from(error: diesel::result::Error) -> Self {
        TxError::Db(error)
    }
}

impl From<MessageError> for TxError {
    fn from(error: MessageError) -> Self {
        TxError::Message(error)
    }
}

impl std::fmt::Debug for TxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TxError::Db(e) => write!(f, "{e:?}"),
            TxError::Message(e) => write!(f, "{e:?}"),
        }
    }
}

/// Applies one compliance or lifecycle message in its own transaction. A `MessageError`
/// rolls the transaction back (nothing of the message stays).
pub async fn apply(
    conn: &mut AsyncPgConnection,
    envelope: &Envelope<StoreEvent>,
    now: DateTime<Utc>,
    lock_timeout: Duration,
) -> QueryResult<MessageResult> {
    let outcome = conn
        .transaction::<_, TxError, _>(async |conn| {
            db::set_lock_timeout(conn, lock_timeout).await?;
            apply_in_transaction(conn, envelope, now).await
        })
        .await;
    match outcome {
        Ok(applied) => Ok(Ok(applied)),
        Err(TxError::Message(error)) => Ok(Err(error)),
        Err(TxError::Db(error)) => Err(error),
    }
}

async fn apply_in_transaction(
    conn: &mut AsyncPgConnection,
    envelope: &Envelope<StoreEvent>,
    now: DateTime<Utc>,
) -> Result<Applied, TxError> {
    let rows = db::shops::ensure(conn, std::slice::from_ref(&envelope.shop_domain)).await?;
    let shop: ShopRow = rows.into_iter().next().ok_or_else(|| {
        MessageError::Invalid(format!("shop {} was not created", envelope.shop_domain))
    })?;
    if db::processed::claim(conn, vec![envelope.message_id.clone()])
        .await?
        .is_empty()
    {
        return Ok(Applied::Skipped(SkipReason::Duplicate));
    }
    let shop_id = shop.shop_id;
    match &envelope.payload {
        StoreEvent::CustomerDeleted { customer_id } => {
            let id = db_id(*customer_id, "customer id")?;
            erase_customer(conn, &shop, id).await?;
            tracing::info!(shop = %shop.shop_domain, "Customer deleted: rows erased, tombstone kept.");
        }
        StoreEvent::CustomerRedact(event) => {
            let erased = redact_customer(conn, &shop, event).await?;
            tracing::info!(shop = %shop.shop_domain, customers = erased, orders = event.orders_to_redact.len(), "Customer redacted.");
        }
        StoreEvent::ShopRedact(event) => {
            db::compliance::redact_shop(conn, shop_id, now).await?;
            if let Ok(id) = i64::try_from(event.shop_id) {
                db::compliance::mark_shopify_id(conn, shop_id, id).await?;
            }
            tracing::info!(shop = %shop.shop_domain, "Shop redacted: every row of the shop erased.");
        }
        StoreEvent::AppUninstalled(event) => {
            let at = triggered_at(envelope);
            let dropped = db::outbox::delete_for_shop(conn, shop_id).await?;
            db::compliance::mark_uninstalled(conn, shop_id, at, i64::try_from(event.shop_id).ok())
                .await?;
            tracing::info!(shop = %shop.shop_domain, dropped_outbox_rows = dropped, "Shop uninstalled: dispatch stopped.");
        }
        StoreEvent::CustomerDataRequest(event) => {
            let row_id = export_customer(conn, &shop, envelope, event, now).await?;
            tracing::info!(shop = %shop.shop_domain, data_request_row_id = row_id, "Customer data request exported.");
        }
        other => {
            return Err(MessageError::Invalid(format!(
                "{} is not a compliance event",
                crate::handlers::kind(other)
            ))
            .into());
        }
    }
    Ok(Applied::Changed)
}

/// Erases one customer: rows deleted, tombstones written, removals queued.
async fn erase_customer(
    conn: &mut AsyncPgConnection,
    shop: &ShopRow,
    customer_id: i64,
) -> Result<(), TxError> {
    db::locks::lock_all(
        conn,
        vec![db::locks::lock_key(
            shop.shop_id,
            Subject::Customer,
            customer_id,
        )],
    )
    .await?;
    let erased = db::compliance::erase_customer(conn, shop.shop_id, customer_id).await?;
    if let Some(row) = erased.customer {
        let user: UserData = serde_json::from_value(row.user_data).map_err(|e| {
            MessageError::Invalid(format!("stored keys of the customer cannot be read: {e}"))
        })?;
        let audiences: Vec<Audience> = serde_json::from_value(row.audiences).map_err(|e| {
            MessageError::Invalid(format!(
                "stored audiences of the customer cannot be read: {e}"
            ))
        })?;
        let mut removals = Vec::with_capacity(audiences.len());
        for audience in audiences {
            let message = audience_change(
                &shop.shop_domain,
                shop.shop_id,
                customer_id,
                audience,
                AudienceAction::Remove,
                &user,
            )?;
            let payload = serde_json::to_string(&message.message)
                .map_err(|e| MessageError::Invalid(format!("removal cannot be serialized: {e}")))?;
            removals.push(NewOutboxRow {
                shop_id: shop.shop_id,
                shop_domain: shop.shop_domain.clone(),
                customer_id: Some(customer_id),
                topic: message.message.topic().to_owned(),
                payload,
            });
        }
        db::outbox::insert(conn, &removals).await?;
    }
    db::tombstones::insert(conn, shop.shop_id, Subject::Customer, &[customer_id]).await?;
    db::tombstones::insert(conn, shop.shop_id, Subject::Order, &erased.order_ids).await?;
    Ok(())
}

/// The customers a compliance request names: its customer id, else every customer of the shop
/// whose hashed email or phone matches the request's.
async fn named_customers(
    conn: &mut AsyncPgConnection,
    shop: &ShopRow,
    customer_id: Option<u64>,
    user_data: &UserData,
) -> Result<Vec<i64>, TxError> {
    if let Some(id) = customer_id {
        return Ok(vec![db_id(id, "customer id")?]);
    }
    let emails = user_data.em.iter().map(|h| h.as_str().to_owned()).collect();
    let phones = user_data.ph.iter().map(|h| h.as_str().to_owned()).collect();
    Ok(db::compliance::customers_by_hashes(conn, shop.shop_id, emails, phones).await?)
}

/// `customers/redact`: the named customer (or those matching the hashed email or phone) and the
/// listed orders. Returns how many customers were erased.
async fn redact_customer(
    conn: &mut AsyncPgConnection,
    shop: &ShopRow,
    event: &CustomerRedactEvent,
) -> Result<usize, TxError> {
    let customers = named_customers(conn, shop, event.customer_id, &event.user_data).await?;
    for customer_id in &customers {
        erase_customer(conn, shop, *customer_id).await?;
    }
    let orders = event
        .orders_to_redact
        .iter()
        .map(|id| db_id(*id, "order id"))
        .collect::<Result<Vec<_>, _>>()?;
    db::compliance::erase_orders(conn, shop.shop_id, &orders).await?;
    db::tombstones::insert(conn, shop.shop_id, Subject::Order, &orders).await?;
    Ok(customers.len())
}

/// `customers/data_request`: stores the export; returns its row id.
async fn export_customer(
    conn: &mut AsyncPgConnection,
    shop: &ShopRow,
    envelope: &Envelope<StoreEvent>,
    event: &CustomerDataRequestEvent,
    now: DateTime<Utc>,
) -> Result<i64, TxError> {
    let customers = named_customers(conn, shop, event.customer_id, &event.user_data).await?;
    let mut held = Vec::with_capacity(customers.len());
    for customer_id in &customers {
        let h = db::compliance::held_about(conn, shop.shop_id, *customer_id).await?;
        held.push(json!({
            "customer_id": customer_id,
            "tombstoned": h.tombstoned,
            "customer": h.customer.map(|c| json!({
                "hashed_match_keys": c.user_data,
                "email_marketing_consent": c.email_marketing_consent,
                "sms_marketing_consent": c.sms_marketing_consent,
                "segment": c.segment,
                "segment_since": c.segment_since,
                "counted_orders": c.orders_count,
                "spent": c.spent.0.to_string(),
                "first_order_at": c.first_order_at,
                "last_order_at": c.last_order_at,
                "audiences": c.audiences,
                "first_seen_at": c.first_seen_at,
            })),
            "orders": h.orders.iter().map(|o| json!({
                "order_id": o.order_id,
                "ordered_at": o.ordered_at,
                "test": o.test,
                "cancelled_at": o.cancelled_at,
                "financial_status": o.financial_status,
                "source_name": o.source_name,
                "currency": o.currency,
                "total_price": o.total_price.0.to_string(),
                "purchase_sent_to_meta_at": o.purchase_emitted_at,
            })).collect::<Vec<_>>(),
            "refunds": h.refunds.iter().map(|r| json!({
                "refund_id": r.refund_id,
                "order_id": r.order_id,
                "amount": r.amount.0.to_string(),
                "currency": r.currency,
                "shop_amount": r.shop_amount.map(|a| a.0.to_string()),
                "refunded_at": r.refunded_at,
            })).collect::<Vec<_>>(),
            "segment_history": h.transitions.iter().map(|(from, to, cause, at)| json!({
                "from": from, "to": to, "cause": cause, "at": at,
            })).collect::<Vec<_>>(),
        }));
    }
    let export = json!({
        "shop_domain": shop.shop_domain,
        "generated_at": now,
        "data_request_id": event.data_request_id,
        "customer_id": event.customer_id,
        "orders_requested": event.orders_requested,
        "note": "audience-sync stores no raw personal data: contact data exists only as SHA-256 hashes (Meta's normalization).",
        "customers": held,
    });
    let row = NewDataRequestRow {
        shop_id: shop.shop_id,
        customer_id: event.customer_id.and_then(|id| i64::try_from(id).ok()),
        data_request_id: event.data_request_id.and_then(|id| i64::try_from(id).ok()),
        message_id: envelope.message_id.clone(),
        export,
    };
    Ok(db::compliance::insert_data_request(conn, &row).await?)
}
