//! What the CLI prints: tables for people, CSV and JSON for scripts.

use crate::{CliError, Result, csv_register};
use clap::{Args, ValueEnum};
use std::io::Write;

/// An output format.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum Format {
    Table,
    Json,
    Csv,
}

/// `--format`, for commands that take nothing else.
#[derive(Debug, Args)]
pub(crate) struct FormatArg {
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub(crate) format: Format,
}

pub(crate) fn print_json(value: &impl serde::Serialize) -> Result<()> {
    let s = serde_json::to_string_pretty(value).map_err(|e| CliError::Failed(e.to_string()))?;
    println!("{s}");
    Ok(())
}

/// Prints rows as an aligned table, CSV or JSON objects keyed by the headers.
pub(crate) fn print_rows(format: Format, headers: &[&str], rows: &[Vec<String>]) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match format {
        Format::Json => {
            let items: Vec<serde_json::Map<String, serde_json::Value>> = rows
                .iter()
                .map(|r| {
                    headers
                        .iter()
                        .zip(r)
                        .map(|(h, v)| ((*h).to_owned(), serde_json::Value::String(v.clone())))
                        .collect()
                })
                .collect();
            drop(out);
            print_json(&items)?;
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(headers).map_err(|e| CliError::Failed(e.to_string()))?;
            for r in rows {
                w.write_record(r.iter().map(|c| csv_register::neutralise(c)))
                    .map_err(|e| CliError::Failed(e.to_string()))?;
            }
            w.flush()?;
        }
        Format::Table => {
            let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
            for r in rows {
                for (w, c) in widths.iter_mut().zip(r) {
                    *w = (*w).max(c.chars().count().min(60));
                }
            }
            let line = |cells: Vec<String>| -> String {
                cells
                    .iter()
                    .zip(&widths)
                    .map(|(c, w)| {
                        let c: String = c.chars().take(60).collect();
                        format!("{c:<w$}")
                    })
                    .collect::<Vec<_>>()
                    .join("  ")
                    .trim_end()
                    .to_owned()
            };
            writeln!(out, "{}", line(headers.iter().map(|h| h.to_uppercase()).collect()))?;
            for r in rows {
                writeln!(out, "{}", line(r.clone()))?;
            }
        }
    }
    Ok(())
}
