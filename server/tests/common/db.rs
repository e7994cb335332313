//! Plain SQL on a test server's database, beside the server: for what the API cannot
//! show or do (the triggers themselves, a database of an earlier schema).

/// A pool on SQLite or PostgreSQL.
pub enum Db {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Db {
    /// Connects to `url` (`sqlite:…` or `postgres://…`).
    pub async fn connect(url: &str) -> Db {
        if url.starts_with("sqlite") {
            Db::Sqlite(sqlx::SqlitePool::connect(url).await.expect("connect to SQLite"))
        } else {
            Db::Postgres(sqlx::PgPool::connect(url).await.expect("connect to PostgreSQL"))
        }
    }

    /// Runs one statement: the rows it changed, or the database's refusal as text.
    pub async fn execute(&self, sql: &str) -> Result<u64, String> {
        let done = match self {
            Db::Sqlite(pool) => sqlx::query(sql).execute(pool).await.map(|r| r.rows_affected()),
            Db::Postgres(pool) => sqlx::query(sql).execute(pool).await.map(|r| r.rows_affected()),
        };
        done.map_err(|e| e.to_string())
    }

    /// Runs several statements in one transaction, as a migration file would be.
    pub async fn script(&self, sql: &str) {
        match self {
            Db::Sqlite(pool) => {
                let mut tx = pool.begin().await.unwrap();
                sqlx::raw_sql(sql).execute(&mut *tx).await.unwrap();
                tx.commit().await.unwrap();
            }
            Db::Postgres(pool) => {
                let mut tx = pool.begin().await.unwrap();
                sqlx::raw_sql(sql).execute(&mut *tx).await.unwrap();
                tx.commit().await.unwrap();
            }
        }
    }

    /// The integer `sql` selects.
    pub async fn number(&self, sql: &str) -> i64 {
        match self {
            Db::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap(),
            Db::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap(),
        }
    }

    /// The text column `sql` selects, one string per row.
    pub async fn texts(&self, sql: &str) -> Vec<String> {
        match self {
            Db::Sqlite(pool) => sqlx::query_scalar(sql).fetch_all(pool).await.unwrap(),
            Db::Postgres(pool) => sqlx::query_scalar(sql).fetch_all(pool).await.unwrap(),
        }
    }

    /// Closes the pool.
    pub async fn close(self) {
        match self {
            Db::Sqlite(pool) => pool.close().await,
            Db::Postgres(pool) => pool.close().await,
        }
    }
}
