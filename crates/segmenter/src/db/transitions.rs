//! `segment_transitions`: the history of segment changes.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::models::NewTransitionRow;
use crate::db::schema::segment_transitions;

/// Rows per multi-row statement.
const CHUNK: usize = 2000;

/// Appends transitions.
pub async fn insert(conn: &mut AsyncPgConnection, rows: &[NewTransitionRow]) -> QueryResult<()> {
    for chunk in rows.chunks(CHUNK) {
        diesel::insert_into(segment_transitions::table)
            .values(chunk)
            .execute(conn)
            .await?;
    }
    Ok(())
}
