//! Moving a whole deployment from SQLite to PostgreSQL (`consult copy`): every table, in one
//! PostgreSQL transaction, then each table's row count and checksum compared on both sides.
//!
//! Columns are read by the PostgreSQL column's type (the SQLite migrations store UUIDs as
//! 16-byte blobs, times and dates as text, booleans as integers). Rows are read in `rowid`
//! order, which is the order they were written: SQLite enforces foreign keys, so a row's parent
//! (an area's containing area) always comes first. Timestamps are rounded to the microsecond
//! PostgreSQL keeps, on both sides of the comparison.

use crate::db::Pools;
use crate::{Store, StoreError};
use chrono::{DateTime, NaiveDate, Timelike, Utc};
use sha2::{Digest, Sha256};
use sqlx::Row;
use uuid::Uuid;

/// Rows read from SQLite per batch.
const BATCH: i64 = 2000;

/// One table copied: its rows and the checksum both databases agree on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableCopy {
    /// The table.
    pub table: String,
    /// Rows copied (and counted again on both sides).
    pub rows: u64,
    /// Order-independent checksum of every row's values (hex), equal on both sides.
    pub checksum: String,
}

/// A column and how to read it.
#[derive(Debug, Clone)]
struct Column {
    name: String,
    kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Uuid,
    Text,
    Int,
    Int32,
    Bool,
    Date,
    Time,
    Bytes,
    Float,
}

impl Kind {
    fn of(data_type: &str) -> Result<Kind, StoreError> {
        Ok(match data_type {
            "uuid" => Kind::Uuid,
            "text" | "character varying" => Kind::Text,
            "bigint" => Kind::Int,
            "integer" => Kind::Int32,
            "boolean" => Kind::Bool,
            "date" => Kind::Date,
            "timestamp with time zone" => Kind::Time,
            "bytea" => Kind::Bytes,
            "double precision" => Kind::Float,
            other => {
                return Err(StoreError::Corrupt(format!(
                    "copy: column type `{other}` is not handled"
                )));
            }
        })
    }
}

/// One value, as both databases can bind and compare it.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Null,
    Uuid(Uuid),
    Text(String),
    Int(i64),
    Bool(bool),
    Date(NaiveDate),
    Time(DateTime<Utc>),
    Bytes(Vec<u8>),
    Float(f64),
}

/// PostgreSQL keeps microseconds.
fn to_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    let nanos = t.nanosecond() % 1_000_000_000;
    let micros = (nanos + 500) / 1000;
    let base = t.with_nanosecond(0).unwrap_or(t);
    base + chrono::Duration::microseconds(i64::from(micros))
}

impl Cell {
    fn read<'r, R: Row>(row: &'r R, i: usize, kind: Kind) -> Result<Cell, sqlx::Error>
    where
        usize: sqlx::ColumnIndex<R>,
        Option<Uuid>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
        Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
        Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
        Option<i32>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
        Option<bool>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
        Option<NaiveDate>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
        Option<DateTime<Utc>>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
        Option<Vec<u8>>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
        Option<f64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    {
        Ok(match kind {
            Kind::Uuid => row.try_get::<Option<Uuid>, _>(i)?.map_or(Cell::Null, Cell::Uuid),
            Kind::Text => row.try_get::<Option<String>, _>(i)?.map_or(Cell::Null, Cell::Text),
            Kind::Int => row.try_get::<Option<i64>, _>(i)?.map_or(Cell::Null, Cell::Int),
            Kind::Int32 => row
                .try_get::<Option<i32>, _>(i)?
                .map_or(Cell::Null, |n| Cell::Int(i64::from(n))),
            Kind::Bool => row.try_get::<Option<bool>, _>(i)?.map_or(Cell::Null, Cell::Bool),
            Kind::Date => row.try_get::<Option<NaiveDate>, _>(i)?.map_or(Cell::Null, Cell::Date),
            Kind::Time => row
                .try_get::<Option<DateTime<Utc>>, _>(i)?
                .map_or(Cell::Null, |t| Cell::Time(to_micros(t))),
            Kind::Bytes => row.try_get::<Option<Vec<u8>>, _>(i)?.map_or(Cell::Null, Cell::Bytes),
            Kind::Float => row.try_get::<Option<f64>, _>(i)?.map_or(Cell::Null, Cell::Float),
        })
    }

    /// A canonical rendering for the checksum.
    fn render(&self, out: &mut Vec<u8>) {
        match self {
            Cell::Null => out.extend_from_slice(b"\0N"),
            Cell::Uuid(u) => out.extend_from_slice(u.as_bytes()),
            Cell::Text(s) => out.extend_from_slice(s.as_bytes()),
            Cell::Int(n) => out.extend_from_slice(n.to_string().as_bytes()),
            Cell::Bool(b) => out.push(u8::from(*b)),
            Cell::Date(d) => out.extend_from_slice(d.to_string().as_bytes()),
            Cell::Time(t) => out.extend_from_slice(t.timestamp_micros().to_string().as_bytes()),
            Cell::Bytes(b) => out.extend_from_slice(b),
            Cell::Float(f) => out.extend_from_slice(&f.to_bits().to_be_bytes()),
        }
        out.push(0x1f);
    }
}

/// An order-independent checksum: the wrapping sum of each row's SHA-256 (first 16 bytes).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Checksum {
    rows: u64,
    sum: u128,
}

impl Checksum {
    fn add(&mut self, row: &[Cell]) {
        let mut bytes = Vec::with_capacity(64);
        for c in row {
            c.render(&mut bytes);
        }
        let digest = Sha256::digest(&bytes);
        let mut first = [0u8; 16];
        first.copy_from_slice(&digest[..16]);
        self.sum = self.sum.wrapping_add(u128::from_be_bytes(first));
        self.rows += 1;
    }
}

fn pools(from: &Store, to: &Store) -> Result<(sqlx::SqlitePool, sqlx::PgPool), StoreError> {
    match (&from.pools, &to.pools) {
        (Pools::Sqlite(s), Pools::Postgres(p)) => Ok((s.clone(), p.clone())),
        _ => Err(StoreError::Conflict(
            "copy moves a deployment from SQLite (sqlite://...) to PostgreSQL (postgres://...)".into(),
        )),
    }
}

/// The tables of the deployment in the order they were created (parents before children).
async fn tables(sqlite: &sqlx::SqlitePool) -> Result<Vec<String>, StoreError> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name <> '_sqlx_migrations' ORDER BY rowid",
    )
    .fetch_all(sqlite)
    .await?;
    Ok(rows.into_iter().map(|(n,)| n).collect())
}

async fn columns(pg: &sqlx::PgPool, table: &str) -> Result<Vec<Column>, StoreError> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT column_name::text, data_type::text FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
    )
    .bind(table)
    .fetch_all(pg)
    .await?;
    if rows.is_empty() {
        return Err(StoreError::Corrupt(format!("copy: the target has no table `{table}`")));
    }
    rows.into_iter()
        .map(|(name, t)| {
            Ok(Column {
                name,
                kind: Kind::of(&t)?,
            })
        })
        .collect()
}

fn list(cols: &[Column]) -> String {
    cols.iter()
        .map(|c| format!("\"{}\"", c.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One batch of the source table after `rowid` `after`: the rows and the last rowid read.
async fn batch(
    sqlite: &sqlx::SqlitePool,
    table: &str,
    cols: &[Column],
    after: i64,
) -> Result<(Vec<Vec<Cell>>, Option<i64>), StoreError> {
    let sql = format!(
        "SELECT rowid, {} FROM \"{table}\" WHERE rowid > $1 ORDER BY rowid LIMIT {BATCH}",
        list(cols)
    );
    let rows = sqlx::query(&sql).bind(after).fetch_all(sqlite).await?;
    let mut last = None;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        last = Some(row.try_get::<i64, _>(0)?);
        let mut cells = Vec::with_capacity(cols.len());
        for (i, c) in cols.iter().enumerate() {
            cells.push(
                Cell::read(&row, i + 1, c.kind)
                    .map_err(|e| StoreError::Corrupt(format!("copy: reading `{table}`.`{}`: {e}", c.name)))?,
            );
        }
        out.push(cells);
    }
    Ok((out, last))
}

/// Binds a value; a NULL is bound with its column's type.
fn bind<'q>(
    q: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    cell: Cell,
    kind: Kind,
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    match cell {
        Cell::Null => match kind {
            Kind::Uuid => q.bind(None::<Uuid>),
            Kind::Text => q.bind(None::<String>),
            Kind::Int => q.bind(None::<i64>),
            Kind::Int32 => q.bind(None::<i32>),
            Kind::Bool => q.bind(None::<bool>),
            Kind::Date => q.bind(None::<NaiveDate>),
            Kind::Time => q.bind(None::<DateTime<Utc>>),
            Kind::Bytes => q.bind(None::<Vec<u8>>),
            Kind::Float => q.bind(None::<f64>),
        },
        Cell::Uuid(u) => q.bind(u),
        Cell::Text(s) => q.bind(s),
        Cell::Int(n) => match (kind, i32::try_from(n)) {
            (Kind::Int32, Ok(small)) => q.bind(small),
            _ => q.bind(n),
        },
        Cell::Bool(b) => q.bind(b),
        Cell::Date(d) => q.bind(d),
        Cell::Time(t) => q.bind(t),
        Cell::Bytes(b) => q.bind(b),
        Cell::Float(f) => q.bind(f),
    }
}

/// Copies every table of `from` (SQLite) into `to` (PostgreSQL, migrated and holding no
/// organisations, activities, residents or tokens yet) in one transaction, then counts and
/// checksums each table on both sides. Nothing is kept in `to` if any step fails.
pub async fn copy_deployment(
    from: &Store,
    to: &Store,
    mut progress: impl FnMut(&str, u64),
) -> Result<Vec<TableCopy>, StoreError> {
    let (sqlite, pg) = pools(from, to)?;
    for table in ["organisations", "consultations", "residents", "tokens"] {
        let (n,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&pg)
            .await?;
        if n > 0 {
            return Err(StoreError::Conflict(format!(
                "the target database already holds {table}: copy into a new, empty database"
            )));
        }
    }
    let names = tables(&sqlite).await?;
    let mut plan = Vec::with_capacity(names.len());
    for t in &names {
        plan.push((t.clone(), columns(&pg, t).await?));
    }
    let mut tx = pg.begin().await?;
    // Rows the target's migrations wrote (the change counter) are replaced by the source's.
    for (t, _) in plan.iter().rev() {
        sqlx::query(&format!("DELETE FROM \"{t}\"")).execute(&mut *tx).await?;
    }
    let mut sums = Vec::with_capacity(plan.len());
    for (table, cols) in &plan {
        let mut sum = Checksum::default();
        let mut after = i64::MIN;
        let per_insert = (60_000 / cols.len()).max(1);
        // The source's change numbers are copied as they are, not taken anew by triggers.
        sqlx::query(&format!("ALTER TABLE \"{table}\" DISABLE TRIGGER USER"))
            .execute(&mut *tx)
            .await?;
        loop {
            let (rows, last) = batch(&sqlite, table, cols, after).await?;
            let Some(last) = last else { break };
            after = last;
            for chunk in rows.chunks(per_insert) {
                let mut values = Vec::with_capacity(chunk.len());
                let mut n = 0;
                for _ in chunk {
                    let placeholders: Vec<String> = cols
                        .iter()
                        .map(|_| {
                            n += 1;
                            format!("${n}")
                        })
                        .collect();
                    values.push(format!("({})", placeholders.join(", ")));
                }
                let sql = format!("INSERT INTO \"{table}\" ({}) VALUES {}", list(cols), values.join(", "));
                let mut q = sqlx::query(&sql);
                for row in chunk {
                    sum.add(row);
                    for (cell, c) in row.iter().cloned().zip(cols) {
                        q = bind(q, cell, c.kind);
                    }
                }
                q.execute(&mut *tx).await?;
            }
            progress(table, sum.rows);
        }
        sqlx::query(&format!("ALTER TABLE \"{table}\" ENABLE TRIGGER USER"))
            .execute(&mut *tx)
            .await?;
        // Identity columns continue after the highest value copied.
        let identities: Vec<(String,)> = sqlx::query_as(
            "SELECT column_name::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 AND is_identity = 'YES'",
        )
        .bind(table)
        .fetch_all(&mut *tx)
        .await?;
        for (c,) in identities {
            sqlx::query(&format!(
                "SELECT setval(pg_get_serial_sequence('\"{table}\"', '{c}'), COALESCE(MAX(\"{c}\"), 0) + 1, false) FROM \"{table}\""
            ))
            .execute(&mut *tx)
            .await?;
        }
        sums.push((table.clone(), cols.clone(), sum));
    }
    tx.commit().await?;
    // Verify: every table read back from the target counts and sums as the source did.
    let mut out = Vec::with_capacity(sums.len());
    let mut read = pg.begin().await?;
    for (table, cols, source) in sums {
        // A cursor, so a table of millions of rows is read a batch at a time.
        sqlx::query(&format!(
            "DECLARE verify NO SCROLL CURSOR FOR SELECT {} FROM \"{table}\"",
            list(&cols)
        ))
        .execute(&mut *read)
        .await?;
        let mut target = Checksum::default();
        loop {
            // Not a prepared statement kept for reuse: each table's cursor has its own columns.
            let rows = sqlx::query(&format!("FETCH {BATCH} FROM verify"))
                .persistent(false)
                .fetch_all(&mut *read)
                .await?;
            if rows.is_empty() {
                break;
            }
            for row in &rows {
                let cells = cols
                    .iter()
                    .enumerate()
                    .map(|(i, c)| Cell::read(row, i, c.kind))
                    .collect::<Result<Vec<_>, _>>()?;
                target.add(&cells);
            }
        }
        sqlx::query("CLOSE verify").execute(&mut *read).await?;
        if target != source {
            return Err(StoreError::Corrupt(format!(
                "copy: `{table}` differs after copying ({} rows read, {} rows in the target)",
                source.rows, target.rows
            )));
        }
        out.push(TableCopy {
            table,
            rows: source.rows,
            checksum: format!("{:032x}", source.sum),
        });
    }
    read.commit().await?;
    Ok(out)
}
