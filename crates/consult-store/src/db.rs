//! The one place that knows there are two databases: the pools, a transaction on either, and
//! [`Sql`], a query with owned arguments that runs on whichever backend the [`Store`] uses.
//!
//! Every store operation is written once against [`Sql`]; only [`Sql`]'s four runners (and the
//! few operations whose SQL truly differs, such as the bulk response import) look at which
//! backend is in use. See the crate documentation for why.

use crate::{Store, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use sqlx::postgres::{PgConnection, PgPool, PgRow};
use sqlx::sqlite::{SqliteConnection, SqlitePool, SqliteRow};
use sqlx::{Arguments, Database, Encode, FromRow, Postgres, Sqlite, Type};
use uuid::Uuid;

/// The connection pool of the backend a store runs on.
#[derive(Debug, Clone)]
pub(crate) enum Pools {
    /// Embedded SQLite.
    Sqlite(SqlitePool),
    /// PostgreSQL.
    Postgres(PgPool),
}

/// An open transaction on either backend. Dropped without [`Tx::commit`], it rolls back.
#[derive(Debug)]
pub(crate) enum Tx {
    /// SQLite, begun with `BEGIN IMMEDIATE` (the write lock is taken at once).
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    /// PostgreSQL, begun with `BEGIN`.
    Postgres(sqlx::Transaction<'static, Postgres>),
}

impl Store {
    /// Begins a write transaction: `BEGIN IMMEDIATE` on SQLite, so two writers queue at the
    /// start rather than fail at their first write; `BEGIN` on PostgreSQL.
    pub(crate) async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(match &self.pools {
            Pools::Sqlite(pool) => Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Pools::Postgres(pool) => Tx::Postgres(pool.begin_with("BEGIN").await?),
        })
    }
}

impl Tx {
    /// A JSON array bound as parameter `param`, as rows: SQLite's `json_each`, PostgreSQL's
    /// `jsonb_array_elements`, each row's fields read as `value ->> i` (text). The way to send
    /// thousands of rows in one statement: binding each value costs more than the insert.
    pub(crate) fn json_rows(&self, param: &str) -> String {
        match self {
            Tx::Sqlite(_) => format!("json_each({param})"),
            Tx::Postgres(_) => format!("jsonb_array_elements(CAST({param} AS jsonb)) AS j(value)"),
        }
    }

    /// Field `i` of a [`Tx::json_rows`] row, written as 32 hexadecimal digits, as a UUID.
    pub(crate) fn json_uuid(&self, i: usize) -> String {
        match self {
            Tx::Sqlite(_) => format!("unhex(value ->> {i})"),
            Tx::Postgres(_) => format!("CAST(value ->> {i} AS uuid)"),
        }
    }

    /// Commits everything done in the transaction.
    pub(crate) async fn commit(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await?,
            Tx::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }
}

/// A connection held from the pool, so that several reads run on one connection (one
/// SQLite page cache, not one per pooled connection).
#[derive(Debug)]
pub(crate) enum Held {
    Sqlite(sqlx::pool::PoolConnection<Sqlite>),
    Postgres(sqlx::pool::PoolConnection<Postgres>),
}

impl Store {
    /// Holds one connection of the pool until the [`Held`] is dropped.
    pub(crate) async fn hold(&self) -> Result<Held, StoreError> {
        Ok(match &self.pools {
            Pools::Sqlite(pool) => Held::Sqlite(pool.acquire().await?),
            Pools::Postgres(pool) => Held::Postgres(pool.acquire().await?),
        })
    }
}

impl<'c> From<&'c mut Held> for Conn<'c> {
    fn from(held: &'c mut Held) -> Self {
        match held {
            Held::Sqlite(c) => Conn::Sqlite(c),
            Held::Postgres(c) => Conn::Postgres(c),
        }
    }
}

/// Where a query runs: a pool, or the connection of an open transaction.
#[derive(Debug)]
pub(crate) enum Conn<'c> {
    SqlitePool(&'c SqlitePool),
    PgPool(&'c PgPool),
    Sqlite(&'c mut SqliteConnection),
    Postgres(&'c mut PgConnection),
}

impl<'c> From<&'c Store> for Conn<'c> {
    fn from(store: &'c Store) -> Self {
        match &store.pools {
            Pools::Sqlite(pool) => Conn::SqlitePool(pool),
            Pools::Postgres(pool) => Conn::PgPool(pool),
        }
    }
}

impl<'c> From<&'c mut PgConnection> for Conn<'c> {
    fn from(conn: &'c mut PgConnection) -> Self {
        Conn::Postgres(conn)
    }
}

impl<'c> From<&'c mut Tx> for Conn<'c> {
    fn from(tx: &'c mut Tx) -> Self {
        match tx {
            Tx::Sqlite(tx) => Conn::Sqlite(tx),
            Tx::Postgres(tx) => Conn::Postgres(tx),
        }
    }
}

/// A row type both backends can decode (`#[derive(sqlx::FromRow)]` structs and tuples).
pub(crate) trait Record: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin {}

impl<T> Record for T where T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin {}

/// A bound value. `None` binds a typed NULL, as binding an `Option` does in sqlx.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    Uuid(Option<Uuid>),
    Text(Option<String>),
    Int(Option<i64>),
    Int32(Option<i32>),
    Bool(Option<bool>),
    Date(Option<NaiveDate>),
    Time(Option<DateTime<Utc>>),
    Bytes(Option<Vec<u8>>),
    Float(Option<f64>),
}

macro_rules! arg_from {
    ($($ty:ty => $variant:ident($conv:expr)),* $(,)?) => {
        $(impl From<$ty> for Arg {
            fn from(v: $ty) -> Self {
                Arg::$variant($conv(v))
            }
        })*
    };
}

arg_from! {
    Uuid => Uuid(Some),
    Option<Uuid> => Uuid(std::convert::identity),
    &str => Text(|v: &str| Some(v.to_owned())),
    String => Text(Some),
    &String => Text(|v: &String| Some(v.clone())),
    Option<&str> => Text(|v: Option<&str>| v.map(str::to_owned)),
    Option<String> => Text(std::convert::identity),
    &Option<String> => Text(Clone::clone),
    i64 => Int(Some),
    Option<i64> => Int(std::convert::identity),
    i32 => Int32(Some),
    bool => Bool(Some),
    NaiveDate => Date(Some),
    Option<NaiveDate> => Date(std::convert::identity),
    DateTime<Utc> => Time(Some),
    Option<DateTime<Utc>> => Time(std::convert::identity),
    Option<&[u8]> => Bytes(|v: Option<&[u8]>| v.map(<[u8]>::to_vec)),
    &Value => Text(|v: &Value| Some(v.to_string())),
    Option<f64> => Float(std::convert::identity),
    f64 => Float(Some),
}

/// The backend's arguments for a list of values.
fn arguments<'q, DB: Database>(args: Vec<Arg>) -> Result<DB::Arguments<'q>, sqlx::error::BoxDynError>
where
    Option<Uuid>: Encode<'q, DB> + Type<DB>,
    Option<String>: Encode<'q, DB> + Type<DB>,
    Option<i64>: Encode<'q, DB> + Type<DB>,
    Option<i32>: Encode<'q, DB> + Type<DB>,
    Option<bool>: Encode<'q, DB> + Type<DB>,
    Option<NaiveDate>: Encode<'q, DB> + Type<DB>,
    Option<DateTime<Utc>>: Encode<'q, DB> + Type<DB>,
    Option<Vec<u8>>: Encode<'q, DB> + Type<DB>,
    Option<f64>: Encode<'q, DB> + Type<DB>,
{
    let mut out = DB::Arguments::<'q>::default();
    for a in args {
        match a {
            Arg::Uuid(v) => out.add(v),
            Arg::Text(v) => out.add(v),
            Arg::Int(v) => out.add(v),
            Arg::Int32(v) => out.add(v),
            Arg::Bool(v) => out.add(v),
            Arg::Date(v) => out.add(v),
            Arg::Time(v) => out.add(v),
            Arg::Bytes(v) => out.add(v),
            Arg::Float(v) => out.add(v),
        }?;
    }
    Ok(out)
}

/// SQL text with its arguments, numbering `$n` parameters as they are added. Both backends
/// accept the same text.
#[derive(Debug, Clone)]
pub(crate) struct Sql {
    pub(crate) text: String,
    args: Vec<Arg>,
}

/// A query with no arguments yet: bind them with [`Sql::bind`].
pub(crate) fn query(text: impl Into<String>) -> Sql {
    Sql {
        text: text.into(),
        args: Vec::new(),
    }
}

/// Runs `$body` with `$e` bound to the executor and `$a` to the arguments of the backend `$conn`
/// names: once per backend, so the body is type-checked against both.
macro_rules! on_conn {
    ($conn:expr, $args:expr, |$e:ident, $a:ident| $body:expr) => {
        match $conn {
            Conn::SqlitePool($e) => {
                let $a = arguments::<Sqlite>($args).map_err(sqlx::Error::Encode)?;
                $body
            }
            Conn::PgPool($e) => {
                let $a = arguments::<Postgres>($args).map_err(sqlx::Error::Encode)?;
                $body
            }
            Conn::Sqlite($e) => {
                let $a = arguments::<Sqlite>($args).map_err(sqlx::Error::Encode)?;
                $body
            }
            Conn::Postgres($e) => {
                let $a = arguments::<Postgres>($args).map_err(sqlx::Error::Encode)?;
                $body
            }
        }
    };
}

impl Sql {
    /// SQL text to be extended with [`Sql::push`] and [`Sql::arg`].
    pub(crate) fn new(text: &str) -> Self {
        query(text)
    }

    /// Appends SQL text.
    pub(crate) fn push(&mut self, s: &str) -> &mut Self {
        self.text.push_str(s);
        self
    }

    /// Adds an argument and returns its placeholder.
    pub(crate) fn arg(&mut self, a: impl Into<Arg>) -> String {
        self.args.push(a.into());
        format!("${}", self.args.len())
    }

    /// Placeholders for a list of arguments: `$3, $4, $5`.
    pub(crate) fn list<A: Into<Arg>>(&mut self, args: impl IntoIterator<Item = A>) -> String {
        args.into_iter().map(|a| self.arg(a)).collect::<Vec<_>>().join(", ")
    }

    /// Binds the next `$n` parameter.
    pub(crate) fn bind(mut self, a: impl Into<Arg>) -> Self {
        self.args.push(a.into());
        self
    }

    /// Runs a statement; returns the number of rows it changed.
    pub(crate) async fn execute<'c>(self, conn: impl Into<Conn<'c>>) -> Result<u64, StoreError> {
        let Sql { text, args } = self;
        Ok(on_conn!(conn.into(), args, |e, a| sqlx::query_with(&text, a)
            .execute(e)
            .await?
            .rows_affected()))
    }

    /// Every row.
    pub(crate) async fn fetch_all<'c, R: Record>(self, conn: impl Into<Conn<'c>>) -> Result<Vec<R>, StoreError> {
        let Sql { text, args } = self;
        Ok(on_conn!(conn.into(), args, |e, a| sqlx::query_as_with(&text, a)
            .fetch_all(e)
            .await?))
    }

    /// The first row, if any.
    pub(crate) async fn fetch_optional<'c, R: Record>(
        self,
        conn: impl Into<Conn<'c>>,
    ) -> Result<Option<R>, StoreError> {
        let Sql { text, args } = self;
        Ok(on_conn!(conn.into(), args, |e, a| sqlx::query_as_with(&text, a)
            .fetch_optional(e)
            .await?))
    }

    /// The one row; none is an error.
    pub(crate) async fn fetch_one<'c, R: Record>(self, conn: impl Into<Conn<'c>>) -> Result<R, StoreError> {
        let Sql { text, args } = self;
        Ok(on_conn!(conn.into(), args, |e, a| sqlx::query_as_with(&text, a)
            .fetch_one(e)
            .await?))
    }
}
