//! `shops`: one row per shop domain with its settings; created with the defaults the first time
//! a shop's message arrives.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::models::ShopRow;
use crate::db::schema::shops;
use crate::state::Shop;

/// The rows of `domains`, creating missing ones with the default settings.
pub async fn ensure(conn: &mut AsyncPgConnection, domains: &[String]) -> QueryResult<Vec<ShopRow>> {
    let found = by_domains(conn, domains).await?;
    if found.len() == domains.len() {
        return Ok(found);
    }
    let missing: Vec<_> = domains
        .iter()
        .filter(|d| !found.iter().any(|row| &row.shop_domain == *d))
        .map(|d| shops::shop_domain.eq(d))
        .collect();
    diesel::insert_into(shops::table)
        .values(&missing)
        .on_conflict(shops::shop_domain)
        .do_nothing()
        .execute(conn)
        .await?;
    by_domains(conn, domains).await
}

/// The rows of `domains` that exist.
pub async fn by_domains(
    conn: &mut AsyncPgConnection,
    domains: &[String],
) -> QueryResult<Vec<ShopRow>> {
    shops::table
        .filter(shops::shop_domain.eq_any(domains))
        .select(ShopRow::as_select())
        .load(conn)
        .await
}

/// The row of one shop, if it exists.
pub async fn by_domain(conn: &mut AsyncPgConnection, domain: &str) -> QueryResult<Option<ShopRow>> {
    shops::table
        .filter(shops::shop_domain.eq(domain))
        .select(ShopRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// Writes back the state a batch may change: currency, install marks, Shopify id.
pub async fn update_state(
    conn: &mut AsyncPgConnection,
    shop: &Shop,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(shops::table.filter(shops::shop_id.eq(shop.id)))
        .set((
            shops::currency.eq(&shop.currency),
            shops::shopify_shop_id.eq(shop.shopify_shop_id),
            shops::uninstalled_at.eq(shop.uninstalled_at),
            shops::redacted_at.eq(shop.redacted_at),
            shops::updated_at.eq(now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// The rows of shops by internal id.
pub async fn by_ids(conn: &mut AsyncPgConnection, ids: &[i64]) -> QueryResult<Vec<ShopRow>> {
    shops::table
        .filter(shops::shop_id.eq_any(ids))
        .select(ShopRow::as_select())
        .load(conn)
        .await
}
