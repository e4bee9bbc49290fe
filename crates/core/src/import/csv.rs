//! Reading CSV files with the `csv` crate (RFC 4180: quoted fields with `""`
//! escapes, LF or CRLF line ends, fields spanning lines), record by record
//! ([`Reader`], for files of any size) or into a table ([`parse`]), whose
//! rows remember their spreadsheet row number so errors can point at it.
//!
//! The `csv` crate is lenient: a quote that is never closed swallows the
//! rest of the file into one cell, and rows may have any number of cells.
//! Both would let a broken line become a record with made-up defaults, so
//! such rows carry a [`Record::problem`] and the importer rejects them.

/// A parsed file: the header and the data rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Record>,
}

/// One data row and its spreadsheet row number (the header is row 1).
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub row: usize,
    pub cells: Vec<String>,
    /// Why the row is malformed (an unclosed quote, a cell count other than
    /// the header's); such a row is reported, never imported.
    pub problem: Option<String>,
}

/// Parses CSV text. Blank lines are skipped; header cells are trimmed and a
/// UTF-8 byte-order mark before them removed, since exports often carry one.
/// A row with another number of cells than the header, or whose quote is
/// never closed, keeps its cells but gets a [`Record::problem`].
pub fn parse(text: &str) -> Result<Table, String> {
    let mut reader = Reader::new(text.as_bytes())?;
    let rows = reader.by_ref().collect::<Result<Vec<_>, _>>()?;
    Ok(Table { header: reader.header, rows })
}

/// Reads a CSV file record by record, in constant memory, with the checks
/// and row numbers of [`parse`]. The quote check needs the end of the
/// file, so each record is handed out once the next one is read.
pub struct Reader<R: std::io::Read> {
    inner: csv::Reader<QuoteWatch<R>>,
    header: Vec<String>,
    /// The record read but not handed out yet.
    ahead: Option<Record>,
    /// Records read so far.
    count: usize,
    done: bool,
}

impl<R: std::io::Read> Reader<R> {
    /// Reads and checks the header row.
    pub fn new(read: R) -> Result<Self, String> {
        let watch = QuoteWatch { inner: read, state: Quote::CellStart, start: true };
        // Flexible, so a ragged row becomes a row problem instead of ending
        // the whole file at the first one.
        let mut inner = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(watch);
        let header: Vec<String> = inner
            .headers()
            .map_err(|e| format!("cannot read the header row: {e}"))?
            .iter()
            .map(|h| h.trim().to_string())
            .collect();
        if header.iter().all(String::is_empty) {
            return Err("the file has no header row".into());
        }
        for (i, h) in header.iter().enumerate() {
            if header[..i].contains(h) {
                return Err(format!("column `{h}` appears twice in the header"));
            }
        }
        Ok(Self { inner, header, ahead: None, count: 0, done: false })
    }

    /// The trimmed header cells.
    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// The next record from the file, with its problem if it has one.
    fn read(&mut self) -> Result<Option<Record>, String> {
        let mut rec = csv::StringRecord::new();
        let more = self.inner.read_record(&mut rec).map_err(|e| format!("row {}: {e}", self.count + 2))?;
        if !more {
            return Ok(None);
        }
        self.count += 1;
        let cells = self.header.len();
        let problem = (rec.len() != cells).then(|| {
            format!(
                "has {} cell{} but the header has {cells} columns; check for a missing or extra comma or an unquoted comma in a value",
                rec.len(),
                if rec.len() == 1 { "" } else { "s" },
            )
        });
        Ok(Some(Record { row: self.count + 1, cells: rec.iter().map(str::to_string).collect(), problem }))
    }
}

impl<R: std::io::Read> Iterator for Reader<R> {
    type Item = Result<Record, String>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        loop {
            let next = match self.read() {
                Ok(n) => n,
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            };
            let Some(next) = next else { break };
            if let Some(prev) = self.ahead.replace(next) {
                return Some(Ok(prev));
            }
        }
        self.done = true;
        let open = self.inner.get_ref().state == Quote::Quoted;
        match self.ahead.take() {
            // An open quote runs to the end of the file, so it belongs to
            // the last record read (or to the header when there is none).
            Some(mut last) => {
                if open {
                    last.problem = Some(
                        "a quote (`\"`) opened in this row is never closed, so the rest of the file was read as one \
                         cell; close the quote, and write a quote inside a quoted cell as `\"\"`"
                            .into(),
                    );
                }
                Some(Ok(last))
            }
            None if open => Some(Err("the header row opens a quote (`\"`) that is never closed".into())),
            None => None,
        }
    }
}

/// Where the bytes read so far end, read the way the `csv` crate reads
/// them: a quote opens a quoted cell only at the start of a cell, `""`
/// inside one is a literal quote, and any other quote closes it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Quote {
    CellStart,
    Plain,
    Quoted,
    /// A quote inside a quoted cell: it closes the cell, or escapes a second one.
    ClosingOrEscaped,
}

impl Quote {
    /// The state after byte `c`. Only ASCII bytes matter, and no byte of a
    /// multi-byte UTF-8 character is ASCII, so bytes read like characters.
    fn after(self, c: u8) -> Quote {
        match (self, c) {
            (Quote::Quoted, b'"') => Quote::ClosingOrEscaped,
            (Quote::Quoted, _) => Quote::Quoted,
            (Quote::ClosingOrEscaped, b'"') => Quote::Quoted,
            (Quote::CellStart, b'"') => Quote::Quoted,
            (_, b',' | b'\n' | b'\r') => Quote::CellStart,
            _ => Quote::Plain,
        }
    }
}

/// The file as the `csv` crate reads it, without a leading byte-order
/// mark, tracking the [`Quote`] state of every byte that passes.
struct QuoteWatch<R> {
    inner: R,
    state: Quote,
    /// Nothing was read yet (a byte-order mark may come).
    start: bool,
}

const BOM: &[u8] = b"\xef\xbb\xbf";

impl<R: std::io::Read> std::io::Read for QuoteWatch<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut n = self.inner.read(buf)?;
        if self.start && n > 0 {
            // Read until the mark's three bytes are in, or it is clearly not one.
            while n < BOM.len() && BOM.starts_with(&buf[..n]) {
                let more = self.inner.read(&mut buf[n..])?;
                if more == 0 {
                    break;
                }
                n += more;
            }
            self.start = false;
            if buf[..n].starts_with(BOM) {
                buf.copy_within(BOM.len()..n, 0);
                n -= BOM.len();
            }
        }
        for &c in &buf[..n] {
            self.state = self.state.after(c);
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_crlf_and_row_numbers() {
        let t = parse("\u{feff}a, b\r\n1,\"x, \"\"y\"\"\"\r\n\r\n2,\"multi\nline\"\n3,\n").unwrap();
        assert_eq!(t.header, ["a", "b"]);
        assert_eq!(t.rows.len(), 3);
        assert_eq!(t.rows[0].cells, ["1", "x, \"y\""]);
        assert_eq!(t.rows[1].cells, ["2", "multi\nline"]);
        assert_eq!(t.rows[2].cells, ["3", ""]);
        assert_eq!(t.rows.iter().map(|r| r.row).collect::<Vec<_>>(), [2, 3, 4]);
        assert!(t.rows.iter().all(|r| r.problem.is_none()));
    }

    #[test]
    fn no_final_newline_and_errors() {
        assert_eq!(parse("a\n1").unwrap().rows[0].cells, ["1"]);
        assert!(parse("").is_err());
        assert!(parse("a,a\n").unwrap_err().contains("twice"));
    }

    #[test]
    fn an_unclosed_quote_marks_its_row() {
        let t = parse("a,b\n1,2\n\"X5,broken\n3,4\n").unwrap();
        assert_eq!(t.rows[0].problem, None);
        let bad = t.rows.last().unwrap();
        assert_eq!(bad.row, 3);
        assert!(bad.problem.as_deref().unwrap().contains("never closed"), "{bad:?}");
        assert!(parse("\"a,b\n1,2\n").unwrap_err().contains("never closed"));
        // A closed quote at the very end, and quotes inside a plain cell, are fine.
        let t = parse("a,b\n1,\"x\"\n2,ab\"c\n").unwrap();
        assert!(t.rows.iter().all(|r| r.problem.is_none()), "{t:?}");
    }

    #[test]
    fn a_row_with_another_cell_count_is_marked() {
        let t = parse("a,b,c\n1,2,3\n1,2\n1,2,3,4\n").unwrap();
        let problems: Vec<Option<&str>> = t.rows.iter().map(|r| r.problem.as_deref()).collect();
        assert_eq!(problems[0], None);
        assert!(problems[1].unwrap().starts_with("has 2 cells but the header has 3 columns"));
        assert!(problems[2].unwrap().starts_with("has 4 cells"));
    }
}
