//! `tombstones`: the ids of deleted or redacted customers and orders, kept so that a late or
//! replayed webhook cannot bring their data back.

use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::models::TombstoneRow;
use crate::db::schema::tombstones;
use crate::state::Subject;

/// The tombstones among (shop, subject, id) triples.
pub async fn load(
    conn: &mut AsyncPgConnection,
    keys: &[(i64, Subject, i64)],
) -> QueryResult<Vec<TombstoneRow>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let shops: Vec<i64> = keys.iter().map(|k| k.0).collect();
    let subjects: Vec<&str> = keys.iter().map(|k| k.1.as_str()).collect();
    let ids: Vec<i64> = keys.iter().map(|k| k.2).collect();
    diesel::sql_query(include_str!("sql/load_tombstones.sql"))
        .bind::<Array<BigInt>, _>(shops)
        .bind::<Array<Text>, _>(subjects)
        .bind::<Array<BigInt>, _>(ids)
        .load(conn)
        .await
}

/// Records tombstones (idempotent).
pub async fn insert(
    conn: &mut AsyncPgConnection,
    shop_id: i64,
    subject: Subject,
    ids: &[i64],
) -> QueryResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let rows: Vec<TombstoneRow> = ids
        .iter()
        .map(|id| TombstoneRow {
            shop_id,
            subject: subject.as_str().to_owned(),
            subject_id: *id,
        })
        .collect();
    diesel::insert_into(tombstones::table)
        .values(&rows)
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(())
}
