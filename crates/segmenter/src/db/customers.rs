//! `customers`: bulk load and upsert of customer state, and the sweep's candidates.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Timestamptz};
use diesel::upsert::excluded;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::models::CustomerRow;
use crate::db::schema::customers;
use crate::state::Key;

/// Rows per multi-row statement (15 binds each, well under PostgreSQL's 65 535).
const CHUNK: usize = 1000;

/// The customers with these keys (those that exist).
pub async fn load(conn: &mut AsyncPgConnection, keys: &[Key]) -> QueryResult<Vec<CustomerRow>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let (shops, ids): (Vec<i64>, Vec<i64>) = keys.iter().copied().unzip();
    diesel::sql_query(include_str!("sql/load_customers.sql"))
        .bind::<Array<BigInt>, _>(shops)
        .bind::<Array<BigInt>, _>(ids)
        .load(conn)
        .await
}

/// Inserts or replaces customers (all columns but `first_seen_at`).
pub async fn upsert(conn: &mut AsyncPgConnection, rows: &[CustomerRow]) -> QueryResult<()> {
    for chunk in rows.chunks(CHUNK) {
        diesel::insert_into(customers::table)
            .values(chunk)
            .on_conflict((customers::shop_id, customers::customer_id))
            .do_update()
            .set((
                customers::user_data.eq(excluded(customers::user_data)),
                customers::email_marketing_consent.eq(excluded(customers::email_marketing_consent)),
                customers::sms_marketing_consent.eq(excluded(customers::sms_marketing_consent)),
                customers::record_updated_at.eq(excluded(customers::record_updated_at)),
                customers::orders_count.eq(excluded(customers::orders_count)),
                customers::spent.eq(excluded(customers::spent)),
                customers::first_order_at.eq(excluded(customers::first_order_at)),
                customers::last_order_at.eq(excluded(customers::last_order_at)),
                customers::segment.eq(excluded(customers::segment)),
                customers::segment_since.eq(excluded(customers::segment_since)),
                customers::audiences.eq(excluded(customers::audiences)),
                customers::updated_at.eq(excluded(customers::updated_at)),
            ))
            .execute(conn)
            .await?;
    }
    Ok(())
}

#[derive(QueryableByName)]
struct CandidateRow {
    #[diesel(sql_type = BigInt)]
    shop_id: i64,
    #[diesel(sql_type = BigInt)]
    customer_id: i64,
}

/// Up to `limit` customers whose last counted order crossed their shop's `lapsed_after_days`
/// window at `now` (in either direction).
pub async fn lapse_candidates(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Vec<Key>> {
    let rows: Vec<CandidateRow> = diesel::sql_query(include_str!("sql/lapse_candidates.sql"))
        .bind::<Timestamptz, _>(now)
        .bind::<BigInt, _>(limit)
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.shop_id, r.customer_id))
        .collect())
}
