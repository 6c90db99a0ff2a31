//! Staff exports of an activity's responses, as CSV or as an xlsx workbook, produced a page of
//! responses at a time so memory stays flat however many there are.
//!
//! The columns are [`consult_core::ExportLayout`]'s. CSV (RFC 4180: comma, `"` quoting where
//! needed, CRLF line ends) starts with a UTF-8 byte order mark, so Excel opens it as UTF-8 (Welsh
//! and other non-ASCII text intact); it has one header row of the stable column keys. The xlsx
//! workbook has a `responses` sheet (the same header and rows), one sheet per grid question
//! (the response id and a column per statement, for the responses that answered it) and a
//! `questions` sheet saying what each column is (question, type, text, option or statement).
//! Its worksheets are written in rust_xlsxwriter's constant-memory mode: each row goes to a
//! temporary file as it is written, and the workbook is zipped from those files at the end.
//! Text cells a spreadsheet could run as a formula (starting with `=`, `+`, `-`, `@`, a tab or
//! a carriage return) get a leading apostrophe in both formats
//! ([`consult_core::spreadsheet::neutralise`]).

use crate::App;
use crate::error::{AppError, AppResult};
use consult_core::export::{Cell, GridSheet, QUESTIONS_SHEET, RESPONSES_SHEET};
use consult_core::spreadsheet::neutralise;
use consult_core::{Actor, CheckedAnswers, ConsultationId, ExportLayout, ExportRecord, Questionnaire};
use consult_store::{ExportPage, ExportReader};
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};
use std::io::Write;
use uuid::Uuid;

/// Responses read from the store per page.
pub const EXPORT_PAGE: u32 = 1_000;

/// The most rows of an xlsx worksheet (the header row included).
const XLSX_MAX_ROWS: u64 = 1_048_576;
/// The most columns of an xlsx worksheet.
const XLSX_MAX_COLUMNS: usize = 16_384;

/// The UTF-8 byte order mark that starts a CSV export.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The file format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// CSV, RFC 4180, UTF-8 with a byte order mark.
    Csv,
    /// An Excel workbook.
    Xlsx,
}

impl ExportFormat {
    /// Parses `csv` or `xlsx` (absent: CSV); anything else is invalid, naming `format`.
    pub fn parse(s: Option<&str>) -> AppResult<ExportFormat> {
        match s.map(str::trim) {
            None | Some("" | "csv") => Ok(Self::Csv),
            Some("xlsx") => Ok(Self::Xlsx),
            Some(other) => Err(AppError::field("format", format!("`{other}` is not csv or xlsx"))),
        }
    }

    /// `csv` or `xlsx`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
        }
    }

    /// The media type.
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }
}

/// One response as exported: its row on the main sheet and, per grid sheet, its row there
/// (none when it did not answer that grid).
#[derive(Debug, Clone, PartialEq)]
pub struct ExportedRow {
    /// The main sheet's cells.
    pub cells: Vec<Cell>,
    /// The grid sheets' rows, in [`ExportLayout::grids`] order.
    pub grids: Vec<Option<Vec<Cell>>>,
}

/// An export under way: the responses of one activity, read a page at a time. Made by
/// [`App::export_responses`], which checked who may read them and audited the export.
#[derive(Debug)]
pub struct ResponseExport {
    /// Every page is read on this one held connection; dropped once the last page is read.
    reader: Option<ExportReader>,
    /// This export's place among those running at once ([`crate::EXPORTS_AT_ONCE`]).
    _running: tokio::sync::OwnedSemaphorePermit,
    id: ConsultationId,
    format: ExportFormat,
    questionnaire: Option<Questionnaire>,
    layout: ExportLayout,
    /// The last response read.
    after: Option<Uuid>,
    started: bool,
    done: bool,
    page_size: u32,
    /// Responses read so far.
    read: u64,
}

impl App {
    /// Starts an export of an activity's responses (officers of the owner and coordinators,
    /// the write guard; audited as `responses.export`). Never the monitoring answers. An xlsx
    /// export of more responses than a worksheet holds, or of more columns, is invalid
    /// (`format`: CSV has no such limit).
    pub async fn export_responses(
        &self,
        actor: &Actor,
        id: ConsultationId,
        format: ExportFormat,
    ) -> AppResult<ResponseExport> {
        let c = self.writable_consultation(actor, id).await?;
        let questionnaire = self.store.questionnaire(c.id).await?;
        let themes = self.store.themes(c.id).await?;
        let layout = ExportLayout::new(questionnaire.as_ref(), &themes);
        let responses = self
            .store
            .response_counts(&[c.id])
            .await?
            .get(&c.id)
            .copied()
            .unwrap_or(0);
        if format == ExportFormat::Xlsx {
            if responses >= XLSX_MAX_ROWS {
                return Err(AppError::field(
                    "format",
                    format!(
                        "{responses} responses do not fit an xlsx worksheet (at most {}); export as csv",
                        XLSX_MAX_ROWS - 1
                    ),
                ));
            }
            if layout.columns.len() > XLSX_MAX_COLUMNS {
                return Err(AppError::field(
                    "format",
                    format!(
                        "the questionnaire gives {} columns, more than an xlsx worksheet holds ({XLSX_MAX_COLUMNS}); export as csv",
                        layout.columns.len()
                    ),
                ));
            }
        }
        let running = self.exports.clone().try_acquire_owned().map_err(|_| {
            AppError::Busy(format!(
                "{} exports of responses are already running; try again when one has finished",
                crate::EXPORTS_AT_ONCE
            ))
        })?;
        let detail = serde_json::json!({ "format": format.as_str(), "responses": responses });
        self.store
            .audit_read(actor, self.now(), "responses.export", &c.id.to_string(), &detail)
            .await?;
        Ok(ResponseExport {
            reader: Some(self.store.export_reader(c.id).await?),
            _running: running,
            id: c.id,
            format,
            questionnaire,
            layout,
            after: None,
            started: false,
            done: false,
            page_size: EXPORT_PAGE,
            read: 0,
        })
    }
}

impl ResponseExport {
    /// The columns and grid sheets.
    pub fn layout(&self) -> &ExportLayout {
        &self.layout
    }

    /// The format asked for.
    pub fn format(&self) -> ExportFormat {
        self.format
    }

    /// A file name for the export: `responses-<activity id>.csv` (or `.xlsx`).
    pub fn file_name(&self) -> String {
        format!("responses-{}.{}", self.id, self.format.as_str())
    }

    /// The next page of responses (in the order received), or none when every one was read.
    pub async fn next_page(&mut self) -> AppResult<Option<Vec<ExportedRow>>> {
        if self.done {
            return Ok(None);
        }
        let Some(reader) = self.reader.as_mut() else {
            return Ok(None);
        };
        let ExportPage {
            records: items,
            mut answers,
            mut codes,
        } = reader.page(self.after, self.page_size).await?;
        self.after = items.last().map(|r| r.id);
        self.done = items.len() < self.page_size as usize;
        if self.done {
            // The last page is read: its connection goes back to the pool now, not when the
            // download ends.
            self.reader = None;
        }
        if items.is_empty() {
            return Ok(None);
        }
        self.read += items.len() as u64;
        let mut rows = Vec::with_capacity(items.len());
        for r in &items {
            // Answers are rebuilt with the current questionnaire: its keys and structure cannot
            // change once responses come in (only wording), so every version reads the same.
            let parts = answers.remove(&r.id).unwrap_or_default();
            let checked = match &self.questionnaire {
                Some(q) if !parts.is_empty() => CheckedAnswers::from_rows(q, &parts),
                _ => CheckedAnswers::default(),
            };
            let version = r
                .questionnaire_version
                .map(u32::try_from)
                .transpose()
                .map_err(|e| AppError::Internal(format!("questionnaire version: {e}")))?;
            let coded = codes.remove(&r.id).unwrap_or_default();
            let record = ExportRecord {
                id: r.id,
                received_at: r.received_at,
                channel: &r.channel,
                recorded_by: r.recorded_by.as_deref(),
                questionnaire_version: version,
                comments: r.comments.as_deref(),
                answers: &checked,
                codes: &coded,
            };
            rows.push(ExportedRow {
                cells: self.layout.row(&record),
                grids: self
                    .layout
                    .grids
                    .iter()
                    .map(|g| self.layout.grid_row(g, &record))
                    .collect(),
            });
        }
        Ok(Some(rows))
    }

    /// The next piece of the CSV file: the byte order mark and header first, then a page of
    /// rows at a time; none at the end.
    pub async fn next_csv_chunk(&mut self) -> AppResult<Option<Vec<u8>>> {
        if !self.started {
            self.started = true;
            let mut out = BOM.to_vec();
            let mut w = csv_writer(&mut out);
            w.write_record(self.layout.header().map(|k| neutralise(k).into_owned()))
                .map_err(csv_error)?;
            w.flush().map_err(|e| AppError::Internal(format!("csv: {e}")))?;
            drop(w);
            return Ok(Some(out));
        }
        let Some(rows) = self.next_page().await? else {
            return Ok(None);
        };
        let mut out = Vec::with_capacity(rows.len() * 256);
        let mut w = csv_writer(&mut out);
        for row in &rows {
            w.write_record(row.cells.iter().map(csv_cell)).map_err(csv_error)?;
        }
        w.flush().map_err(|e| AppError::Internal(format!("csv: {e}")))?;
        drop(w);
        Ok(Some(out))
    }

    /// Writes the whole CSV file to `out`, returning how many responses it holds.
    pub async fn write_csv(mut self, out: &mut (impl Write + Send)) -> AppResult<u64> {
        while let Some(chunk) = self.next_csv_chunk().await? {
            out.write_all(&chunk)
                .map_err(|e| AppError::Internal(format!("writing the export: {e}")))?;
        }
        out.flush()
            .map_err(|e| AppError::Internal(format!("writing the export: {e}")))?;
        Ok(self.read)
    }

    /// Writes the xlsx workbook to `out` (rows go to temporary files page by page, the
    /// workbook is zipped into `out` at the end), returning `out` and how many responses it
    /// holds.
    pub async fn write_xlsx<W: Write + Send>(mut self, out: W) -> AppResult<(W, u64)> {
        let mut book = XlsxBook::new(&self.layout).map_err(xlsx_error)?;
        while let Some(rows) = self.next_page().await? {
            blocking(|| book.write(&rows)).await?;
        }
        let mut out = out;
        blocking(|| {
            book.workbook.save_to_writer(&mut out)?;
            out.flush()?;
            Ok(())
        })
        .await?;
        Ok((out, book.rows))
    }
}

/// Runs xlsx work (CPU and temporary files) without holding up the server: on a multi-thread
/// runtime in place (`block_in_place`: the worker's other tasks move to another thread), else
/// directly. Not `spawn_blocking`: rows built on one thread and written and freed on another
/// kept more than twice the memory (glibc's per-thread arenas: 229 MiB against 101 MiB for
/// 100,000 responses in `consult-bench export`).
async fn blocking<T>(f: impl FnOnce() -> Result<T, XlsxError>) -> AppResult<T> {
    let multi_thread = tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    if multi_thread {
        tokio::task::block_in_place(f).map_err(xlsx_error)
    } else {
        f().map_err(xlsx_error)
    }
}

fn csv_writer(out: &mut Vec<u8>) -> csv::Writer<&mut Vec<u8>> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(out)
}

fn csv_error(e: csv::Error) -> AppError {
    AppError::Internal(format!("csv: {e}"))
}

fn xlsx_error(e: XlsxError) -> AppError {
    AppError::Internal(format!("xlsx: {e}"))
}

/// A cell as CSV text: numbers as written by Rust (`4`, `42.5`), dates `YYYY-MM-DD`, moments
/// RFC 3339 in UTC to the second, text neutralised.
fn csv_cell(c: &Cell) -> String {
    match c {
        Cell::Empty => String::new(),
        Cell::Text(t) => neutralise(t).into_owned(),
        Cell::Number(n) => n.to_string(),
        Cell::Date(d) => d.to_string(),
        Cell::Time(t) => t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    }
}

/// The workbook under construction: the main sheet first, then the grids, then `questions`.
struct XlsxBook {
    workbook: Workbook,
    grids: usize,
    date: Format,
    time: Format,
    /// Rows written to the main sheet (responses).
    rows: u64,
    /// Rows written to each grid sheet.
    grid_rows: Vec<u32>,
}

impl XlsxBook {
    fn new(layout: &ExportLayout) -> Result<XlsxBook, XlsxError> {
        let mut workbook = Workbook::new();
        let bold = Format::new().set_bold();
        let sheet = workbook.add_worksheet_with_constant_memory();
        sheet.set_name(RESPONSES_SHEET)?;
        header(sheet, layout.columns.iter().map(|c| c.key.as_str()), &bold)?;
        for g in &layout.grids {
            let sheet = workbook.add_worksheet_with_constant_memory();
            sheet.set_name(&g.name)?;
            header(sheet, g.columns.iter().map(|c| c.key.as_str()), &bold)?;
        }
        questions_sheet(workbook.add_worksheet(), layout, &bold)?;
        Ok(XlsxBook {
            workbook,
            grids: layout.grids.len(),
            date: Format::new().set_num_format("yyyy-mm-dd"),
            time: Format::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
            rows: 0,
            grid_rows: vec![0; layout.grids.len()],
        })
    }

    fn write(&mut self, rows: &[ExportedRow]) -> Result<(), XlsxError> {
        for row in rows {
            self.rows += 1;
            let r = u32::try_from(self.rows).map_err(|_| XlsxError::RowColumnLimitError)?;
            let sheet = self.workbook.worksheet_from_index(0)?;
            cells(sheet, r, &row.cells, &self.date, &self.time)?;
            for (i, grid) in row.grids.iter().enumerate().take(self.grids) {
                if let Some(grid) = grid {
                    self.grid_rows[i] += 1;
                    let sheet = self.workbook.worksheet_from_index(i + 1)?;
                    cells(sheet, self.grid_rows[i], grid, &self.date, &self.time)?;
                }
            }
        }
        Ok(())
    }
}

fn header<'a>(sheet: &mut Worksheet, keys: impl Iterator<Item = &'a str>, bold: &Format) -> Result<(), XlsxError> {
    for (c, key) in keys.enumerate() {
        let c = u16::try_from(c).map_err(|_| XlsxError::RowColumnLimitError)?;
        sheet.write_string_with_format(0, c, key, bold)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    Ok(())
}

fn cells(sheet: &mut Worksheet, row: u32, cells: &[Cell], date: &Format, time: &Format) -> Result<(), XlsxError> {
    for (c, cell) in cells.iter().enumerate() {
        let c = u16::try_from(c).map_err(|_| XlsxError::RowColumnLimitError)?;
        match cell {
            Cell::Empty => {}
            Cell::Text(t) => {
                sheet.write_string(row, c, neutralise(t))?;
            }
            Cell::Number(n) => {
                sheet.write_number(row, c, *n)?;
            }
            Cell::Date(d) => {
                sheet.write_date_with_format(row, c, d, date)?;
            }
            Cell::Time(t) => {
                sheet.write_datetime_with_format(row, c, t.naive_utc(), time)?;
            }
        }
    }
    Ok(())
}

/// The `questions` sheet: what each column of the other sheets is.
fn questions_sheet(sheet: &mut Worksheet, layout: &ExportLayout, bold: &Format) -> Result<(), XlsxError> {
    sheet.set_name(QUESTIONS_SHEET)?;
    let titles = ["sheet", "column", "question", "type", "text", "part"];
    header(sheet, titles.into_iter(), bold)?;
    let main = layout.columns.iter().map(|c| (RESPONSES_SHEET, c));
    let grids = layout
        .grids
        .iter()
        .flat_map(|g: &GridSheet| g.columns.iter().skip(1).map(move |c| (g.name.as_str(), c)));
    for (r, (sheet_name, c)) in main.chain(grids).enumerate() {
        let r = u32::try_from(r + 1).map_err(|_| XlsxError::RowColumnLimitError)?;
        let values = [
            sheet_name,
            c.key.as_str(),
            c.question.as_deref().unwrap_or(""),
            c.kind,
            c.text.as_str(),
            c.part.as_deref().unwrap_or(""),
        ];
        for (col, v) in (0u16..).zip(values) {
            if !v.is_empty() {
                sheet.write_string(r, col, neutralise(v))?;
            }
        }
    }
    Ok(())
}
