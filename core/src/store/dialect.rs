//! The differences between the two SQL dialects that the shared SQL text needs.

/// Which SQL dialect a statement is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite: `?n` parameters, INTEGER microsecond times, text days.
    Sqlite,
    /// PostgreSQL: `$n` parameters, timestamptz, dates.
    Postgres,
}

impl Dialect {
    /// The `n`-th (1-based) bind parameter.
    pub fn param(self, n: usize) -> String {
        match self {
            Dialect::Sqlite => format!("?{n}"),
            Dialect::Postgres => format!("${n}"),
        }
    }

    /// `coalesce(sum(expr), 0)` as a 64-bit integer.
    pub fn sum(self, expr: &str) -> String {
        match self {
            Dialect::Sqlite => format!("coalesce(sum({expr}), 0)"),
            Dialect::Postgres => format!("coalesce(sum({expr}), 0)::bigint"),
        }
    }
}
