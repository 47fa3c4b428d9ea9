//! A structural walk over a whole JSON document: finds the byte span, start line and index of
//! every row (API `Results`, Log Analytics `tables[].rows`, `records`, array elements, or
//! top-level objects) without building the document in memory, so a truncated or damaged
//! document still yields every complete row before the damage.

use crate::ingest::columns::ColumnMap;
use std::sync::Arc;

/// How a row's span is to be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowKind {
    /// A JSON object: a flat row or a streaming envelope (`category` + `properties`).
    Object,
    /// A positional row (`[v1, v2, ...]`) of Log Analytics table number `n`.
    Positional(u32),
    /// A JSON Lines line over the length limit: rejected in its place, never parsed.
    Overlong,
}

/// One row found in the document.
#[derive(Clone, Copy, Debug)]
pub struct Job {
    pub start: usize,
    pub end: usize,
    /// 1-based line where the row starts.
    pub line: u64,
    /// Row index within the file (the locator of document rows).
    pub index: u64,
    pub kind: RowKind,
}

/// A Log Analytics table's columns.
#[derive(Clone, Debug)]
pub struct TableCols {
    pub columns: Vec<String>,
    pub map: Arc<ColumnMap>,
}

/// The envelope a document came in (the first one seen names the format).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// `{"Schema":[...],"Results":[...]}` (Defender for Endpoint API).
    DefenderApi,
    /// `{"schema":[...],"results":[...]}` (Graph `runHuntingQuery`).
    GraphApi,
    /// `{"tables":[...]}` (Log Analytics query API).
    LogAnalytics,
    /// `{"records":[...]}` (streaming API to Azure storage).
    Records,
    /// A top-level array of objects.
    Array,
    /// One or more top-level objects.
    Objects,
}

/// Why the walk stopped before the end of the document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalkError {
    pub line: u64,
    pub reason: String,
}

enum ScanErr {
    Eof,
    Syntax(usize, &'static str),
}

/// Keys (compared case-insensitively) that make a top-level object an envelope.
pub fn is_envelope_key(k: &str) -> bool {
    ["schema", "results", "tables", "records"].iter().any(|e| k.eq_ignore_ascii_case(e))
}

pub struct Walker<'a> {
    b: &'a [u8],
    pos: usize,
    line_pos: usize,
    line: u64,
    next_index: u64,
    pub tables: Vec<TableCols>,
    pub shape: Option<Shape>,
    /// Column names from `Schema`/`schema`, or the first table's columns.
    pub schema: Vec<String>,
    stopped: bool,
}

type Emit<'e> = dyn FnMut(Job, &[TableCols]) -> bool + 'e;

impl<'a> Walker<'a> {
    pub fn new(b: &'a [u8]) -> Self {
        let pos = if b.starts_with(b"\xEF\xBB\xBF") { 3 } else { 0 };
        Walker {
            b,
            pos,
            line_pos: 0,
            line: 1,
            next_index: 0,
            tables: Vec::new(),
            shape: None,
            schema: Vec::new(),
            stopped: false,
        }
    }

    /// Walk the whole document, calling `emit` for each row; `emit` returns false to stop.
    pub fn walk(&mut self, emit: &mut Emit) -> Result<(), WalkError> {
        loop {
            self.ws();
            if self.stopped || self.pos >= self.b.len() {
                return Ok(());
            }
            match self.b[self.pos] {
                b'[' => {
                    self.shape.get_or_insert(Shape::Array);
                    self.rows_array(RowKind::Object, emit)?;
                }
                b'{' => self.top_object(emit)?,
                _ => return Err(self.syntax(self.pos, "expected `{` or `[` at the top level")),
            }
        }
    }

    /// Rows found so far.
    pub fn rows(&self) -> u64 {
        self.next_index
    }

    fn line_at(&mut self, pos: usize) -> u64 {
        let pos = pos.min(self.b.len());
        if pos > self.line_pos {
            self.line += memchr::memchr_iter(b'\n', &self.b[self.line_pos..pos]).count() as u64;
            self.line_pos = pos;
        }
        self.line
    }

    fn ws(&mut self) {
        while self.pos < self.b.len() && matches!(self.b[self.pos], b' ' | b'\t' | b'\r' | b'\n') {
            self.pos += 1;
        }
    }

    fn syntax(&mut self, pos: usize, what: &str) -> WalkError {
        let line = self.line_at(pos);
        WalkError { line, reason: format!("bad JSON: {what}") }
    }

    /// Error for a document that ends early: reported on the line of the cut.
    fn truncated(&mut self, inside_row: Option<(u64, u64)>) -> WalkError {
        let end = self.b.iter().rposition(|c| !c.is_ascii_whitespace()).unwrap_or(0);
        let line = self.line_at(end);
        let reason = match inside_row {
            Some((index, start_line)) => {
                format!("truncated JSON: the document ends inside row {}, which starts at line {start_line}", index + 1)
            }
            None => "truncated JSON: the document ends before its closing brackets".to_string(),
        };
        WalkError { line, reason }
    }

    fn scan_err(&mut self, e: ScanErr, inside_row: Option<(u64, u64)>) -> WalkError {
        match e {
            ScanErr::Eof => self.truncated(inside_row),
            ScanErr::Syntax(p, what) => self.syntax(p, what),
        }
    }

    fn expect(&mut self, c: u8, what: &'static str) -> Result<(), WalkError> {
        self.ws();
        match self.b.get(self.pos) {
            Some(&x) if x == c => {
                self.pos += 1;
                Ok(())
            }
            Some(_) => Err(self.syntax(self.pos, what)),
            None => Err(self.truncated(None)),
        }
    }

    /// Read an object key at `pos` (after whitespace) and the `:` after it.
    fn key(&mut self) -> Result<String, WalkError> {
        self.ws();
        let start = self.pos;
        if self.b.get(start) != Some(&b'"') {
            return match self.b.get(start) {
                None => Err(self.truncated(None)),
                Some(_) => Err(self.syntax(start, "expected a quoted key")),
            };
        }
        let end = string_end(self.b, start).map_err(|e| self.scan_err(e, None))?;
        let text = String::from_utf8_lossy(&self.b[start..end]);
        let key: String = serde_json::from_str(&text).map_err(|_| self.syntax(start, "bad key string"))?;
        self.pos = end;
        self.expect(b':', "expected `:` after a key")?;
        self.ws();
        Ok(key)
    }

    /// After a member: `,` (true, more follow) or the closing bracket (false).
    fn next_member(&mut self, close: u8) -> Result<bool, WalkError> {
        self.ws();
        match self.b.get(self.pos) {
            Some(b',') => {
                self.pos += 1;
                Ok(true)
            }
            Some(&c) if c == close => {
                self.pos += 1;
                Ok(false)
            }
            Some(_) => Err(self.syntax(
                self.pos,
                if close == b'}' { "expected `,` or `}` between members" } else { "expected `,` or `]` between rows" },
            )),
            None => Err(self.truncated(None)),
        }
    }

    /// Skip one value at `pos`, returning its span.
    fn skip_value(&mut self) -> Result<(usize, usize), WalkError> {
        self.ws();
        let start = self.pos;
        let end = value_end(self.b, start).map_err(|e| self.scan_err(e, None))?;
        self.pos = end;
        Ok((start, end))
    }

    fn top_object(&mut self, emit: &mut Emit) -> Result<(), WalkError> {
        let start = self.pos;
        let start_line = self.line_at(start);
        let mut envelope = false;
        match self.top_members(emit, &mut envelope) {
            // A flat object cut off is one row, reported as such.
            Err(e) if !envelope && e.reason.starts_with("truncated") => {
                let index = self.next_index;
                return Err(self.truncated(Some((index, start_line))));
            }
            Err(e) => return Err(e),
            Ok(()) => {}
        }
        if !envelope && !self.stopped {
            self.shape.get_or_insert(Shape::Objects);
            let job = Job { start, end: self.pos, line: start_line, index: self.next_index, kind: RowKind::Object };
            self.next_index += 1;
            if !emit(job, &self.tables) {
                self.stopped = true;
            }
        }
        Ok(())
    }

    fn top_members(&mut self, emit: &mut Emit, envelope: &mut bool) -> Result<(), WalkError> {
        self.pos += 1;
        self.ws();
        if self.b.get(self.pos) == Some(&b'}') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            let key = self.key()?;
            let lower = key.to_ascii_lowercase();
            let array_follows = self.b.get(self.pos) == Some(&b'[');
            match lower.as_str() {
                "results" if array_follows => {
                    *envelope = true;
                    let shape = if key == "Results" { Shape::DefenderApi } else { Shape::GraphApi };
                    self.shape.get_or_insert(shape);
                    self.rows_array(RowKind::Object, emit)?;
                }
                "records" if array_follows => {
                    *envelope = true;
                    self.shape.get_or_insert(Shape::Records);
                    self.rows_array(RowKind::Object, emit)?;
                }
                "tables" if array_follows => {
                    *envelope = true;
                    self.shape.get_or_insert(Shape::LogAnalytics);
                    self.tables_array(emit)?;
                }
                "schema" if array_follows => {
                    *envelope = true;
                    let (s, e) = self.skip_value()?;
                    if self.schema.is_empty() {
                        self.schema = column_names(&self.b[s..e]);
                    }
                }
                _ => {
                    self.skip_value()?;
                }
            }
            if self.stopped || !self.next_member(b'}')? {
                return Ok(());
            }
        }
    }

    /// `[row, row, ...]` at `pos`: each element is a row.
    fn rows_array(&mut self, kind: RowKind, emit: &mut Emit) -> Result<(), WalkError> {
        self.expect(b'[', "expected `[`")?;
        self.ws();
        if self.b.get(self.pos) == Some(&b']') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            self.ws();
            let start = self.pos;
            if start >= self.b.len() {
                return Err(self.truncated(None));
            }
            let line = self.line_at(start);
            let index = self.next_index;
            let end = value_end(self.b, start).map_err(|e| self.scan_err(e, Some((index, line))))?;
            self.pos = end;
            self.next_index += 1;
            if !emit(Job { start, end, line, index, kind }, &self.tables) {
                self.stopped = true;
                return Ok(());
            }
            if !self.next_member(b']')? {
                return Ok(());
            }
        }
    }

    /// Log Analytics `tables`: `[{"name":..,"columns":[..],"rows":[[..],..]}, ...]`.
    fn tables_array(&mut self, emit: &mut Emit) -> Result<(), WalkError> {
        self.expect(b'[', "expected `[`")?;
        self.ws();
        if self.b.get(self.pos) == Some(&b']') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            self.expect(b'{', "expected a table object")?;
            let mut columns: Option<Vec<String>> = None;
            let mut pending_rows: Option<usize> = None;
            let mut table_id: Option<u32> = None;
            self.ws();
            if self.b.get(self.pos) == Some(&b'}') {
                self.pos += 1;
            } else {
                loop {
                    let key = self.key()?;
                    match key.to_ascii_lowercase().as_str() {
                        "columns" => {
                            let (s, e) = self.skip_value()?;
                            columns = Some(column_names(&self.b[s..e]));
                        }
                        "rows" => {
                            if let Some(cols) = columns.take() {
                                let id = self.add_table(cols);
                                table_id = Some(id);
                                self.rows_array(RowKind::Positional(id), emit)?;
                                if self.stopped {
                                    return Ok(());
                                }
                            } else {
                                // Rows before columns: come back to them once the columns are known.
                                pending_rows = Some(self.pos);
                                self.skip_value()?;
                            }
                        }
                        _ => {
                            self.skip_value()?;
                        }
                    }
                    if !self.next_member(b'}')? {
                        break;
                    }
                }
            }
            if let Some(p) = pending_rows {
                let id = self.add_table(columns.take().unwrap_or_default());
                let resume = self.pos;
                let (line_pos, line) = (self.line_pos, self.line);
                // Rewind the line counter to the rows' position, then restore it.
                self.line_pos = 0;
                self.line = 1;
                self.pos = p;
                self.rows_array(RowKind::Positional(id), emit)?;
                self.pos = resume;
                self.line_pos = line_pos;
                self.line = line;
                if self.stopped {
                    return Ok(());
                }
            } else if table_id.is_none() {
                if let Some(cols) = columns {
                    self.add_table(cols);
                }
            }
            if !self.next_member(b']')? {
                return Ok(());
            }
        }
    }

    fn add_table(&mut self, columns: Vec<String>) -> u32 {
        if self.schema.is_empty() {
            self.schema = columns.clone();
        }
        let map = Arc::new(ColumnMap::new(&columns));
        self.tables.push(TableCols { columns, map });
        (self.tables.len() - 1) as u32
    }
}

/// True when the first value in `b` is an object with an envelope key (`Results`, `tables`,
/// ...) holding an array: such a file is read as documents even if it sniffs as JSON Lines.
pub fn starts_with_envelope(b: &[u8]) -> bool {
    let mut w = Walker::new(b);
    w.ws();
    if w.b.get(w.pos) != Some(&b'{') {
        return false;
    }
    w.pos += 1;
    loop {
        let Ok(k) = w.key() else { return false };
        if is_envelope_key(&k) && w.b.get(w.pos) == Some(&b'[') {
            return true;
        }
        if w.skip_value().is_err() || !matches!(w.next_member(b'}'), Ok(true)) {
            return false;
        }
    }
}

/// The members of the object in `b`: each key with the byte span of its value, without
/// parsing the values. None when `b` is not one well-formed object at this level.
pub fn object_members(b: &[u8]) -> Option<Vec<(String, usize, usize)>> {
    let mut w = Walker::new(b);
    w.ws();
    if w.b.get(w.pos) != Some(&b'{') {
        return None;
    }
    w.pos += 1;
    let mut out = Vec::new();
    w.ws();
    if w.b.get(w.pos) == Some(&b'}') {
        return Some(out);
    }
    loop {
        let k = w.key().ok()?;
        let (s, e) = w.skip_value().ok()?;
        out.push((k, s, e));
        if !w.next_member(b'}').ok()? {
            break;
        }
    }
    w.ws();
    (w.pos == b.len()).then_some(out)
}

/// Column names from a schema list: `[{"Name":..}]`, `[{"name":..}]`, or `["a","b"]`.
fn column_names(span: &[u8]) -> Vec<String> {
    let Ok(serde_json::Value::Array(items)) = serde_json::from_slice::<serde_json::Value>(span) else {
        return Vec::new();
    };
    items
        .iter()
        .map(|it| match it {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Object(o) => o
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("name") || k.eq_ignore_ascii_case("columnname"))
                .and_then(|(_, v)| v.as_str())
                .unwrap_or("")
                .to_string(),
            _ => String::new(),
        })
        .collect()
}

fn string_end(b: &[u8], start: usize) -> Result<usize, ScanErr> {
    let mut i = start + 1;
    loop {
        match memchr::memchr2(b'"', b'\\', &b[i.min(b.len())..]) {
            None => return Err(ScanErr::Eof),
            Some(off) => {
                let at = i + off;
                if b[at] == b'\\' {
                    i = at + 2;
                    if i > b.len() {
                        return Err(ScanErr::Eof);
                    }
                } else {
                    return Ok(at + 1);
                }
            }
        }
    }
}

/// End (exclusive) of the value starting at `start`. Checks structure only (brackets and
/// strings); the value's content is validated when it is parsed.
fn value_end(b: &[u8], start: usize) -> Result<usize, ScanErr> {
    match b.get(start) {
        None => Err(ScanErr::Eof),
        Some(b'"') => string_end(b, start),
        Some(b'{' | b'[') => {
            let mut depth = 0usize;
            let mut i = start;
            while i < b.len() {
                match b[i] {
                    b'"' => {
                        i = string_end(b, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Ok(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            Err(ScanErr::Eof)
        }
        Some(b',' | b']' | b'}' | b':') => Err(ScanErr::Syntax(start, "expected a value")),
        Some(_) => {
            let mut i = start;
            while i < b.len() && !matches!(b[i], b',' | b']' | b'}' | b':' | b' ' | b'\t' | b'\r' | b'\n') {
                i += 1;
            }
            if i == b.len() {
                // A scalar running into the end of the data may itself be cut.
                return Err(ScanErr::Eof);
            }
            Ok(i)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Walked = (Vec<(String, u64, u64)>, Option<WalkError>, Option<Shape>);

    fn rows(doc: &str) -> Walked {
        let mut w = Walker::new(doc.as_bytes());
        let mut out = Vec::new();
        let r = w.walk(&mut |j, _| {
            out.push((doc[j.start..j.end].to_string(), j.line, j.index));
            true
        });
        (out, r.err(), w.shape)
    }

    #[test]
    fn finds_rows_of_each_envelope_with_lines() {
        let (r, e, s) = rows("{\n\"Schema\":[{\"Name\":\"a\"}],\n\"Results\":[\n{\"a\":1},\n {\"a\":\"]\"}\n]}");
        assert!(e.is_none());
        assert_eq!(s, Some(Shape::DefenderApi));
        assert_eq!(r, vec![("{\"a\":1}".into(), 4, 0), ("{\"a\":\"]\"}".into(), 5, 1)]);
        let (r, _, s) = rows(r#"{"tables":[{"name":"T","rows":[[1,"x"]],"columns":[{"name":"a"},{"name":"b"}]}]}"#);
        assert_eq!(s, Some(Shape::LogAnalytics));
        assert_eq!(r, vec![("[1,\"x\"]".into(), 1, 0)]);
        let (r, _, s) = rows("[{\"a\":1},{\"b\":2}]\n{\"c\":3}");
        assert_eq!(s, Some(Shape::Array));
        assert_eq!(r.len(), 3);
        assert_eq!(r[2], ("{\"c\":3}".into(), 2, 2));
    }

    #[test]
    fn truncation_keeps_complete_rows_and_reports_the_cut() {
        let (r, e, _) = rows("{\"Results\":[\n{\"a\":1},\n{\"a\":2},\n{\"a\":");
        assert_eq!(r.len(), 2);
        assert_eq!(
            e,
            Some(WalkError {
                line: 4,
                reason: "truncated JSON: the document ends inside row 3, which starts at line 4".into()
            })
        );
        let (r, e, _) = rows("[{\"a\":1},\n");
        assert_eq!(r.len(), 1);
        assert_eq!(e.unwrap().reason, "truncated JSON: the document ends before its closing brackets");
        let (_, e, _) = rows("[{\"a\":1} {\"a\":2}]");
        assert_eq!(e.unwrap().reason, "bad JSON: expected `,` or `]` between rows");
    }

    #[test]
    fn object_members_gives_value_spans_without_parsing() {
        let t = r#"{"category":"A","properties":{"x":[1,"}"]}, "n":null}"#;
        let m = object_members(t.as_bytes()).unwrap();
        let spans: Vec<(&str, &str)> = m.iter().map(|(k, s, e)| (k.as_str(), &t[*s..*e])).collect();
        assert_eq!(spans, vec![("category", "\"A\""), ("properties", r#"{"x":[1,"}"]}"#), ("n", "null")]);
        assert!(object_members(b"{\"a\":1} x").is_none());
        assert!(object_members(b"{\"a\":").is_none());
        assert!(object_members(b"[1]").is_none());
    }
}
