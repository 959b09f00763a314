//! `orders` and `refunds`: bulk loads and writes.

use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt};
use diesel::upsert::excluded;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::models::{OrderRow, RefundRow};
use crate::db::schema::{orders, refunds};
use crate::state::Key;

/// Rows per multi-row statement.
const CHUNK: usize = 1000;

/// The orders with these (shop, order id) keys.
pub async fn load_by_ids(conn: &mut AsyncPgConnection, keys: &[Key]) -> QueryResult<Vec<OrderRow>> {
    load_keyed(conn, include_str!("sql/load_orders_by_id.sql"), keys).await
}

/// Every order of these (shop, customer id) keys.
pub async fn load_by_customers(
    conn: &mut AsyncPgConnection,
    keys: &[Key],
) -> QueryResult<Vec<OrderRow>> {
    load_keyed(conn, include_str!("sql/load_orders_by_customer.sql"), keys).await
}

/// Every refund of these (shop, order id) keys.
pub async fn load_refunds(
    conn: &mut AsyncPgConnection,
    keys: &[Key],
) -> QueryResult<Vec<RefundRow>> {
    load_keyed(conn, include_str!("sql/load_refunds_by_order.sql"), keys).await
}

async fn load_keyed<T>(
    conn: &mut AsyncPgConnection,
    sql: &'static str,
    keys: &[Key],
) -> QueryResult<Vec<T>>
where
    T: QueryableByName<diesel::pg::Pg> + Send + 'static,
{
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let (shops, ids): (Vec<i64>, Vec<i64>) = keys.iter().copied().unzip();
    diesel::sql_query(sql)
        .bind::<Array<BigInt>, _>(shops)
        .bind::<Array<BigInt>, _>(ids)
        .load(conn)
        .await
}

/// Inserts or replaces orders (all columns but `first_seen_at`).
pub async fn upsert(conn: &mut AsyncPgConnection, rows: &[OrderRow]) -> QueryResult<()> {
    for chunk in rows.chunks(CHUNK) {
        diesel::insert_into(orders::table)
            .values(chunk)
            .on_conflict((orders::shop_id, orders::order_id))
            .do_update()
            .set((
                orders::customer_id.eq(excluded(orders::customer_id)),
                orders::test.eq(excluded(orders::test)),
                orders::cancelled_at.eq(excluded(orders::cancelled_at)),
                orders::financial_status.eq(excluded(orders::financial_status)),
                orders::source_name.eq(excluded(orders::source_name)),
                orders::currency.eq(excluded(orders::currency)),
                orders::total_price.eq(excluded(orders::total_price)),
                orders::presentment_currency.eq(excluded(orders::presentment_currency)),
                orders::presentment_total_price.eq(excluded(orders::presentment_total_price)),
                orders::ordered_at.eq(excluded(orders::ordered_at)),
                orders::record_updated_at.eq(excluded(orders::record_updated_at)),
                orders::purchase_emitted_at.eq(excluded(orders::purchase_emitted_at)),
                orders::updated_at.eq(excluded(orders::updated_at)),
            ))
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// Inserts refunds; a refund id already stored is left as it is.
pub async fn insert_refunds(conn: &mut AsyncPgConnection, rows: &[RefundRow]) -> QueryResult<()> {
    for chunk in rows.chunks(CHUNK) {
        diesel::insert_into(refunds::table)
            .values(chunk)
            .on_conflict((refunds::shop_id, refunds::refund_id))
            .do_nothing()
            .execute(conn)
            .await?;
    }
    Ok(())
}
