//! `outbox`: messages for `meta.dispatch`, written in the same transaction as the state change
//! that caused them, and deleted once the broker confirmed them.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::models::{NewOutboxRow, OutboxRow};
use crate::db::schema::outbox;

/// Rows per multi-row statement.
const CHUNK: usize = 2000;

/// Appends messages.
pub async fn insert(conn: &mut AsyncPgConnection, rows: &[NewOutboxRow]) -> QueryResult<()> {
    for chunk in rows.chunks(CHUNK) {
        diesel::insert_into(outbox::table)
            .values(chunk)
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// Up to `limit` of the oldest rows, locked for this transaction; rows another relay holds are
/// skipped (`FOR UPDATE SKIP LOCKED`), so that relays of several replicas share the work.
pub async fn lock_oldest(conn: &mut AsyncPgConnection, limit: i64) -> QueryResult<Vec<OutboxRow>> {
    outbox::table
        .order(outbox::outbox_id)
        .limit(limit)
        .for_update()
        .skip_locked()
        .select(OutboxRow::as_select())
        .load(conn)
        .await
}

/// Deletes published rows.
pub async fn delete(conn: &mut AsyncPgConnection, ids: &[i64]) -> QueryResult<usize> {
    if ids.is_empty() {
        return Ok(0);
    }
    diesel::delete(outbox::table.filter(outbox::outbox_id.eq_any(ids)))
        .execute(conn)
        .await
}

/// Deletes what is still pending for a shop (it was uninstalled).
pub async fn delete_for_shop(conn: &mut AsyncPgConnection, shop_id: i64) -> QueryResult<usize> {
    diesel::delete(outbox::table.filter(outbox::shop_id.eq(shop_id)))
        .execute(conn)
        .await
}

/// Deletes what is still pending for a customer (they are being erased).
pub async fn delete_for_customer(
    conn: &mut AsyncPgConnection,
    shop_id: i64,
    customer_id: i64,
) -> QueryResult<usize> {
    diesel::delete(
        outbox::table
            .filter(outbox::shop_id.eq(shop_id))
            .filter(outbox::customer_id.eq(customer_id)),
    )
    .execute(conn)
    .await
}

/// How many rows wait to be published.
pub async fn pending(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
    outbox::table.count().get_result(conn).await
}
