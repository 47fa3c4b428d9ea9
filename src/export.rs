//! CSV export of result tables, shared by `rarity run --format csv` and the TUI's `e` key:
//! one header line of column names, then one line per row via `Cell::to_csv`.
//!
//! Spreadsheets execute cells that start with `=`, `+`, `-`, `@`, tab or CR; event strings
//! are attacker-controlled, so text cells get a leading `'` unless the caller asks for raw output.

use crate::hunt::Cell;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writing an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{path}: already exists")]
    Exists { path: PathBuf },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("writing CSV: {0}")]
    Csv(#[from] csv::Error),
}

/// Whether a text value would be read as a formula by a spreadsheet.
fn looks_like_formula(s: &str) -> bool {
    matches!(s.as_bytes().first(), Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r'))
}

/// The CSV text of one cell; text cells are guarded against formula injection unless `raw`.
/// Numbers (a negative Int starts with `-`) and times are never touched.
pub fn csv_field(cell: &Cell, raw: bool) -> String {
    let s = cell.to_csv();
    if !raw && matches!(cell, Cell::Text(_) | Cell::TextSet(_)) && looks_like_formula(&s) {
        format!("'{s}")
    } else {
        s
    }
}

/// Write `columns` as the header and `rows` below it. Returns the number of rows written.
pub fn write_csv<'a, W: Write>(
    writer: W,
    columns: &[&str],
    rows: impl IntoIterator<Item = &'a [Cell]>,
    raw: bool,
) -> Result<usize, ExportError> {
    let mut w = csv::WriterBuilder::new().flexible(true).from_writer(writer);
    w.write_record(columns)?;
    let mut n = 0;
    for row in rows {
        w.write_record(row.iter().map(|c| csv_field(c, raw)))?;
        n += 1;
    }
    w.flush().map_err(csv::Error::from)?;
    Ok(n)
}

/// Write a CSV file at `path`. Without `overwrite`, an existing file is left alone and
/// `ExportError::Exists` returned (the file is created with `create_new`, so there is no race).
pub fn write_csv_file<'a>(
    path: &Path,
    columns: &[&str],
    rows: impl IntoIterator<Item = &'a [Cell]>,
    raw: bool,
    overwrite: bool,
) -> Result<usize, ExportError> {
    let file = create(path, overwrite)?;
    write_csv(std::io::BufWriter::new(file), columns, rows, raw).map_err(|e| match e {
        ExportError::Csv(c) if c.is_io_error() => {
            ExportError::Io { path: path.to_path_buf(), source: std::io::Error::other(c.to_string()) }
        }
        other => other,
    })
}

/// Create `path` for writing; without `overwrite` an existing file is an `Exists` error
/// (`create_new`, so there is no race between the check and the write).
fn create(path: &Path, overwrite: bool) -> Result<std::fs::File, ExportError> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true);
    if overwrite {
        opts.create(true).truncate(true);
    } else {
        opts.create_new(true);
    }
    opts.open(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::AlreadyExists {
            ExportError::Exists { path: path.to_path_buf() }
        } else {
            ExportError::Io { path: path.to_path_buf(), source }
        }
    })
}

/// Write `text` to a file at `path` with the same overwrite rule as `write_csv_file` (the
/// TUI's KQL export). Returns the bytes written.
pub fn write_text_file(path: &Path, text: &str, overwrite: bool) -> Result<usize, ExportError> {
    let mut file = create(path, overwrite)?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.flush())
        .map_err(|source| ExportError::Io { path: path.to_path_buf(), source })?;
    Ok(text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn to_string(columns: &[&str], rows: &[Vec<Cell>], raw: bool) -> String {
        let mut out = Vec::new();
        write_csv(&mut out, columns, rows.iter().map(|r| r.as_slice()), raw).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn text_cells_starting_with_formula_characters_get_a_quote() {
        let rows = vec![
            vec![Cell::Text("=cmd|' /C calc'!A0".into()), Cell::Int(-5)],
            vec![Cell::Text("+1".into()), Cell::Int(3)],
            vec![Cell::Text("-x".into()), Cell::Empty],
            vec![Cell::Text("@SUM(1)".into()), Cell::Empty],
            vec![Cell::Text("\tx".into()), Cell::Empty],
            vec![Cell::Text("\rx".into()), Cell::Empty],
            vec![Cell::Text("plain".into()), Cell::Empty],
        ];
        let got = to_string(&["Name", "N"], &rows, false);
        let lines: Vec<&str> = got.lines().collect();
        assert_eq!(lines[0], "Name,N");
        assert_eq!(lines[1], "'=cmd|' /C calc'!A0,-5");
        assert_eq!(lines[2], "'+1,3");
        assert_eq!(lines[3], "'-x,");
        assert_eq!(lines[4], "'@SUM(1),");
        assert_eq!(lines[5], "'\tx,");
        assert!(got.contains("\"'\rx\""));
        assert!(got.ends_with("plain,\n"));
    }

    #[test]
    fn text_files_are_written_exactly_and_never_overwritten_unasked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.kql");
        assert_eq!(write_text_file(&path, "let a = 1;\n", false).unwrap(), 11);
        let again = write_text_file(&path, "other", false);
        assert!(matches!(again, Err(ExportError::Exists { .. })), "{again:?}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "let a = 1;\n");
        write_text_file(&path, "x", true).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "x");
        let missing = write_text_file(&dir.path().join("no/such/dir.kql"), "x", false).unwrap_err();
        assert!(missing.to_string().contains("no/such/dir.kql"), "{missing}");
    }

    #[test]
    fn raw_export_leaves_formula_characters_alone() {
        let rows = vec![vec![Cell::Text("=1+1".into())]];
        assert_eq!(to_string(&["A"], &rows, true), "A\n=1+1\n");
    }

    #[test]
    fn sets_and_times_are_written_as_the_cli_writes_them() {
        let rows = vec![vec![Cell::TextSet(vec!["a".into(), "b".into()]), Cell::IntSet(vec![22, 8080]), Cell::Time(0)]];
        assert_eq!(
            to_string(&["S", "P", "T"], &rows, false),
            "S,P,T\n\"[\"\"a\"\",\"\"b\"\"]\",\"[22,8080]\",1970-01-01T00:00:00.0000000Z\n"
        );
    }

    #[test]
    fn write_csv_file_refuses_to_overwrite_unless_asked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        let rows = [vec![Cell::Int(1)]];
        assert_eq!(write_csv_file(&path, &["N"], rows.iter().map(|r| r.as_slice()), false, false).unwrap(), 1);
        let again = write_csv_file(&path, &["M"], rows.iter().map(|r| r.as_slice()), false, false);
        assert!(matches!(again, Err(ExportError::Exists { .. })));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "N\n1\n");
        write_csv_file(&path, &["M"], rows.iter().map(|r| r.as_slice()), false, true).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "M\n1\n");
    }
}
