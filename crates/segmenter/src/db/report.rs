//! Read-only views for operators (`audiencectl segments`).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::numeric::Amount;
use crate::db::schema::{customers, shops};

/// One customer's line in the segments report.
#[derive(Debug, Clone, Queryable)]
pub struct SegmentLine {
    /// Shopify customer id.
    pub customer_id: i64,
    /// Lifecycle segment.
    pub segment: String,
    /// Counted orders.
    pub orders: i32,
    /// Counted spend (shop currency).
    pub spent: Amount,
    /// The last counted order's time.
    pub last_order_at: Option<DateTime<Utc>>,
}

/// Every customer of the shop with this domain, by customer id; `None` if the shop is unknown.
pub async fn segments_of_shop(
    conn: &mut AsyncPgConnection,
    shop_domain: &str,
) -> QueryResult<Option<Vec<SegmentLine>>> {
    let shop_id: Option<i64> = shops::table
        .filter(shops::shop_domain.eq(shop_domain))
        .select(shops::shop_id)
        .first(conn)
        .await
        .optional()?;
    let Some(shop_id) = shop_id else {
        return Ok(None);
    };
    let lines = customers::table
        .filter(customers::shop_id.eq(shop_id))
        .order(customers::customer_id)
        .select((
            customers::customer_id,
            customers::segment,
            customers::orders_count,
            customers::spent,
            customers::last_order_at,
        ))
        .load(conn)
        .await?;
    Ok(Some(lines))
}

/// Reading the report failed.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Cannot connect.
    #[error("cannot connect to PostgreSQL")]
    Connect(#[source] diesel::ConnectionError),
    /// The query failed.
    #[error("cannot read the segments")]
    Query(#[source] diesel::result::Error),
}

/// Connects to `database_url` and reads the segments of `shop_domain` (`None`: unknown shop).
pub async fn segments_report(
    database_url: &str,
    shop_domain: &str,
) -> Result<Option<Vec<SegmentLine>>, ReportError> {
    use diesel_async::AsyncConnection as _;
    let mut conn = AsyncPgConnection::establish(database_url)
        .await
        .map_err(ReportError::Connect)?;
    segments_of_shop(&mut conn, shop_domain)
        .await
        .map_err(ReportError::Query)
}
