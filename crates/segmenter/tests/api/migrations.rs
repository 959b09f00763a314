//! The schema: migrations go up, down and up again; every foreign key is indexed; `migrate`
//! creates a missing database.

use audience_segmenter::db::migrate;
use diesel::sql_types::Text;
use diesel::{QueryableByName, sql_query};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use crate::helpers::{PG_SERVER, TestDb};

#[derive(QueryableByName, Debug, PartialEq)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

async fn tables(url: &str) -> Vec<String> {
    let mut conn = AsyncPgConnection::establish(url).await.expect("connect");
    let rows: Vec<Name> = sql_query(
        "SELECT tablename::text AS name FROM pg_tables WHERE schemaname = 'public' \
         AND tablename <> '__diesel_schema_migrations' ORDER BY 1",
    )
    .load(&mut conn)
    .await
    .expect("tables");
    rows.into_iter().map(|r| r.name).collect()
}

#[tokio::test]
async fn migrations_go_up_down_and_up_again() {
    let db = TestDb::create().await;
    let expected = [
        "customers",
        "data_requests",
        "orders",
        "outbox",
        "processed_messages",
        "refunds",
        "segment_transitions",
        "shops",
        "tombstones",
    ];
    assert_eq!(tables(&db.url).await, expected);

    let reverted = migrate::revert_all(&db.url).await.expect("down");
    assert_eq!(
        reverted.len(),
        4,
        "every migration has a down.sql: {reverted:?}"
    );
    assert!(
        tables(&db.url).await.is_empty(),
        "down leaves no table behind"
    );

    let applied = migrate::run_pending(&db.url).await.expect("up again");
    assert_eq!(applied.len(), 4);
    assert_eq!(tables(&db.url).await, expected);
    assert!(
        migrate::run_pending(&db.url)
            .await
            .expect("nothing pending")
            .is_empty()
    );
    db.remove().await;
}

#[tokio::test]
async fn every_foreign_key_has_an_index() {
    let db = TestDb::create().await;
    let mut conn = AsyncPgConnection::establish(&db.url)
        .await
        .expect("connect");
    let unindexed: Vec<Name> = sql_query(
        "SELECT (c.conrelid::regclass::text || '.' || c.conname::text) AS name
         FROM pg_constraint c
         WHERE c.contype = 'f'
           AND NOT EXISTS (
             SELECT 1 FROM pg_index i
             WHERE i.indrelid = c.conrelid
               AND (string_to_array(i.indkey::text, ' ')::int2[])[1:array_length(c.conkey, 1)] @> c.conkey
           )",
    )
    .load(&mut conn)
    .await
    .expect("query");
    let fks: Vec<Name> =
        sql_query("SELECT conname::text AS name FROM pg_constraint WHERE contype = 'f'")
            .load(&mut conn)
            .await
            .expect("query");
    assert!(fks.len() >= 7, "the check sees the foreign keys: {fks:?}");
    assert_eq!(unindexed, [], "foreign keys without an index");
    drop(conn);
    db.remove().await;
}

#[tokio::test]
async fn migrate_creates_a_missing_database_and_is_idempotent() {
    let url = format!("{PG_SERVER}/seg_test_{}", uuid::Uuid::new_v4().simple());
    assert!(
        migrate::create_database_if_missing(&url)
            .await
            .expect("create")
    );
    assert!(
        !migrate::create_database_if_missing(&url)
            .await
            .expect("exists")
    );
    assert_eq!(migrate::migrate(&url).await.expect("migrate").len(), 4);
    assert!(migrate::migrate(&url).await.expect("again").is_empty());
    migrate::drop_database(&url).await.expect("drop");
}
