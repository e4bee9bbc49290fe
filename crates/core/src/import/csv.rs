//! Reading CSV files with the `csv` crate (RFC 4180: quoted fields with `""`
//! escapes, LF or CRLF line ends, fields spanning lines), into a table whose
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
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // Flexible, so a ragged row becomes a row problem instead of ending
    // the whole file at the first one.
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(text.as_bytes());
    let header: Vec<String> = reader
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
    let mut rows = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.map_err(|e| format!("row {}: {e}", i + 2))?;
        let problem = (rec.len() != header.len()).then(|| {
            format!(
                "has {} cell{} but the header has {} columns; check for a missing or extra comma or an unquoted comma in a value",
                rec.len(),
                if rec.len() == 1 { "" } else { "s" },
                header.len()
            )
        });
        rows.push(Record { row: i + 2, cells: rec.iter().map(str::to_string).collect(), problem });
    }
    if ends_in_quote(text) {
        // An open quote runs to the end of the file, so it belongs to the
        // last record read (or to the header when there is none).
        let Some(last) = rows.last_mut() else {
            return Err("the header row opens a quote (`\"`) that is never closed".into());
        };
        last.problem = Some(
            "a quote (`\"`) opened in this row is never closed, so the rest of the file was read as one cell; \
             close the quote, and write a quote inside a quoted cell as `\"\"`"
                .into(),
        );
    }
    Ok(Table { header, rows })
}

/// Whether `text` ends inside a quoted cell, read the way the `csv` crate
/// reads it: a quote opens a quoted cell only at the start of a cell, `""`
/// inside one is a literal quote, and any other quote closes it.
fn ends_in_quote(text: &str) -> bool {
    #[derive(Clone, Copy, PartialEq)]
    enum S {
        CellStart,
        Plain,
        Quoted,
        QuoteInQuoted,
    }
    let mut s = S::CellStart;
    for c in text.chars() {
        s = match (s, c) {
            (S::Quoted, '"') => S::QuoteInQuoted,
            (S::Quoted, _) => S::Quoted,
            (S::QuoteInQuoted, '"') => S::Quoted,
            (S::CellStart, '"') => S::Quoted,
            (_, ',' | '\n' | '\r') => S::CellStart,
            _ => S::Plain,
        };
    }
    s == S::Quoted
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
