//! `segmenter migrate`: creates the database if it does not exist, then applies the embedded
//! migrations of the top-level `migrations/` directory.
//!
//! diesel's migration harness is synchronous; diesel-async wraps the async connection for it
//! and blocks on the runtime, so the harness runs on a blocking thread (`spawn_blocking`) of
//! the multi-thread runtime.

use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel_async::{
    AsyncConnection, AsyncMigrationHarness, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection,
};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::config::{database_name, with_database};

/// The migrations, embedded at build time.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations");

/// Why migrating failed.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    /// `DATABASE_URL` names no database.
    #[error("DATABASE_URL names no database")]
    NoDatabaseName,
    /// The database name needs quoting we do not do.
    #[error("database name {0:?} must be letters, digits and underscores")]
    BadDatabaseName(String),
    /// Cannot connect.
    #[error("cannot connect to PostgreSQL")]
    Connect(#[source] diesel::ConnectionError),
    /// A statement failed.
    #[error("database error")]
    Query(#[source] diesel::result::Error),
    /// A migration failed.
    #[error("migration failed: {0}")]
    Migration(String),
    /// The blocking migration task failed.
    #[error("migration task failed")]
    Task(#[source] tokio::task::JoinError),
}

#[derive(QueryableByName)]
struct Found {
    #[diesel(sql_type = Text)]
    #[expect(dead_code, reason = "only its presence matters")]
    datname: String,
}

/// Creates the database named in `url` unless it exists (connecting to the `postgres`
/// database of the same server). Returns whether it was created.
pub async fn create_database_if_missing(url: &str) -> Result<bool, MigrateError> {
    let name = database_name(url).ok_or(MigrateError::NoDatabaseName)?;
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(MigrateError::BadDatabaseName(name.to_owned()));
    }
    let admin_url = with_database(url, "postgres").ok_or(MigrateError::NoDatabaseName)?;
    let mut conn = AsyncPgConnection::establish(&admin_url)
        .await
        .map_err(MigrateError::Connect)?;
    let found: Vec<Found> =
        diesel::sql_query("SELECT datname::text AS datname FROM pg_database WHERE datname = $1")
            .bind::<Text, _>(name)
            .load(&mut conn)
            .await
            .map_err(MigrateError::Query)?;
    if !found.is_empty() {
        return Ok(false);
    }
    match conn
        .batch_execute(&format!("CREATE DATABASE \"{name}\""))
        .await
    {
        Ok(()) => Ok(true),
        // Created concurrently by someone else: fine.
        Err(diesel::result::Error::DatabaseError(_, info))
            if info.sqlstate().is_some_and(|s| s.as_str() == "42P04") =>
        {
            Ok(false)
        }
        Err(error) => Err(MigrateError::Query(error)),
    }
}

/// Drops the database named in `url` if it exists (tests and benchmarks clean up with it).
pub async fn drop_database(url: &str) -> Result<(), MigrateError> {
    let name = database_name(url).ok_or(MigrateError::NoDatabaseName)?;
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(MigrateError::BadDatabaseName(name.to_owned()));
    }
    let admin_url = with_database(url, "postgres").ok_or(MigrateError::NoDatabaseName)?;
    let mut conn = AsyncPgConnection::establish(&admin_url)
        .await
        .map_err(MigrateError::Connect)?;
    conn.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .await
        .map_err(MigrateError::Query)
}

/// Applies the pending migrations; returns the versions applied.
pub async fn run_pending(url: &str) -> Result<Vec<String>, MigrateError> {
    with_harness(url, |harness| {
        harness
            .run_pending_migrations(MIGRATIONS)
            .map(|versions| versions.iter().map(ToString::to_string).collect())
    })
    .await
}

/// Reverts every migration; returns the versions reverted (tests exercise `down.sql`).
pub async fn revert_all(url: &str) -> Result<Vec<String>, MigrateError> {
    with_harness(url, |harness| {
        harness
            .revert_all_migrations(MIGRATIONS)
            .map(|versions| versions.iter().map(ToString::to_string).collect())
    })
    .await
}

/// `create_database_if_missing` then `run_pending`.
pub async fn migrate(url: &str) -> Result<Vec<String>, MigrateError> {
    create_database_if_missing(url).await?;
    run_pending(url).await
}

type HarnessResult = Result<Vec<String>, Box<dyn std::error::Error + Send + Sync>>;

async fn with_harness<F>(url: &str, work: F) -> Result<Vec<String>, MigrateError>
where
    F: FnOnce(&mut AsyncMigrationHarness<AsyncPgConnection>) -> HarnessResult + Send + 'static,
{
    let conn = AsyncPgConnection::establish(url)
        .await
        .map_err(MigrateError::Connect)?;
    // Built here, inside the runtime, so the wrapper blocks on this runtime's handle.
    let mut harness = AsyncMigrationHarness::new(conn);
    let outcome = tokio::task::spawn_blocking(move || work(&mut harness))
        .await
        .map_err(MigrateError::Task)?;
    outcome.map_err(|error| MigrateError::Migration(error.to_string()))
}
