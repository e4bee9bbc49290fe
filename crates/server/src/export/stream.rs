//! Sending a record export while it is read, so neither the server's
//! memory nor the client's wait grows with the number of records.
//!
//! - CSV starts at once: a task reads the records a page at a time and
//!   sends each page's bytes through a bounded channel that the response
//!   body drains. Bad parameters were refused before (the extractors), so
//!   what can still fail part-way is the database or the client; the task
//!   then ends the body with an error, which the client sees as a cut-off
//!   transfer, never as a complete file with rows missing.
//! - XLSX is a zip whose directory comes last, so it is built first, in
//!   constant memory (see [`super::table`]), into a temporary file, and then
//!   sent from that file with its length. Building first also keeps a clear
//!   422 for a table too long for a sheet.

use super::{ExportFormat, TableWriter, download_headers};
use crate::error::ApiError;
use axum::body::Body;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use chrono_tz::Tz;
use std::future::Future;
use std::io::Read;
use tokio::sync::mpsc;

/// The sending end of a download's body.
pub(super) type Chunks = mpsc::Sender<Result<Vec<u8>, std::io::Error>>;

/// How many encoded pages may wait for a slow client.
const QUEUE: usize = 4;
/// Bytes read from the XLSX file per chunk.
const FILE_CHUNK: usize = 64 * 1024;

/// Where an export writes: its format, file name and time zone, and the
/// body it streams into. [`Target::open`] gives the [`TableWriter`] once the
/// headers are known.
pub struct Target {
    format: ExportFormat,
    name: &'static str,
    tz: Tz,
    chunks: Option<Chunks>,
}

impl Target {
    pub fn open(self, headers: &[String]) -> Result<TableWriter, ApiError> {
        TableWriter::with_chunks(self.format, self.name, self.tz, headers, self.chunks)
    }
}

/// Answers with the export that `fill` writes, streamed as the module doc
/// says. `fill` opens the target, writes its rows (calling
/// [`TableWriter::flush`] after each page) and returns the writer.
pub async fn respond<F, Fut>(format: ExportFormat, name: &'static str, tz: Tz, fill: F) -> Result<Response, ApiError>
where
    F: FnOnce(Target) -> Fut,
    Fut: Future<Output = Result<TableWriter, ApiError>> + Send + 'static,
{
    let date = Utc::now().with_timezone(&tz).date_naive();
    match format {
        ExportFormat::Csv => {
            let (tx, rx) = mpsc::channel(QUEUE);
            let work = fill(Target { format, name, tz, chunks: Some(tx.clone()) });
            tokio::spawn(async move {
                let done = async {
                    let mut w = work.await?;
                    w.flush().await
                };
                if let Err(e) = done.await {
                    tracing::warn!(export = name, error = %e, "export stopped part-way; the download is cut off");
                    let _ = tx.send(Err(std::io::Error::other(e.to_string()))).await;
                }
            });
            Ok((download_headers(format, name, date), Body::from_stream(receive(rx))).into_response())
        }
        ExportFormat::Xlsx => {
            let w = fill(Target { format, name, tz, chunks: None }).await?;
            let file = tokio::task::spawn_blocking(move || w.finish_file())
                .await
                .map_err(|e| super::table::internal(name, e))??;
            let len = file.metadata().map_err(|e| super::table::internal(name, e))?.len();
            let (tx, rx) = mpsc::channel(QUEUE);
            tokio::task::spawn_blocking(move || send_file(file, &tx));
            let mut resp = (download_headers(format, name, date), Body::from_stream(receive(rx))).into_response();
            resp.headers_mut().insert(axum::http::header::CONTENT_LENGTH, len.into());
            Ok(resp)
        }
    }
}

/// The channel as the body's stream of chunks.
fn receive(
    rx: mpsc::Receiver<Result<Vec<u8>, std::io::Error>>,
) -> impl futures_util::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    // Fused: the compression layer may poll once more after the end, which
    // a bare `unfold` answers with a panic.
    futures_util::StreamExt::fuse(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    }))
}

/// Reads the finished file into the channel; stops when the client goes.
fn send_file(mut file: std::fs::File, tx: &Chunks) {
    loop {
        let mut buf = vec![0; FILE_CHUNK];
        let item = match file.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => {
                buf.truncate(n);
                Ok(buf)
            }
            Err(e) => Err(e),
        };
        let failed = item.is_err();
        if tx.blocking_send(item).is_err() || failed {
            return;
        }
    }
}
