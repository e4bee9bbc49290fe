//! A small RFC 4180 CSV reader: comma separated, double-quoted fields with
//! `""` escapes, LF or CRLF line ends, quoted fields may span lines. Enough
//! for spreadsheet and CRM exports without another dependency; rows keep the
//! line they start on so errors can point at it.

/// A parsed file: the header and the data rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Record>,
}

/// One data row and the spreadsheet row number it starts on (the header is row 1).
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub row: usize,
    pub cells: Vec<String>,
}

/// Parses CSV text. Blank lines are skipped; a header cell is trimmed and a
/// UTF-8 byte-order mark before it removed, since exports often carry one.
pub fn parse(text: &str) -> Result<Table, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rows: Vec<Record> = Vec::new();
    let mut cells: Vec<String> = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut line = 1usize;
    let mut start_line = 1usize;
    let mut chars = text.chars().peekable();
    let mut at_cell_start = true;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    cell.push('"');
                }
                '"' => quoted = false,
                '\n' => {
                    line += 1;
                    cell.push('\n');
                }
                _ => cell.push(c),
            }
            continue;
        }
        match c {
            '"' if at_cell_start => {
                quoted = true;
                at_cell_start = false;
            }
            ',' => {
                cells.push(std::mem::take(&mut cell));
                at_cell_start = true;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                cells.push(std::mem::take(&mut cell));
                if !(cells.len() == 1 && cells[0].is_empty()) {
                    rows.push(Record { row: start_line, cells: std::mem::take(&mut cells) });
                }
                cells.clear();
                line += 1;
                start_line = line;
                at_cell_start = true;
            }
            _ => {
                cell.push(c);
                at_cell_start = false;
            }
        }
    }
    if quoted {
        return Err(format!("row {start_line}: a quoted field is never closed"));
    }
    if !cell.is_empty() || !cells.is_empty() {
        cells.push(cell);
        rows.push(Record { row: start_line, cells });
    }
    let mut it = rows.into_iter();
    let header = it.next().ok_or("the file is empty; it needs a header row")?;
    let header: Vec<String> = header.cells.iter().map(|h| h.trim().to_string()).collect();
    let mut seen = std::collections::HashSet::new();
    for h in &header {
        if !h.is_empty() && !seen.insert(h) {
            return Err(format!("the header names column `{h}` twice"));
        }
    }
    // Rows are numbered by their position among records, so a multi-line
    // quoted cell does not shift the numbers of the rows after it away from
    // what a spreadsheet shows.
    let rows = it.enumerate().map(|(i, r)| Record { row: i + 2, cells: r.cells }).collect();
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
        assert!(parse("a\n\"open").unwrap_err().contains("never closed"));
    }
}
