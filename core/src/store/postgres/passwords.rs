//! The leaked-password hashes on PostgreSQL: `UNNEST` upserts, range scans in `text_pattern_ops`
//! order (`~<~`).

use chrono::{DateTime, Utc};

use super::{PgStore, commit_merge};
use crate::error::Result;
use crate::progress::Progress;
use crate::store::passwords::{PWNED_ROWS_PER_STATEMENT, PwnedHash, normalized};
use crate::store::passwords_shared::password_store;

impl PgStore {
    async fn pwned_merge_impl(&self, rows: &[PwnedHash], mark: Option<(&str, i64)>, progress: &dyn Progress) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        for chunk in rows.chunks(PWNED_ROWS_PER_STATEMENT) {
            let hashes: Vec<&str> = chunk.iter().map(|r| r.hash.as_str()).collect();
            let counts: Vec<i64> = chunk.iter().map(|r| r.count).collect();
            let sources: Vec<String> = chunk.iter().map(|r| r.sources.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",")).collect();
            sqlx::query(
                "INSERT INTO passwords_pwned (password_hash, password_count, password_source)
                 SELECT h, c, CASE WHEN s = '' THEN '{}'::text[] ELSE string_to_array(s, ',') END
                 FROM UNNEST($1::text[], $2::bigint[], $3::text[]) AS t(h, c, s)
                 ON CONFLICT (password_hash) DO UPDATE SET
                    password_count = LEAST(passwords_pwned.password_count::numeric + EXCLUDED.password_count, 9223372036854775807)::bigint,
                    password_source = ARRAY(SELECT DISTINCT x FROM unnest(passwords_pwned.password_source || EXCLUDED.password_source) AS x ORDER BY x)",
            )
            .bind(&hashes)
            .bind(&counts)
            .bind(&sources)
            .execute(&mut *tx)
            .await?;
            progress.advance(chunk.len() as u64);
        }
        commit_merge(tx, mark).await?;
        if rows.len() >= 10_000 {
            // fresh statistics, or the planner guesses wrongly (and JIT-compiles) range lookups
            sqlx::query("ANALYZE passwords_pwned").execute(self.pool()).await?;
        }
        Ok(())
    }

    async fn attempted_passwords_impl(&self, after: i64) -> Result<(Vec<(String, Option<String>, i64)>, i64)> {
        let after_time = crate::timebucket::from_micros(after);
        let rows: Vec<(String, Option<String>, i64)> = sqlx::query_as(
            "WITH src AS (
                SELECT p.password, p.raw_count,
                       (SELECT min(i.trap::text) FROM incidents i
                         WHERE i.time = p.time AND i.action = 'login' AND i.trap::text LIKE 'minipot\\_%') AS trap
                  FROM passwords p WHERE p.time > $1)
             SELECT password, trap, sum(coalesce(raw_count, 1))::bigint FROM src GROUP BY password, trap",
        )
        .bind(after_time)
        .fetch_all(self.pool())
        .await?;
        let newest: Option<DateTime<Utc>> = sqlx::query_scalar("SELECT max(time) FROM passwords WHERE time > $1").bind(after_time).fetch_one(self.pool()).await?;
        Ok((rows, newest.map_or(after, crate::timebucket::to_micros)))
    }
}

password_store!(PgStore, Vec<String>, range: "WHERE password_hash ~>=~ $1 AND password_hash ~<~ $2 ORDER BY password_hash USING ~<~", page: "WHERE password_hash ~>~ $1 ORDER BY password_hash USING ~<~ LIMIT $2", top: "ORDER BY 2 DESC, password_hash USING ~<~ LIMIT $1");

/// `SELECT hash, count, sources FROM passwords_pwned {tail}`; the count is clamped to
/// 1 … `i64::MAX` so a table whose `password_count` column is wider than `bigint` (created by
/// another tool or an older version) still loads.
fn pwned_select(tail: &str) -> String {
    format!("SELECT password_hash, LEAST(GREATEST(password_count::numeric, 1), 9223372036854775807)::bigint, password_source FROM passwords_pwned {tail}")
}

/// Rows of `passwords_pwned` (hash, count, text[] sources) as [`PwnedHash`]es.
fn pwned_rows(rows: Vec<(String, i64, Vec<String>)>) -> Vec<PwnedHash> {
    rows.into_iter().map(|(hash, count, sources)| PwnedHash { hash, count, sources: normalized(sources.iter().filter_map(|s| s.parse().ok()).collect()) }).collect()
}
