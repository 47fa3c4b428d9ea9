//! Unit tests of the splitter and the delimiter detection (whole-file behaviour is pinned in
//! `tests/ingest_csv.rs`).

use super::split::Splitter;
use super::*;

/// (header bytes, [(block bytes, start byte, start line)]) for `data` cut with `target`.
fn cut(data: &[u8], target: usize) -> (String, Vec<(String, u64, u64)>) {
    let mut sp = Splitter::new(data, b',', 0, target);
    let h = sp.header().unwrap().map(|b| b.bytes).unwrap_or_default();
    let mut out = Vec::new();
    while let Some(b) = sp.next_block().unwrap() {
        out.push((String::from_utf8(b.bytes).unwrap(), b.start_byte, b.start_line));
    }
    (String::from_utf8(h).unwrap(), out)
}

/// Fields, start byte and 0-based start line of every record, by the reader's record parser.
fn records(data: &[u8]) -> Vec<(Vec<String>, u64, u64)> {
    let mut r = super::record::Records::new(data, b',');
    let mut rec = super::record::RawRecord::default();
    let mut out = Vec::new();
    while let Some(at) = r.next_into(&mut rec) {
        let fields = (0..rec.len()).map(|i| String::from_utf8_lossy(rec.bytes(data, i)).into_owned()).collect();
        out.push((fields, at.byte as u64, at.line));
    }
    out
}

#[test]
fn blocks_hold_whole_records_with_absolute_positions() {
    // Quoted newlines, doubled quotes, a literal quote inside an unquoted field, CRLF, and a
    // last record without a newline; more than one 64 KiB read so cuts fall mid-stream.
    let forms =
        ["1,\"x\ny\"\n", "2,\"q\"\"\n\"\"\n", "3,z\"w\n", "4,\"\"\r\n", "5,\"a,b\",c\n", "6,\"\r\"\r7,\"8\"\r\n"];
    let mut data = String::from("a,b\n");
    for i in 0..20_000 {
        data.push_str(forms[i % forms.len()]);
    }
    data.push_str("6,end");
    let whole = records(data.as_bytes());
    for target in [1, 1000, 30_000] {
        let (h, blocks) = cut(data.as_bytes(), target);
        assert_eq!(h, "a,b\n");
        assert!(blocks.len() > 1, "target {target}");
        let mut got = Vec::new();
        for (bytes, start_byte, start_line) in &blocks {
            for (fields, byte, line) in records(bytes.as_bytes()) {
                got.push((fields, start_byte + byte, start_line - 1 + line));
            }
        }
        // `Records` counts lines from 0; block start lines count from 1.
        let want = whole[1..].to_vec();
        let diff = got.iter().zip(&want).position(|(a, b)| a != b);
        assert_eq!(got.len(), want.len(), "target {target}");
        assert_eq!(diff.map(|i| (&got[i], &want[i])), None, "target {target}");
    }
}

#[test]
fn splitter_treats_quote_inside_unquoted_field_as_literal() {
    // `z"w` does not open a quote, so the newline after it ends the record.
    let mut sp = Splitter::new(&b"h\nz\"w\nnext\n"[..], b',', 0, 1);
    sp.header().unwrap();
    let b = sp.next_block().unwrap().unwrap();
    assert_eq!(records(&b.bytes).len(), 2);
}

/// What the splitter hands on: (start line, record text or the skip reason).
fn pieces(data: &[u8]) -> Vec<(u64, String)> {
    let mut sp = Splitter::new(data, b',', 0, 1 << 20);
    sp.header().unwrap();
    let mut out = Vec::new();
    while let Some(b) = sp.next_block().unwrap() {
        match &b.skipped {
            Some(kind) => out.push((b.start_line, format!("skipped {} bytes: {kind}", b.skipped_bytes))),
            None => {
                for (fields, _, line) in records(&b.bytes) {
                    out.push((b.start_line + line, crate::model::clip(&fields.join(","))));
                }
            }
        }
    }
    out
}

#[test]
fn over_long_lines_and_unclosed_quotes_are_skipped_and_the_rest_still_splits() {
    let max = split::MAX_RECORD_BYTES;
    // Line 3 opens a quote that never closes; line 4 alone is over the limit.
    let mut data = b"h\nok\n\"never closed\n".to_vec();
    data.extend(std::iter::repeat_n(b'x', max + 10));
    data.extend_from_slice(b"\r\nlater,row\n\"quoted \"\"q\"\"\",end\n");
    let got = pieces(&data);
    let quote =
        "record runs past 64 MiB from a quote that never closes; this line was skipped and reading resumed on the next";
    assert_eq!(
        got,
        vec![
            (2, "ok".to_string()),
            (3, format!("skipped 14 bytes: {quote}")),
            (4, format!("skipped {} bytes: line longer than 64 MiB skipped", max + 12)),
            (5, "later,row".to_string()),
            (6, "quoted \"q\",end".to_string()),
        ]
    );
}

#[test]
fn an_over_long_last_line_without_a_line_end_is_skipped_at_the_end() {
    let mut data = b"h\nok\n".to_vec();
    data.extend(std::iter::repeat_n(b'y', split::MAX_RECORD_BYTES + 1));
    let got = pieces(&data);
    assert_eq!(got.len(), 2);
    assert_eq!(got[1].0, 3);
    assert!(got[1].1.ends_with("line longer than 64 MiB skipped"), "{got:?}");
}

#[test]
fn input_ending_inside_quotes_names_the_line_of_its_record() {
    for (data, want) in [
        (&b"h\na\n\"b\nc"[..], Some(3)),
        (&b"h\na\n\n\n\"b,c"[..], Some(5)),
        (&b"h\na\n\"b\"\n"[..], None),
        (&b"h\na\n\"b\"\""[..], Some(3)),
        (&b"h\na\n\"b\"\"\""[..], None),
        (&b"h\na\"b"[..], None),
    ] {
        let mut sp = Splitter::new(data, b',', 0, 1 << 20);
        sp.header().unwrap();
        while sp.next_block().unwrap().is_some() {}
        assert_eq!(sp.open_quote_line(), want, "{:?}", String::from_utf8_lossy(data));
    }
}

#[test]
fn delimiter_is_detected_from_the_header_outside_quotes() {
    assert_eq!(detect_delimiter(b"a,b,c\n1;2;3;4;5\n"), b',');
    assert_eq!(detect_delimiter(b"a\tb\tc\n"), b'\t');
    assert_eq!(detect_delimiter(b"\"x,y,z\";b;c\n"), b';');
    assert_eq!(detect_delimiter(b"single\n"), b',');
}

#[test]
fn reread_reads_memory_sources_by_offset() {
    let data = "\u{feff}A;B;EventID;EventData\n1;\"x\ny\";3;\"<EventData><Data Name=\"\"Image\"\">C:\\a.exe</Data></EventData>\"\n2;z;1;\n";
    let second = data.find("\n2;").unwrap() as u64 + 1;
    let source = SourceInfo {
        display: "mem".into(),
        data: SourceData::Memory(data.as_bytes().to_vec().into()),
        kind: crate::ingest::sniff::Kind::Csv,
        columns: vec!["A".into(), "B".into(), "EventID".into(), "EventData".into()],
    };
    let first = data.find("1;").unwrap() as u64;
    let got = reread(&source, &[second, first, 10_000]);
    let pairs = |v: &[(&str, &str)]| v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect::<Vec<_>>();
    assert_eq!(got[0], Ok(pairs(&[("A", "2"), ("B", "z"), ("EventID", "1"), ("EventData", "")])));
    assert_eq!(
        got[1],
        Ok(pairs(&[
            ("A", "1"),
            ("B", "x\ny"),
            ("EventID", "3"),
            ("EventData", "<EventData><Data Name=\"Image\">C:\\a.exe</Data></EventData>"),
            ("EventData.Image", "C:\\a.exe"),
        ]))
    );
    assert_eq!(got[2], Err("row offset past the end of the source".to_string()));
}
