//! What every backend offers, written once: the [`crate::store::Store`] methods and the
//! counter statements, instantiated per backend by [`store_common`] with its
//! [`Codec`](crate::store::codec::Codec).

/// Implements [`crate::store::Store`] for `$store` (field `location`, method `pool`) on
/// database `$db`, reporting `$backend`, and defines in the calling module `set_counter`
/// and `commit_merge` over transactions of `$db`.
macro_rules! store_common {
    ($store:ty, $db:ty, $backend:expr) => {
        #[async_trait::async_trait]
        impl $crate::store::Store for $store {
            fn backend(&self) -> $crate::store::Backend {
                $backend
            }

            fn location(&self) -> String {
                self.location.clone()
            }

            async fn counter(&self, name: &str) -> $crate::error::Result<i64> {
                use $crate::store::codec::Codec;
                let sql = format!("SELECT value FROM vantage_counters WHERE name = {}", <$db>::DIALECT.param(1));
                let v: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(name).fetch_optional(self.pool()).await?;
                Ok(v.unwrap_or(0))
            }

            async fn ping(&self) -> $crate::error::Result<()> {
                sqlx::query("SELECT 1").execute(self.pool()).await?;
                Ok(())
            }

            async fn close(&self) {
                self.pool().close().await;
            }
        }

        /// Sets the counter `name` to `value` inside `tx` (an import's watermark).
        async fn set_counter(tx: &mut sqlx::Transaction<'static, $db>, name: &str, value: i64) -> $crate::error::Result<()> {
            use $crate::store::codec::Codec;
            let d = <$db>::DIALECT;
            let sql = format!(
                "INSERT INTO vantage_counters (name, value) VALUES ({}, {}) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                d.param(1),
                d.param(2)
            );
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(name).bind(value).execute(&mut **tx).await?;
            Ok(())
        }

        /// Ends a leaked-password merge: bumps the version readers watch, sets the import's
        /// watermark `mark` when given, commits.
        async fn commit_merge(mut tx: sqlx::Transaction<'static, $db>, mark: Option<(&str, i64)>) -> $crate::error::Result<()> {
            sqlx::query(
                "INSERT INTO vantage_counters (name, value) VALUES ('passwords_pwned', 1)
             ON CONFLICT (name) DO UPDATE SET value = vantage_counters.value + 1",
            )
            .execute(&mut *tx)
            .await?;
            if let Some((name, value)) = mark {
                set_counter(&mut tx, name, value).await?;
            }
            tx.commit().await?;
            Ok(())
        }
    };
}

pub(crate) use store_common;
