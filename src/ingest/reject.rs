//! Rejected rows as values: what was wrong with a row (`RejectKind`) and where it sits
//! (`Position`), kept typed through the readers and turned into text only where it is shown
//! (`FileReject`'s `Display`), as the csv crate keeps its `Position { byte, line, record }`.

use crate::model::clip;
use std::fmt;

/// Where a rejected row sits in its file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Position {
    /// 1-based line where the row starts (for EVTX, the record's `EventRecordID`).
    pub line: u64,
    /// 1-based row number inside a JSON document, where many rows may share one line.
    pub record: Option<u64>,
}

impl Position {
    pub fn line(line: u64) -> Position {
        Position { line, record: None }
    }
}

impl From<u64> for Position {
    fn from(line: u64) -> Position {
        Position::line(line)
    }
}

/// Why a row was rejected. Quoted input is clipped when the value is made.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RejectKind {
    /// A required value (the row's time) is empty.
    Missing {
        column: &'static str,
    },
    /// The time value did not parse; `reason` is the parser's (`bad timestamp `x``).
    BadTimestamp {
        reason: String,
        column: &'static str,
    },
    BadIp {
        value: String,
        column: &'static str,
    },
    BadPort {
        value: String,
        column: &'static str,
    },
    BadNumber {
        value: String,
        column: &'static str,
    },
    /// A CSV record with a different number of fields than the header.
    FieldCount {
        expected: usize,
        found: usize,
    },
    /// A CSV record over the per-record limit (in MiB); the file goes on.
    RecordTooLong {
        mib: usize,
    },
    /// A physical line over the line limit (in MiB); skipped, the file goes on after it.
    LineTooLong {
        mib: usize,
    },
    /// A record that ran past the line limit across several lines: an opening quote that never
    /// closes. Its first line is skipped and reading resumes on the next line.
    UnclosedQuote {
        mib: usize,
    },
    BadEventId {
        value: String,
    },
    BadEventDataJson {
        message: String,
    },
    BadEventDataXml {
        message: String,
    },
    /// A Sysmon Event ID 3 row whose `EventData` is empty.
    NoEventData,
    EventDataNotJsonOrXml,
    BadSyslogXml {
        message: String,
    },
    /// A streaming event (`category` + `properties`) whose `properties` is not an object.
    PropertiesNotObject,
    /// A JSON row that does not parse; `column` counts from the start of its line (JSON Lines).
    Json {
        truncated: bool,
        message: String,
        column: Option<usize>,
    },
    /// Where a walk over a JSON document stopped (the message names what it found).
    JsonDocument {
        message: String,
    },
    NotJsonObject,
    NotJsonArray,
    CorruptEvtx {
        message: String,
    },
    /// A reason a reader reports as text (threat-intel feed lines).
    Text {
        reason: String,
    },
}

impl RejectKind {
    pub fn bad_timestamp(reason: String, column: &'static str) -> RejectKind {
        RejectKind::BadTimestamp { reason, column }
    }

    pub fn bad_ip(value: &str, column: &'static str) -> RejectKind {
        RejectKind::BadIp { value: clip(value), column }
    }

    pub fn bad_port(value: &str, column: &'static str) -> RejectKind {
        RejectKind::BadPort { value: clip(value), column }
    }

    pub fn bad_number(value: &str, column: &'static str) -> RejectKind {
        RejectKind::BadNumber { value: clip(value), column }
    }

    pub fn bad_event_id(value: &str) -> RejectKind {
        RejectKind::BadEventId { value: clip(value) }
    }
}

impl fmt::Display for RejectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RejectKind::Missing { column } => write!(f, "missing {column}"),
            RejectKind::BadTimestamp { reason, column } => write!(f, "{reason} in {column}"),
            RejectKind::BadIp { value, column } => write!(f, "bad IP `{value}` in {column}"),
            RejectKind::BadPort { value, column } => write!(f, "bad port `{value}` in {column}"),
            RejectKind::BadNumber { value, column } => write!(f, "bad number `{value}` in {column}"),
            RejectKind::FieldCount { expected, found } => write!(f, "expected {expected} fields, found {found}"),
            RejectKind::RecordTooLong { mib } => write!(f, "record longer than {mib} MiB"),
            RejectKind::LineTooLong { mib } => write!(f, "line longer than {mib} MiB skipped"),
            RejectKind::UnclosedQuote { mib } => write!(
                f,
                "record runs past {mib} MiB from a quote that never closes; this line was skipped and reading resumed on the next"
            ),
            RejectKind::BadEventId { value } => write!(f, "bad EventID `{value}`"),
            RejectKind::BadEventDataJson { message } => write!(f, "bad EventData JSON: {message}"),
            RejectKind::BadEventDataXml { message } => write!(f, "bad EventData XML: {message}"),
            RejectKind::NoEventData => f.write_str("Sysmon Event ID 3 without EventData"),
            RejectKind::EventDataNotJsonOrXml => f.write_str("EventData is neither a JSON object nor XML"),
            RejectKind::BadSyslogXml { message } => write!(f, "bad Sysmon XML in SyslogMessage: {message}"),
            RejectKind::PropertiesNotObject => {
                f.write_str("streaming event whose `properties` is not a JSON object")
            }
            RejectKind::Json { truncated, message, column } => {
                f.write_str(if *truncated { "truncated JSON: " } else { "bad JSON: " })?;
                f.write_str(message)?;
                match column {
                    Some(c) => write!(f, " (column {c})"),
                    None => Ok(()),
                }
            }
            RejectKind::JsonDocument { message } => f.write_str(message),
            RejectKind::NotJsonObject => f.write_str("row is not a JSON object"),
            RejectKind::NotJsonArray => f.write_str("row is not a JSON array"),
            RejectKind::CorruptEvtx { message } => write!(f, "corrupted EVTX record: {message}"),
            RejectKind::Text { reason } => f.write_str(reason),
        }
    }
}

/// One rejected row of a file reader: where and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowReject {
    pub pos: Position,
    pub kind: RejectKind,
}

impl fmt::Display for RowReject {
    /// `line: reason (row N)`, without the file (see `FileReject` for the full form).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.pos.line, self.kind)?;
        if let Some(r) = self.pos.record {
            write!(f, " (row {r})")?;
        }
        Ok(())
    }
}

/// A rejected row with the file it came from, as a load report lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileReject {
    pub file: String,
    pub pos: Position,
    pub kind: RejectKind,
}

impl FileReject {
    pub fn new(file: &str, r: RowReject) -> FileReject {
        FileReject { file: file.to_string(), pos: r.pos, kind: r.kind }
    }
}

impl fmt::Display for FileReject {
    /// `file:line: reason`, and ` (row N)` for a row of a JSON document.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, RowReject { pos: self.pos, kind: self.kind.clone() })
    }
}

impl serde::Serialize for FileReject {
    /// Reports serialize a reject as the line a user reads (what `inspect --format json`
    /// has always printed).
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_format_as_file_line_reason_and_row() {
        let r = FileReject {
            file: "a.json".into(),
            pos: Position { line: 9, record: Some(2) },
            kind: RejectKind::bad_ip("203.0.113.256", "RemoteIP"),
        };
        assert_eq!(r.to_string(), "a.json:9: bad IP `203.0.113.256` in RemoteIP (row 2)");
        assert_eq!(serde_json::to_value(&r).unwrap(), serde_json::json!(r.to_string()));
        let j = RejectKind::Json { truncated: true, message: "EOF while parsing a string".into(), column: Some(7) };
        let r = FileReject { file: "b.jsonl".into(), pos: Position::line(7), kind: j };
        assert_eq!(r.to_string(), "b.jsonl:7: truncated JSON: EOF while parsing a string (column 7)");
    }

    #[test]
    fn quoted_values_are_clipped_when_the_reject_is_made() {
        let long = "9".repeat(500);
        let RejectKind::BadPort { value, .. } = RejectKind::bad_port(&long, "RemotePort") else { unreachable!() };
        assert_eq!(value.chars().count(), 61);
    }
}
