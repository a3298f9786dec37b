//! The leaked-password storage written once for both backends: the reads of the hash index,
//! instantiated per backend by [`password_store`]. Merges and the reading of attempted
//! passwords stay per backend (array or JSON sources, a different upsert).

/// Implements [`super::passwords::PasswordStore`] for `$store`. Rows are read
/// by `pwned_select(tail)` as `(hash, count, $sources)` and decoded by `pwned_rows`; `$range`,
/// `$page` and `$top` are the tails of the three reads (prefix range, page after a hash, most
/// seen). `$store` provides `pwned_merge_impl` and `attempted_passwords_impl`.
macro_rules! password_store {
    ($store:ty, $sources:ty, range: $range:expr, page: $page:expr, top: $top:expr) => {
        #[async_trait::async_trait]
        impl $crate::store::passwords::PasswordStore for $store {
            async fn pwned_merge(
                &self,
                rows: &[$crate::store::passwords::PwnedHash],
                mark: Option<(&str, i64)>,
                progress: &dyn $crate::progress::Progress,
            ) -> $crate::error::Result<()> {
                self.pwned_merge_impl(rows, mark, progress).await
            }

            async fn attempted_passwords(&self, after: i64) -> $crate::error::Result<(Vec<(String, Option<String>, i64)>, i64)> {
                self.attempted_passwords_impl(after).await
            }

            async fn pwned_range(&self, prefix: &str) -> $crate::error::Result<Vec<$crate::store::passwords::PwnedHash>> {
                let rows: Vec<(String, i64, $sources)> = sqlx::query_as(sqlx::AssertSqlSafe(pwned_select($range)))
                    .bind(prefix)
                    .bind($crate::store::passwords::prefix_end(prefix))
                    .fetch_all(self.pool())
                    .await?;
                Ok(pwned_rows(rows))
            }

            async fn pwned_page(&self, after: &str, limit: i64) -> $crate::error::Result<Vec<$crate::store::passwords::PwnedHash>> {
                let rows: Vec<(String, i64, $sources)> = sqlx::query_as(sqlx::AssertSqlSafe(pwned_select($page))).bind(after).bind(limit).fetch_all(self.pool()).await?;
                Ok(pwned_rows(rows))
            }

            async fn pwned_top(&self, limit: i64) -> $crate::error::Result<Vec<$crate::store::passwords::PwnedHash>> {
                let rows: Vec<(String, i64, $sources)> = sqlx::query_as(sqlx::AssertSqlSafe(pwned_select($top))).bind(limit).fetch_all(self.pool()).await?;
                Ok(pwned_rows(rows))
            }

            async fn pwned_version(&self) -> $crate::error::Result<i64> {
                $crate::store::Store::counter(self, $crate::store::passwords::PWNED_VERSION).await
            }

            async fn pwned_total(&self) -> $crate::error::Result<i64> {
                Ok(sqlx::query_scalar("SELECT count(*) FROM passwords_pwned").fetch_one(self.pool()).await?)
            }
        }
    };
}

pub(crate) use password_store;
