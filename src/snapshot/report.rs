//! The load report in a snapshot: every file's report, rejects with their typed reasons,
//! encoded field by field so it reads back equal to the one the load built.

use super::codec::{Dec, Enc};
use crate::ingest::{FileReject, FileReport, LoadReport, Position, RejectKind, TableCounts};
use crate::model::tables::{DevField, NetField, VmField};

type R<T> = Result<T, String>;

/// The `'static` column name of a reject read back: readers name columns by their field
/// names, so it is a lookup. None for any other name (such a load is then not snapshotted
/// rather than reported differently).
fn static_column(name: &str) -> Option<&'static str> {
    NetField::ALL
        .iter()
        .map(|f| f.name())
        .chain(DevField::ALL.iter().map(|f| f.name()))
        .chain(VmField::ALL.iter().map(|f| f.name()))
        .find(|n| *n == name)
}

/// Whether `put_report` can store every reject of `report` so that it reads back equal.
pub(crate) fn storable(report: &LoadReport) -> bool {
    report.files.iter().flat_map(|f| &f.rejects).all(|r| match &r.kind {
        RejectKind::Missing { column }
        | RejectKind::BadTimestamp { column, .. }
        | RejectKind::BadIp { column, .. }
        | RejectKind::BadPort { column, .. }
        | RejectKind::BadNumber { column, .. } => static_column(column).is_some(),
        _ => true,
    })
}

pub(crate) fn put_counts(e: &mut Enc, c: &TableCounts) {
    let TableCounts { net, dev, vm, ti } = c;
    for v in [net, dev, vm, ti] {
        e.u64(*v);
    }
}

pub(crate) fn get_counts(d: &mut Dec) -> R<TableCounts> {
    Ok(TableCounts { net: d.u64()?, dev: d.u64()?, vm: d.u64()?, ti: d.u64()? })
}

/// A tag, then the kind's text fields, then its numbers (a match with every variant named, so
/// a new kind cannot be left out unnoticed).
fn put_kind(e: &mut Enc, k: &RejectKind) {
    use RejectKind as K;
    let (tag, texts, numbers): (u8, Vec<&str>, Vec<u64>) = match k {
        K::Missing { column } => (0, vec![*column], vec![]),
        K::BadTimestamp { reason, column } => (1, vec![reason.as_str(), column], vec![]),
        K::BadIp { value, column } => (2, vec![value.as_str(), column], vec![]),
        K::BadPort { value, column } => (3, vec![value.as_str(), column], vec![]),
        K::BadNumber { value, column } => (4, vec![value.as_str(), column], vec![]),
        K::FieldCount { expected, found } => (5, vec![], vec![*expected as u64, *found as u64]),
        K::RecordTooLong { mib } => (6, vec![], vec![*mib as u64]),
        K::LineTooLong { mib } => (7, vec![], vec![*mib as u64]),
        K::UnclosedQuote { mib } => (8, vec![], vec![*mib as u64]),
        K::BadEventId { value } => (9, vec![value.as_str()], vec![]),
        K::BadEventDataJson { message } => (10, vec![message.as_str()], vec![]),
        K::BadEventDataXml { message } => (11, vec![message.as_str()], vec![]),
        K::NoEventData => (12, vec![], vec![]),
        K::EventDataNotJsonOrXml => (13, vec![], vec![]),
        K::BadSyslogXml { message } => (14, vec![message.as_str()], vec![]),
        K::PropertiesNotObject => (15, vec![], vec![]),
        K::Json { truncated, message, column } => {
            (16, vec![message.as_str()], vec![u64::from(*truncated), column.map_or(u64::MAX, |c| c as u64)])
        }
        K::JsonDocument { message } => (17, vec![message.as_str()], vec![]),
        K::NotJsonObject => (18, vec![], vec![]),
        K::NotJsonArray => (19, vec![], vec![]),
        K::CorruptEvtx { message } => (20, vec![message.as_str()], vec![]),
        K::Text { reason } => (21, vec![reason.as_str()], vec![]),
    };
    e.u8(tag);
    for t in texts {
        e.str(t);
    }
    for n in numbers {
        e.u64(n);
    }
}

fn get_kind(d: &mut Dec) -> R<RejectKind> {
    use RejectKind as K;
    let column = |d: &mut Dec| -> R<&'static str> {
        let s = d.string()?;
        static_column(&s).ok_or_else(|| "unknown column in a reject".to_string())
    };
    let size = |d: &mut Dec| -> R<usize> { usize::try_from(d.u64()?).map_err(|_| "number too large".to_string()) };
    Ok(match d.u8()? {
        0 => K::Missing { column: column(d)? },
        1 => K::BadTimestamp { reason: d.string()?, column: column(d)? },
        2 => K::BadIp { value: d.string()?, column: column(d)? },
        3 => K::BadPort { value: d.string()?, column: column(d)? },
        4 => K::BadNumber { value: d.string()?, column: column(d)? },
        5 => K::FieldCount { expected: size(d)?, found: size(d)? },
        6 => K::RecordTooLong { mib: size(d)? },
        7 => K::LineTooLong { mib: size(d)? },
        8 => K::UnclosedQuote { mib: size(d)? },
        9 => K::BadEventId { value: d.string()? },
        10 => K::BadEventDataJson { message: d.string()? },
        11 => K::BadEventDataXml { message: d.string()? },
        12 => K::NoEventData,
        13 => K::EventDataNotJsonOrXml,
        14 => K::BadSyslogXml { message: d.string()? },
        15 => K::PropertiesNotObject,
        16 => {
            let message = d.string()?;
            let truncated = d.u64()? == 1;
            let column = d.u64()?;
            K::Json { truncated, message, column: (column != u64::MAX).then_some(column as usize) }
        }
        17 => K::JsonDocument { message: d.string()? },
        18 => K::NotJsonObject,
        19 => K::NotJsonArray,
        20 => K::CorruptEvtx { message: d.string()? },
        21 => K::Text { reason: d.string()? },
        _ => return Err("unknown reject kind".into()),
    })
}

pub(crate) fn put_report(e: &mut Enc, report: &LoadReport) {
    // A stopped load is never snapshotted (`load_cached`), so `stopped` is always false here.
    let LoadReport { files, stopped: _ } = report;
    e.len(files.len());
    for f in files {
        // Every field named, so a new one cannot be left out of snapshots unnoticed.
        let FileReport { path, format, rows, rejected, rejects, warnings, skipped, missing_columns, unknown_columns } =
            f;
        e.str(path);
        e.opt_str(format.as_deref());
        put_counts(e, rows);
        e.u64(*rejected);
        e.len(rejects.len());
        for r in rejects {
            let FileReject { file, pos, kind } = r;
            let Position { line, record } = pos;
            e.str(file);
            e.u64(*line);
            e.bool(record.is_some());
            e.u64(record.unwrap_or(0));
            put_kind(e, kind);
        }
        e.strs(warnings);
        e.opt_str(skipped.as_deref());
        e.strs(missing_columns);
        e.strs(unknown_columns);
    }
}

pub(crate) fn get_report(d: &mut Dec) -> R<LoadReport> {
    let n = d.len(8)?;
    let mut files = Vec::with_capacity(n);
    for _ in 0..n {
        let path = d.string()?;
        let format = d.opt_string()?;
        let rows = get_counts(d)?;
        let rejected = d.u64()?;
        let k = d.len(18)?;
        let mut rejects = Vec::with_capacity(k);
        for _ in 0..k {
            let file = d.string()?;
            let line = d.u64()?;
            let some = d.bool()?;
            let record = d.u64()?;
            let pos = Position { line, record: some.then_some(record) };
            rejects.push(FileReject { file, pos, kind: get_kind(d)? });
        }
        files.push(FileReport {
            path,
            format,
            rows,
            rejected,
            rejects,
            warnings: d.strings()?,
            skipped: d.opt_string()?,
            missing_columns: d.strings()?,
            unknown_columns: d.strings()?,
        });
    }
    Ok(LoadReport { files, stopped: false })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reject_kind_reads_back_equal_and_an_unknown_column_is_not_stored() {
        use RejectKind as K;
        let kinds = vec![
            K::Missing { column: "Timestamp" },
            K::BadTimestamp { reason: "bad timestamp `x`".into(), column: "TimeGenerated" },
            K::BadIp { value: "1.2.3".into(), column: "RemoteIP" },
            K::BadPort { value: "99999".into(), column: "DestinationPort" },
            K::BadNumber { value: "x".into(), column: "BytesSent" },
            K::FieldCount { expected: 38, found: 2 },
            K::RecordTooLong { mib: 64 },
            K::LineTooLong { mib: 64 },
            K::UnclosedQuote { mib: 64 },
            K::BadEventId { value: "x".into() },
            K::BadEventDataJson { message: "m".into() },
            K::BadEventDataXml { message: "m".into() },
            K::NoEventData,
            K::EventDataNotJsonOrXml,
            K::BadSyslogXml { message: "m".into() },
            K::PropertiesNotObject,
            K::Json { truncated: true, message: "m".into(), column: Some(7) },
            K::Json { truncated: false, message: "m".into(), column: None },
            K::JsonDocument { message: "m".into() },
            K::NotJsonObject,
            K::NotJsonArray,
            K::CorruptEvtx { message: "m".into() },
            K::Text { reason: "r".into() },
        ];
        let rejects: Vec<FileReject> = kinds
            .into_iter()
            .enumerate()
            .map(|(i, kind)| FileReject {
                file: "a.csv".into(),
                pos: Position { line: i as u64 + 2, record: (i % 2 == 0).then_some(i as u64) },
                kind,
            })
            .collect();
        let report = LoadReport {
            stopped: false,
            files: vec![FileReport { path: "a.csv".into(), rejects, ..Default::default() }],
        };
        assert!(storable(&report));
        let mut e = Enc::default();
        put_report(&mut e, &report);
        let back = get_report(&mut Dec::new(&e.buf)).unwrap();
        assert_eq!(back.files[0].rejects, report.files[0].rejects);
        let odd = FileReject { file: "a".into(), pos: Position::default(), kind: K::Missing { column: "NotAColumn" } };
        assert!(!storable(&LoadReport {
            stopped: false,
            files: vec![FileReport { rejects: vec![odd], ..Default::default() }]
        }));
    }
}
