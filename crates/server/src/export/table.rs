//! [`TableWriter`]: one table written a row at a time as CSV or XLSX.
//!
//! Neither format holds the table in memory. CSV rows are encoded into a
//! small buffer that [`TableWriter::flush`] hands to the response body
//! after every page of records; XLSX uses the writer's constant-memory
//! worksheet, which spills rows to a temporary file, and the finished
//! workbook is written to another temporary file that the response reads
//! from ([`TableWriter::finish_file`]).

use super::stream::Chunks;
use super::{Cell, ExportFormat, download, local_time, major_units};
use crate::error::ApiError;
use axum::response::Response;
use chrono::Utc;
use chrono_tz::Tz;
use dealflow_store::StoreError;
use rust_xlsxwriter::{Workbook, Worksheet};
use std::io::{Seek, SeekFrom};

/// The largest row count of an XLSX sheet, header included.
const XLSX_MAX_ROWS: u32 = 1_048_576;

pub(super) fn internal(what: &str, e: impl std::fmt::Display) -> ApiError {
    ApiError::Store(StoreError::Config(format!("writing the {what} export failed: {e}")))
}

fn csv_writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new().flexible(false).from_writer(Vec::new())
}

enum Sink {
    Csv(Box<csv::Writer<Vec<u8>>>),
    Xlsx(Box<Workbook>),
}

/// Writes one table as CSV or XLSX, a row at a time.
pub struct TableWriter {
    format: ExportFormat,
    sink: Sink,
    tz: Tz,
    row: u32,
    name: String,
    /// Where flushed CSV bytes go while the response is being sent; `None`
    /// when the file is built first (XLSX, and tables small enough to hold).
    chunks: Option<Chunks>,
}

impl TableWriter {
    /// A table named `name` (file stem and sheet name) with these headers.
    pub fn new(format: ExportFormat, name: &str, tz: Tz, headers: &[String]) -> Result<Self, ApiError> {
        Self::with_chunks(format, name, tz, headers, None)
    }

    pub(super) fn with_chunks(
        format: ExportFormat,
        name: &str,
        tz: Tz,
        headers: &[String],
        chunks: Option<Chunks>,
    ) -> Result<Self, ApiError> {
        let sink = match format {
            ExportFormat::Csv => Sink::Csv(Box::new(csv_writer())),
            ExportFormat::Xlsx => {
                let mut wb = Workbook::new();
                let ws = wb.add_worksheet_with_constant_memory();
                ws.set_name(name).map_err(|e| internal(name, e))?;
                ws.set_freeze_panes(1, 0).map_err(|e| internal(name, e))?;
                Sink::Xlsx(Box::new(wb))
            }
        };
        let mut w = TableWriter { format, sink, tz, row: 0, name: name.to_string(), chunks };
        let header: Vec<Cell> = headers.iter().map(|h| Cell::text(h.clone())).collect();
        w.row(&header)?;
        Ok(w)
    }

    /// Appends one row.
    pub fn row(&mut self, cells: &[Cell]) -> Result<(), ApiError> {
        let tz = self.tz;
        match &mut self.sink {
            Sink::Csv(w) => {
                let fields: Vec<String> = cells.iter().map(|c| csv_field(c, tz)).collect();
                w.write_record(&fields).map_err(|e| internal(&self.name, e))?;
            }
            Sink::Xlsx(wb) => {
                if self.row >= XLSX_MAX_ROWS {
                    return Err(dealflow_core::Invalid::one(
                        "format",
                        format!("more than {} rows do not fit in an XLSX sheet; use format=csv", XLSX_MAX_ROWS - 1),
                    )
                    .into());
                }
                let ws = wb.worksheet_from_index(0).map_err(|e| internal(&self.name, e))?;
                xlsx_row(ws, self.row, cells, tz).map_err(|e| internal(&self.name, e))?;
            }
        }
        self.row += 1;
        Ok(())
    }

    /// Hands the CSV rows written so far to the response body, waiting
    /// while the client is slower than the database (the channel is
    /// bounded). Does nothing for XLSX or a table built in memory.
    pub async fn flush(&mut self) -> Result<(), ApiError> {
        let (Sink::Csv(w), Some(tx)) = (&mut self.sink, &self.chunks) else { return Ok(()) };
        let full = std::mem::replace(&mut **w, csv_writer());
        let bytes = full.into_inner().map_err(|e| internal(&self.name, e.error()))?;
        if bytes.is_empty() {
            return Ok(());
        }
        tx.send(Ok(bytes)).await.map_err(|_| internal(&self.name, "the client closed the download"))
    }

    /// The encoded file, in memory (for tables of a bounded size: reports).
    pub fn finish(self) -> Result<Vec<u8>, ApiError> {
        match self.sink {
            Sink::Csv(w) => (*w).into_inner().map_err(|e| internal(&self.name, e.error())),
            Sink::Xlsx(mut wb) => wb.save_to_buffer().map_err(|e| internal(&self.name, e)),
        }
    }

    /// The XLSX workbook written to an anonymous temporary file, positioned
    /// at its start. Blocking: call it off the async workers.
    pub(super) fn finish_file(self) -> Result<std::fs::File, ApiError> {
        let Sink::Xlsx(mut wb) = self.sink else {
            return Err(internal(&self.name, "only an XLSX table is finished into a file"));
        };
        let mut file = tempfile::tempfile().map_err(|e| internal(&self.name, e))?;
        wb.save_to_writer(&mut file).map_err(|e| internal(&self.name, e))?;
        file.seek(SeekFrom::Start(0)).map_err(|e| internal(&self.name, e))?;
        Ok(file)
    }

    /// The encoded file as a download named `{name}-{today}.{ext}`, today
    /// being the date in the table's time zone.
    pub fn into_response(self) -> Result<Response, ApiError> {
        let (format, name, tz) = (self.format, self.name.clone(), self.tz);
        let body = self.finish()?;
        Ok(download(format, &name, Utc::now().with_timezone(&tz).date_naive(), body))
    }
}

fn csv_field(c: &Cell, tz: Tz) -> String {
    match c {
        Cell::Empty => String::new(),
        Cell::Text(s) => super::csv_safe(s).into_owned(),
        Cell::Int(i) => i.to_string(),
        Cell::Float(f) => f.to_string(),
        Cell::Money { minor, digits } => major_units(*minor, *digits),
        Cell::MoneyF { minor, digits } => (minor / 10f64.powi(*digits as i32)).to_string(),
        Cell::Time(t) => local_time(*t, tz),
    }
}

fn xlsx_row(ws: &mut Worksheet, r: u32, cells: &[Cell], tz: Tz) -> Result<(), rust_xlsxwriter::XlsxError> {
    for (i, c) in cells.iter().enumerate() {
        let col = i as u16;
        match c {
            Cell::Empty => continue,
            Cell::Text(s) => ws.write_string(r, col, s.as_str())?,
            Cell::Int(v) => ws.write_number(r, col, *v as f64)?,
            Cell::Float(v) => ws.write_number(r, col, *v)?,
            Cell::Money { minor, digits } => {
                ws.write_number_with_format(r, col, *minor as f64 / 10f64.powi(*digits as i32), &money_format(*digits))?
            }
            Cell::MoneyF { minor, digits } => ws.write_number(r, col, minor / 10f64.powi(*digits as i32))?,
            Cell::Time(t) => ws.write_string(r, col, local_time(*t, tz))?,
        };
    }
    Ok(())
}

fn money_format(digits: u8) -> rust_xlsxwriter::Format {
    let pattern = if digits == 0 { "#,##0".to_string() } else { format!("#,##0.{}", "0".repeat(digits as usize)) };
    rust_xlsxwriter::Format::new().set_num_format(pattern)
}
