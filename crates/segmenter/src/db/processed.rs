//! `processed_messages`: the message ids already applied. A message records its id in the same
//! transaction as its effect; a redelivery finds it and changes nothing.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::schema::processed_messages;

#[derive(QueryableByName)]
struct Claimed {
    #[diesel(sql_type = Text)]
    message_id: String,
}

/// Records `ids` as processed and returns those that were new.
pub async fn claim(conn: &mut AsyncPgConnection, ids: Vec<String>) -> QueryResult<HashSet<String>> {
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let rows: Vec<Claimed> = diesel::sql_query(include_str!("sql/claim_messages.sql"))
        .bind::<Array<Text>, _>(ids)
        .load(conn)
        .await?;
    Ok(rows.into_iter().map(|r| r.message_id).collect())
}

/// Forgets `ids` (messages that failed inside a batch that otherwise commits).
pub async fn unclaim(conn: &mut AsyncPgConnection, ids: &[String]) -> QueryResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    diesel::delete(processed_messages::table.filter(processed_messages::message_id.eq_any(ids)))
        .execute(conn)
        .await?;
    Ok(())
}

/// Whether `id` was processed.
pub async fn is_processed(conn: &mut AsyncPgConnection, id: &str) -> QueryResult<bool> {
    let found: Option<String> = processed_messages::table
        .select(processed_messages::message_id)
        .filter(processed_messages::message_id.eq(id))
        .first(conn)
        .await
        .optional()?;
    Ok(found.is_some())
}

/// Deletes ids processed before `before`; returns how many.
pub async fn forget_before(
    conn: &mut AsyncPgConnection,
    before: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::delete(processed_messages::table.filter(processed_messages::processed_at.lt(before)))
        .execute(conn)
        .await
}
