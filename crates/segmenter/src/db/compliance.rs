//! The rows the compliance topics delete, mark or export.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::models::{CustomerRow, NewDataRequestRow, OrderRow, RefundRow};
use crate::db::schema::{
    customers, data_requests, orders, outbox, refunds, segment_transitions, shops, tombstones,
};

/// What erasing a customer removed.
#[derive(Debug)]
pub struct Erased {
    /// The customer row, if there was one (its audiences and keys are needed for removals).
    pub customer: Option<CustomerRow>,
    /// The ids of the orders deleted with it.
    pub order_ids: Vec<i64>,
}

/// Deletes every row about a customer: the customer, their orders and those orders' refunds,
/// their segment history, their pending outbox rows and their data-request exports.
pub async fn erase_customer(
    conn: &mut AsyncPgConnection,
    shop_id: i64,
    customer_id: i64,
) -> QueryResult<Erased> {
    let customer: Option<CustomerRow> = diesel::delete(
        customers::table
            .filter(customers::shop_id.eq(shop_id))
            .filter(customers::customer_id.eq(customer_id)),
    )
    .returning(CustomerRow::as_returning())
    .get_result(conn)
    .await
    .optional()?;
    let order_ids: Vec<i64> = diesel::delete(
        orders::table
            .filter(orders::shop_id.eq(shop_id))
            .filter(orders::customer_id.eq(customer_id)),
    )
    .returning(orders::order_id)
    .get_results(conn)
    .await?;
    delete_refunds(conn, shop_id, &order_ids).await?;
    diesel::delete(
        segment_transitions::table
            .filter(segment_transitions::shop_id.eq(shop_id))
            .filter(segment_transitions::customer_id.eq(customer_id)),
    )
    .execute(conn)
    .await?;
    diesel::delete(
        outbox::table
            .filter(outbox::shop_id.eq(shop_id))
            .filter(outbox::customer_id.eq(customer_id)),
    )
    .execute(conn)
    .await?;
    diesel::delete(
        data_requests::table
            .filter(data_requests::shop_id.eq(shop_id))
            .filter(data_requests::customer_id.eq(customer_id)),
    )
    .execute(conn)
    .await?;
    Ok(Erased {
        customer,
        order_ids,
    })
}

/// Deletes orders (and their refunds) by id.
pub async fn erase_orders(
    conn: &mut AsyncPgConnection,
    shop_id: i64,
    order_ids: &[i64],
) -> QueryResult<()> {
    if order_ids.is_empty() {
        return Ok(());
    }
    diesel::delete(
        orders::table
            .filter(orders::shop_id.eq(shop_id))
            .filter(orders::order_id.eq_any(order_ids)),
    )
    .execute(conn)
    .await?;
    delete_refunds(conn, shop_id, order_ids).await
}

async fn delete_refunds(
    conn: &mut AsyncPgConnection,
    shop_id: i64,
    order_ids: &[i64],
) -> QueryResult<()> {
    if order_ids.is_empty() {
        return Ok(());
    }
    diesel::delete(
        refunds::table
            .filter(refunds::shop_id.eq(shop_id))
            .filter(refunds::order_id.eq_any(order_ids)),
    )
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(QueryableByName)]
struct CustomerIdRow {
    #[diesel(sql_type = BigInt)]
    customer_id: i64,
}

/// Customers of a shop whose hashed emails or phones include any of the given hashes.
pub async fn customers_by_hashes(
    conn: &mut AsyncPgConnection,
    shop_id: i64,
    emails: Vec<String>,
    phones: Vec<String>,
) -> QueryResult<Vec<i64>> {
    if emails.is_empty() && phones.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<CustomerIdRow> = diesel::sql_query(include_str!("sql/customers_by_hashes.sql"))
        .bind::<BigInt, _>(shop_id)
        .bind::<Array<Text>, _>(emails)
        .bind::<Array<Text>, _>(phones)
        .load(conn)
        .await?;
    Ok(rows.into_iter().map(|r| r.customer_id).collect())
}

/// Deletes every row of a shop except the shop row, which is marked redacted and stays as the
/// shop's tombstone (it holds no personal data).
pub async fn redact_shop(
    conn: &mut AsyncPgConnection,
    shop_id: i64,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::delete(outbox::table.filter(outbox::shop_id.eq(shop_id)))
        .execute(conn)
        .await?;
    diesel::delete(data_requests::table.filter(data_requests::shop_id.eq(shop_id)))
        .execute(conn)
        .await?;
    diesel::delete(segment_transitions::table.filter(segment_transitions::shop_id.eq(shop_id)))
        .execute(conn)
        .await?;
    diesel::delete(refunds::table.filter(refunds::shop_id.eq(shop_id)))
        .execute(conn)
        .await?;
    diesel::delete(orders::table.filter(orders::shop_id.eq(shop_id)))
        .execute(conn)
        .await?;
    diesel::delete(customers::table.filter(customers::shop_id.eq(shop_id)))
        .execute(conn)
        .await?;
    diesel::delete(tombstones::table.filter(tombstones::shop_id.eq(shop_id)))
        .execute(conn)
        .await?;
    diesel::update(shops::table.filter(shops::shop_id.eq(shop_id)))
        .set((shops::redacted_at.eq(Some(at)), shops::updated_at.eq(at)))
        .execute(conn)
        .await?;
    Ok(())
}

/// Marks a shop uninstalled (and records its Shopify id when given).
pub async fn mark_uninstalled(
    conn: &mut AsyncPgConnection,
    shop_id: i64,
    at: DateTime<Utc>,
    shopify_shop_id: Option<i64>,
) -> QueryResult<()> {
    diesel::update(shops::table.filter(shops::shop_id.eq(shop_id)))
        .set((shops::uninstalled_at.eq(Some(at)), shops::updated_at.eq(at)))
        .execute(conn)
        .await?;
    if let Some(id) = shopify_shop_id {
        mark_shopify_id(conn, shop_id, id).await?;
    }
    Ok(())
}

/// Records Shopify's id of a shop.
pub async fn mark_shopify_id(
    conn: &mut AsyncPgConnection,
    shop_id: i64,
    shopify_shop_id: i64,
) -> QueryResult<()> {
    diesel::update(shops::table.filter(shops::shop_id.eq(shop_id)))
        .set(shops::shopify_shop_id.eq(Some(shopify_shop_id)))
        .execute(conn)
        .await?;
    Ok(())
}

/// Everything held about one customer, for an export.
#[derive(Debug)]
pub struct Held {
    /// The customer row.
    pub customer: Option<CustomerRow>,
    /// Their orders.
    pub orders: Vec<OrderRow>,
    /// Those orders' refunds.
    pub refunds: Vec<RefundRow>,
    /// Their segment history: (from, to, cause, when).
    pub transitions: Vec<(Option<String>, String, String, DateTime<Utc>)>,
    /// Whether a tombstone covers the id.
    pub tombstoned: bool,
}

/// Reads everything held about a customer.
pub async fn held_about(
    conn: &mut AsyncPgConnection,
    shop_id: i64,
    customer_id: i64,
) -> QueryResult<Held> {
    let customer = customers::table
        .filter(customers::shop_id.eq(shop_id))
        .filter(customers::customer_id.eq(customer_id))
        .select(CustomerRow::as_select())
        .first(conn)
        .await
        .optional()?;
    let orders: Vec<OrderRow> = orders::table
        .filter(orders::shop_id.eq(shop_id))
        .filter(orders::customer_id.eq(customer_id))
        .order(orders::ordered_at)
        .select(OrderRow::as_select())
        .load(conn)
        .await?;
    let order_ids: Vec<i64> = orders.iter().map(|o| o.order_id).collect();
    let refunds: Vec<RefundRow> = refunds::table
        .filter(refunds::shop_id.eq(shop_id))
        .filter(refunds::order_id.eq_any(&order_ids))
        .order(refunds::refund_id)
        .select(RefundRow::as_select())
        .load(conn)
        .await?;
    let transitions = segment_transitions::table
        .filter(segment_transitions::shop_id.eq(shop_id))
        .filter(segment_transitions::customer_id.eq(customer_id))
        .order(segment_transitions::transition_id)
        .select((
            segment_transitions::from_segment,
            segment_transitions::to_segment,
            segment_transitions::cause,
            segment_transitions::occurred_at,
        ))
        .load(conn)
        .await?;
    let tombstoned = diesel::select(diesel::dsl::exists(
        tombstones::table
            .filter(tombstones::shop_id.eq(shop_id))
            .filter(tombstones::subject.eq("customer"))
            .filter(tombstones::subject_id.eq(customer_id)),
    ))
    .get_result(conn)
    .await?;
    Ok(Held {
        customer,
        orders,
        refunds,
        transitions,
        tombstoned,
    })
}

/// Stores a data-request export; returns its row id.
pub async fn insert_data_request(
    conn: &mut AsyncPgConnection,
    row: &NewDataRequestRow,
) -> QueryResult<i64> {
    diesel::insert_into(data_requests::table)
        .values(row)
        .returning(data_requests::data_request_row_id)
        .get_result(conn)
        .await
}

/// The exports stored for a shop, newest first: (customer id, export).
pub async fn data_requests_of(
    conn: &mut AsyncPgConnection,
    shop_id: i64,
) -> QueryResult<Vec<(Option<i64>, serde_json::Value)>> {
    data_requests::table
        .filter(data_requests::shop_id.eq(shop_id))
        .order(data_requests::data_request_row_id.desc())
        .select((data_requests::customer_id, data_requests::export))
        .load(conn)
        .await
}
