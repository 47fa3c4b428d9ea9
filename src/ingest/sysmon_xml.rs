//! Sysmon XML: Sentinel `EventData` (`<DataItem>…<EventData><Data Name=…>`) and full `<Event>`
//! documents (rendered EVTX, Sysmon for Linux in Syslog) into event ID, computer and fields.

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

/// What one Sysmon XML document says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SysmonXml {
    /// `<System><EventID>` when the document has a `System` block.
    pub event_id: Option<u32>,
    /// `<System><Computer>` when present.
    pub computer: Option<String>,
    /// `<Data Name="X">v</Data>` pairs in document order; values unescaped, empty elements "".
    pub data: Vec<(String, String)>,
}

/// Which text the parser is currently collecting.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Collect {
    None,
    EventId,
    Computer,
    Data,
}

fn data_name(e: &BytesStart, unnamed: usize) -> Result<String, String> {
    for a in e.attributes() {
        let a = a.map_err(|err| format!("bad XML attribute: {err}"))?;
        if a.key.local_name().as_ref() == b"Name" {
            return a.unescape_value().map(|v| v.into_owned()).map_err(|err| format!("bad XML attribute value: {err}"));
        }
    }
    // Nameless `<Data>` (classic events with positional data) keep their position as name.
    Ok(format!("Data{unnamed}"))
}

fn entity(name: &str) -> Option<char> {
    Some(match name {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "quot" => '"',
        "apos" => '\'',
        _ => return None,
    })
}

/// `<EventID>N</EventID>` (attributes allowed) of an XML event, read without parsing the rest
/// (so a cut or damaged event still names its ID).
pub fn peek_event_id(xml: &str) -> Option<u32> {
    let i = xml.find("<EventID")?;
    let rest = xml.get(i + "<EventID".len()..)?;
    let gt = rest.find('>')?;
    if rest[..gt].ends_with('/') {
        return None;
    }
    let body = &rest[gt + 1..];
    let end = body.find('<')?;
    body[..end].trim().parse().ok()
}

/// Parse one Sysmon XML document (either shape). Err says what is wrong with the XML.
pub fn parse_event_xml(xml: &str) -> Result<SysmonXml, String> {
    let mut reader = Reader::from_str(xml.trim_start_matches('\u{feff}'));
    reader.config_mut().check_end_names = true;
    let mut out = SysmonXml::default();
    let mut depth = 0usize;
    let mut in_system = false;
    let mut collect = Collect::None;
    let mut text = String::new();
    let mut name = String::new();
    let mut unnamed = 0usize;
    let mut saw_event = false;
    loop {
        let ev = reader.read_event().map_err(|e| format!("bad XML at byte {}: {e}", reader.error_position()))?;
        match ev {
            Event::Start(e) => {
                depth += 1;
                match e.local_name().as_ref() {
                    b"System" => in_system = true,
                    b"EventID" if in_system => {
                        collect = Collect::EventId;
                        text.clear();
                    }
                    b"Computer" if in_system => {
                        collect = Collect::Computer;
                        text.clear();
                    }
                    b"Data" => {
                        name = data_name(&e, unnamed)?;
                        unnamed += 1;
                        collect = Collect::Data;
                        text.clear();
                    }
                    b"Event" | b"EventData" | b"DataItem" => saw_event = true,
                    _ => {}
                }
            }
            Event::Empty(e) => {
                if e.local_name().as_ref() == b"Data" {
                    let n = data_name(&e, unnamed)?;
                    unnamed += 1;
                    out.data.push((n, String::new()));
                } else if matches!(e.local_name().as_ref(), b"EventData" | b"Event") {
                    saw_event = true;
                }
            }
            Event::End(e) => {
                depth = depth.saturating_sub(1);
                match (e.local_name().as_ref(), collect) {
                    (b"System", _) => in_system = false,
                    (b"EventID", Collect::EventId) => {
                        let t = text.trim();
                        out.event_id = Some(t.parse::<u32>().map_err(|_| format!("bad EventID `{}`", t))?);
                        collect = Collect::None;
                    }
                    (b"Computer", Collect::Computer) => {
                        out.computer = Some(text.trim().to_string());
                        collect = Collect::None;
                    }
                    (b"Data", Collect::Data) => {
                        out.data.push((std::mem::take(&mut name), std::mem::take(&mut text)));
                        collect = Collect::None;
                    }
                    _ => {}
                }
            }
            Event::Text(t) if collect != Collect::None => {
                let s = t.xml_content().map_err(|e| format!("bad XML text: {e}"))?;
                text.push_str(&s);
            }
            Event::CData(t) if collect != Collect::None => {
                let s = t.decode().map_err(|e| format!("bad XML text: {e}"))?;
                text.push_str(&s);
            }
            Event::GeneralRef(r) if collect != Collect::None => {
                let c = match r.resolve_char_ref().map_err(|e| format!("bad XML character reference: {e}"))? {
                    Some(c) => c,
                    None => {
                        let n = r.decode().map_err(|e| format!("bad XML reference: {e}"))?;
                        entity(&n).ok_or_else(|| format!("unknown XML entity `&{n};`"))?
                    }
                };
                text.push(c);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if depth > 0 {
        return Err("truncated XML (unclosed elements)".into());
    }
    if !saw_event && out.data.is_empty() && out.event_id.is_none() {
        return Err("no Sysmon event in XML (expected <Event> or <EventData>)".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentinel_data_item_fields_are_unescaped() {
        let xml = r#"<DataItem type="System.XmlData" time="2023-11-17T11:40:10.3354939+05:30"><EventData xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><Data Name="RuleName">technique_id=T1036</Data><Data Name="Image">C:\A &amp; B\x.exe</Data><Data Name="User"/><Data Name="DestinationIp">20.83.130.102</Data><Data Name="Note">&lt;a&gt; &#x41;&#66; &quot;q&quot;</Data></EventData></DataItem>"#;
        let x = parse_event_xml(xml).unwrap();
        assert_eq!(x.event_id, None);
        assert_eq!(x.computer, None);
        assert_eq!(
            x.data,
            vec![
                ("RuleName".to_string(), "technique_id=T1036".to_string()),
                ("Image".to_string(), r"C:\A & B\x.exe".to_string()),
                ("User".to_string(), String::new()),
                ("DestinationIp".to_string(), "20.83.130.102".to_string()),
                ("Note".to_string(), "<a> AB \"q\"".to_string()),
            ]
        );
    }

    #[test]
    fn full_event_document_gives_id_and_computer() {
        let xml = r#"<?xml version="1.0"?><Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><Provider Name="Linux-Sysmon" Guid="{ff032593-a8d3-4f13-b0d6-01fc615a0f97}"/><EventID Qualifiers="0">3</EventID><Version>5</Version><Computer>web-01</Computer><Security UserId="0"/></System><EventData><Data Name="UtcTime">2024-02-01 10:00:00.123</Data><Data Name="Image">/usr/bin/curl</Data><Data Name="DestinationHostname">-</Data><Data Name="DestinationPort"></Data></EventData></Event>"#;
        let x = parse_event_xml(xml).unwrap();
        assert_eq!(x.event_id, Some(3));
        assert_eq!(x.computer.as_deref(), Some("web-01"));
        assert_eq!(x.data.len(), 4);
        assert_eq!(x.data[1], ("Image".into(), "/usr/bin/curl".into()));
        assert_eq!(x.data[3], ("DestinationPort".into(), String::new()));
    }

    #[test]
    fn peek_event_id_reads_the_id_of_damaged_xml() {
        assert_eq!(peek_event_id("<Event><System><EventID>5</EventID><Data Name=\"Image\">&lt x"), Some(5));
        assert_eq!(peek_event_id("<Event><System><EventID Qualifiers=\"0\">3</EventID>"), Some(3));
        assert_eq!(peek_event_id("<Event><System><EventID/>"), None);
        assert_eq!(peek_event_id("<Event><System><Ev"), None);
        assert_eq!(peek_event_id("<EventID>\u{20ac}3</EventID>"), None);
    }

    #[test]
    fn broken_xml_is_an_error_not_a_panic() {
        assert!(parse_event_xml("<EventData><Data Name=\"A\">x</Dta></EventData>").is_err());
        assert!(parse_event_xml("<EventData><Data Name=\"A\">x").is_err());
        assert!(parse_event_xml("<Event><System><EventID>three</EventID></System></Event>").is_err());
        assert!(parse_event_xml("not xml at all").is_err());
        assert!(parse_event_xml("").is_err());
        assert!(parse_event_xml("<EventData><Data Name=\"A\">&bogus;</Data></EventData>").is_err());
    }
}
