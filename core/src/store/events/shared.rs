//! The events storage written once for both backends: queries, table dumps and the common
//! part of the aggregation session, instantiated per backend by [`events_store`] with its
//! [`Codec`](crate::store::codec::Codec). Imports (COPY or INSERT), locks, day marks and full
//! rebuilds stay per backend.

use sqlx::Transaction;

/// A re-aggregation of the daily tables holding the events lock (taken by the backend).
pub(crate) struct SqlEventAggregation<DB: sqlx::Database> {
    /// The open transaction.
    pub tx: Transaction<'static, DB>,
}

/// Implements [`super::EventStore`] for `$store` on database `$db` and
/// [`super::EventAggregationSession`] for [`SqlEventAggregation`] on it. `$store` provides
/// `begin_events_import_tx`, `begin_events_aggregation_tx` and `events_status_impl`; the
/// session `mark_days_impl`, `marked_days_impl`, `replace_days_impl` and `rebuild_impl`.
macro_rules! events_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::events::EventStore for $store {
            async fn begin_events_import(&self) -> $crate::error::Result<Box<dyn $crate::store::events::EventSession>> {
                self.begin_events_import_tx().await
            }

            async fn begin_events_aggregation(&self) -> $crate::error::Result<Box<dyn $crate::store::events::EventAggregationSession>> {
                Ok(Box::new($crate::store::events::shared::SqlEventAggregation::<$db> { tx: self.begin_events_aggregation_tx().await? }))
            }

            async fn events_query(&self, q: &$crate::store::events::query::EventQuery) -> $crate::error::Result<Vec<$crate::store::events::query::EventRow>> {
                use $crate::store::codec::Codec;
                let (sql, binds) = $crate::store::events::sql::query(<$db>::DIALECT, q);
                let query = $crate::store::events::bind_events(sqlx::query(sqlx::AssertSqlSafe(sql)), binds);
                Ok($crate::store::events::event_rows(&query.fetch_all(self.pool()).await?, q)?)
            }

            async fn events_table_rows(&self, table: $crate::store::events::model::AggTable) -> $crate::error::Result<Vec<Vec<Option<String>>>> {
                use $crate::store::codec::Codec;
                let rows = sqlx::query(sqlx::AssertSqlSafe($crate::store::events::sql::table_rows(<$db>::DIALECT, table))).fetch_all(self.pool()).await?;
                Ok($crate::store::sorted_texts(&rows, table.dimensions().len() + 2)?)
            }

            async fn events_status(&self) -> $crate::error::Result<$crate::store::events::EventsStatus> {
                self.events_status_impl().await
            }

            async fn events_stored(&self) -> $crate::error::Result<bool> {
                Ok(sqlx::query_scalar::<_, bool>("SELECT EXISTS (SELECT 1 FROM events)").fetch_one(self.pool()).await?)
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::events::EventAggregationSession for $crate::store::events::shared::SqlEventAggregation<$db> {
            async fn mark_days(&mut self, from: chrono::NaiveDate, to: chrono::NaiveDate) -> $crate::error::Result<()> {
                self.mark_days_impl(from, to).await
            }

            async fn marked_days(&mut self) -> $crate::error::Result<Vec<chrono::NaiveDate>> {
                self.marked_days_impl().await
            }

            async fn replace_days(&mut self, table: $crate::store::events::model::AggTable, from: chrono::NaiveDate, to: chrono::NaiveDate) -> $crate::error::Result<u64> {
                self.replace_days_impl(table, from, to).await
            }

            async fn rebuild(&mut self) -> $crate::error::Result<[u64; 3]> {
                self.rebuild_impl().await
            }

            async fn without_time_source(&mut self) -> $crate::error::Result<i64> {
                Ok(sqlx::query_scalar($crate::store::events::sql::WITHOUT_TIME_SOURCE).fetch_one(&mut *self.tx).await?)
            }

            async fn clear_marks(&mut self) -> $crate::error::Result<()> {
                sqlx::query("DELETE FROM vantage_events_dirty_days").execute(&mut *self.tx).await?;
                Ok(())
            }

            async fn commit(self: Box<Self>) -> $crate::error::Result<()> {
                self.tx.commit().await?;
                Ok(())
            }
        }
    };
}

pub(crate) use events_store;
