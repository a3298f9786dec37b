//! The leaked-password hashes on SQLite: multi-row upserts, sources as JSON arrays.

use sqlx::{QueryBuilder, Sqlite};

use super::{SqliteStore, commit_merge};
use crate::error::Result;
use crate::progress::Progress;
use crate::store::passwords::{PWNED_ROWS_PER_STATEMENT, PwnedHash, normalized};
use crate::store::passwords_shared::password_store;

impl SqliteStore {
    async fn pwned_merge_impl(&self, rows: &[PwnedHash], mark: Option<(&str, i64)>, progress: &dyn Progress) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        // 3 parameters a row, below SQLite's 32766
        for chunk in rows.chunks(PWNED_ROWS_PER_STATEMENT) {
            let mut q = QueryBuilder::<Sqlite>::new("INSERT INTO passwords_pwned (password_hash, password_count, password_source) ");
            q.push_values(chunk, |mut b, r| {
                let sources: Vec<&str> = r.sources.iter().map(|s| s.as_str()).collect();
                b.push_bind(r.hash.as_str()).push_bind(r.count).push_bind(serde_json::to_string(&sources).unwrap_or_else(|_| "[]".into()));
            });
            // counts saturate at i64::MAX (SQLite would turn an overflowing sum into a REAL)
            q.push(format!(
                " ON CONFLICT (password_hash) DO UPDATE SET
                    password_count = CASE WHEN {c} > 9223372036854775807 - excluded.password_count THEN 9223372036854775807
                                          ELSE {c} + excluded.password_count END,
                    password_source = (SELECT json_group_array(value) FROM (
                        SELECT value FROM json_each(passwords_pwned.password_source)
                        UNION SELECT value FROM json_each(excluded.password_source) ORDER BY value))",
                c = PWNED_COUNT
            ));
            q.build().execute(&mut *tx).await?;
            progress.advance(chunk.len() as u64);
        }
        commit_merge(tx, mark).await?;
        Ok(())
    }

    async fn attempted_passwords_impl(&self, after: i64) -> Result<(Vec<(String, Option<String>, i64)>, i64)> {
        let rows: Vec<(String, Option<String>, i64)> = sqlx::query_as(
            "WITH src AS (
                SELECT p.password, p.raw_count,
                       (SELECT min(i.trap) FROM incidents i
                         WHERE i.time = p.time AND i.action = 'login' AND i.trap LIKE 'minipot\\_%' ESCAPE '\\') AS trap
                  FROM passwords p WHERE p.time > ?1)
             SELECT password, trap, sum(coalesce(raw_count, 1)) FROM src GROUP BY password, trap",
        )
        .bind(after)
        .fetch_all(self.pool())
        .await?;
        let newest: Option<i64> = sqlx::query_scalar("SELECT max(time) FROM passwords WHERE time > ?1").bind(after).fetch_one(self.pool()).await?;
        Ok((rows, newest.unwrap_or(after)))
    }
}

password_store!(SqliteStore, String, range: "WHERE password_hash >= ?1 AND password_hash < ?2 ORDER BY password_hash", page: "WHERE password_hash > ?1 ORDER BY password_hash LIMIT ?2", top: "ORDER BY 2 DESC, password_hash LIMIT ?1");

/// A stored leaked-password count read robustly: an INTEGER as it is; anything else an older
/// version or another tool may have left (a REAL from an overflowed sum, text) is converted
/// and clamped to 1 … `i64::MAX`, so one bad row never stops the index from loading.
const PWNED_COUNT: &str =
    "max(1, CASE WHEN typeof(password_count) = 'integer' THEN password_count ELSE CAST(CAST(password_count AS REAL) AS INTEGER) END)";

/// `SELECT hash, count, sources FROM passwords_pwned {tail}` with the count read by [`PWNED_COUNT`].
fn pwned_select(tail: &str) -> String {
    format!("SELECT password_hash, {PWNED_COUNT}, password_source FROM passwords_pwned {tail}")
}

/// Rows of `passwords_pwned` (hash, count, JSON sources) as [`PwnedHash`]es.
fn pwned_rows(rows: Vec<(String, i64, String)>) -> Vec<PwnedHash> {
    rows.into_iter()
        .map(|(hash, count, sources)| {
            let sources: Vec<String> = serde_json::from_str(&sources).unwrap_or_default();
            PwnedHash { hash, count, sources: normalized(sources.iter().filter_map(|s| s.parse().ok()).collect()) }
        })
        .collect()
}
