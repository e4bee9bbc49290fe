//! Reading CSV files with the `csv` crate (RFC 4180: quoted fields with `""`
//! escapes, LF or CRLF line ends, fields spanning lines), into a table whose
//! rows remember their spreadsheet row number so errors can point at it.

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
}

/// Parses CSV text. Blank lines are skipped; header cells are trimmed and a
/// UTF-8 byte-order mark before them removed, since exports often carry one.
/// Rows may have fewer or more cells than the header (exports are ragged);
/// the mapping decides what a missing cell means.
pub fn parse(text: &str) -> Result<Table, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
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
        rows.push(Record { row: i + 2, cells: rec.iter().map(str::to_string).collect() });
    }
    Ok(Table { header, rows })
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
    }

    #[test]
    fn no_final_newline_and_errors() {
        assert_eq!(parse("a\n1").unwrap().rows[0].cells, ["1"]);
        assert!(parse("").is_err());
        assert!(parse("a,a\n").unwrap_err().contains("twice"));
    }
}
