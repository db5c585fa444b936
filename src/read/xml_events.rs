//! Windows events as XML: Event Viewer's "Save All Events As… XML", `wevtutil qe /f:xml` (a bare
//! sequence of `<Event>` elements) and `/f:RenderedXml`, `Get-WinEvent | % ToXml`. One
//! `<Events>` root or none; each `<Event>` is read as it streams by into the same fields the
//! EVTX reader gives: `System` (provider, id, time, record id, channel, computer, user SID),
//! `EventData/Data` by name (unnamed ones as `param1`, `param2`…), the fields of `UserData`'s
//! one wrapper element; `RenderingInfo` (the message text) is not needed and skipped.
//!
//! Events are located by the line their `<Event>` tag ends on. A syntax error cannot be
//! resynchronised: the events before it are kept, the rest of the input is counted lost.

use std::io::{self, BufRead, Read};
use std::sync::Arc;

use quick_xml::events::{BytesStart, Event as Xml};

use super::json::normalise_channel;
use super::json::problems::{Problems, RecordError};
use super::{FileOutput, ReadOptions, RecordTooLarge};
use crate::event::{Event, Locator, Origin, UserRef};

/// Read one XML input.
pub fn read_xml(
    name: &Arc<str>,
    reader: &mut dyn BufRead,
    opts: &ReadOptions,
    out: &mut FileOutput,
) {
    let mut counted = Counted {
        inner: reader,
        bytes: 0,
        lines: 0,
        since_mark: 0,
        cap: opts.limits.max_record as u64,
    };
    let mut problems = Problems::default();
    let mut xml = quick_xml::Reader::from_reader(&mut counted);
    let mut buf = Vec::new();
    let mut record: Option<Pending> = None;
    // The path of local element names inside the current <Event>.
    let mut path: Vec<Vec<u8>> = Vec::new();
    loop {
        buf.clear();
        let event = match xml.read_event_into(&mut buf) {
            Ok(e) => e,
            Err(e) => {
                let at = format!("line {}", xml.get_ref().lines + 1);
                match e {
                    quick_xml::Error::Io(io_err) => {
                        // The reader's own error, shared: rebuild it for the count and message.
                        let err = match io_err.get_ref() {
                            Some(inner) if inner.is::<RecordTooLarge>() => {
                                io::Error::other(RecordTooLarge(opts.limits.max_record))
                            }
                            Some(inner) if inner.is::<crate::read::ExpansionLimit>() => {
                                let limit = inner.downcast_ref::<crate::read::ExpansionLimit>();
                                io::Error::other(*limit.expect("checked just above"))
                            }
                            _ => io::Error::new(io_err.kind(), io_err.to_string()),
                        };
                        out.lost_rest(name, at, &err);
                    }
                    other => {
                        let err =
                            io::Error::new(io::ErrorKind::InvalidData, format!("not XML: {other}"));
                        *out.stats
                            .inputs_incomplete
                            .entry("not XML".into())
                            .or_default() += 1;
                        out.warn(name, at, format!("{err}; the rest of the input is lost"));
                    }
                }
                break;
            }
        };
        match event {
            Xml::Start(e) => {
                let local = e.local_name().as_ref().to_vec();
                if record.is_none() {
                    if local == b"Event" {
                        xml.get_mut().since_mark = 0;
                        record = Some(Pending::new(xml.get_ref().lines + 1));
                        path.clear();
                    }
                    continue;
                }
                path.push(local);
                if let Some(r) = record.as_mut() {
                    r.open(&path, &e);
                }
            }
            Xml::Empty(e) => {
                if let Some(r) = record.as_mut() {
                    path.push(e.local_name().as_ref().to_vec());
                    r.open(&path, &e);
                    r.close(&path);
                    path.pop();
                }
            }
            Xml::Text(t) => {
                if let Some(r) = record.as_mut() {
                    match t.unescape() {
                        Ok(text) => r.text(&text),
                        Err(e) => r.broken = Some(format!("bad text: {e}")),
                    }
                }
            }
            Xml::CData(t) => {
                if let Some(r) = record.as_mut() {
                    r.text(&String::from_utf8_lossy(&t.into_inner()));
                }
            }
            Xml::End(_) => {
                if record.is_none() {
                    continue;
                }
                if path.is_empty() {
                    let r = record.take().expect("inside a record");
                    let at = Locator::Line(r.line);
                    match r.finish(name) {
                        Ok(event) => out.offer(event, opts),
                        Err(err) => problems.skip(out, name, at, err),
                    }
                } else {
                    if let Some(r) = record.as_mut() {
                        r.close(&path);
                    }
                    path.pop();
                }
            }
            Xml::Eof => break,
            _ => {}
        }
    }
    if let Some(r) = record {
        // The input ended inside an <Event>: already counted as a loss when an error ended it.
        if out.stats.incomplete_total() == 0 {
            let err = io::Error::new(io::ErrorKind::UnexpectedEof, "input ends inside an <Event>");
            out.lost_rest(name, format!("line {}", r.line), &err);
        }
    }
    out.stats.bytes += counted.bytes;
    problems.finish(out, name);
}

/// One event held in a string (a SIEM's copy of the raw XML), located where its holder is.
pub(crate) fn parse_one(
    text: &str,
    file: &Arc<str>,
    locator: Locator,
) -> Result<Event, RecordError> {
    let mut out = FileOutput::default();
    read_xml(
        file,
        &mut text.as_bytes(),
        &ReadOptions::default(),
        &mut out,
    );
    if let Some(w) = out.warnings.first() {
        return Err(RecordError::new(
            "unreadable record",
            format!("XML event: {}", w.message),
        ));
    }
    let mut events = out.events.into_iter();
    match (events.next(), events.next()) {
        (Some(mut event), None) => {
            event.origin.locator = locator;
            event.source_identity = None;
            Ok(event)
        }
        (None, _) => Err(RecordError::new(
            "unreadable record",
            "no <Event> in the XML",
        )),
        (Some(_), Some(_)) => Err(RecordError::new(
            "unreadable record",
            "more than one <Event>",
        )),
    }
}

/// Counts bytes and lines as the XML parser consumes them, and stops one event from growing
/// past the record limit (quick-xml would buffer a huge text node whole).
struct Counted<'a> {
    inner: &'a mut dyn BufRead,
    bytes: u64,
    lines: u64,
    since_mark: u64,
    cap: u64,
}

impl Read for Counted<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.fill_buf()?.len().min(buf.len());
        buf[..n].copy_from_slice(&self.fill_buf()?[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Counted<'_> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.since_mark > self.cap {
            return Err(io::Error::other(RecordTooLarge(self.cap as usize)));
        }
        self.inner.fill_buf()
    }
    fn consume(&mut self, amt: usize) {
        if let Ok(buf) = self.inner.fill_buf() {
            let amt = amt.min(buf.len());
            self.lines += memchr::memchr_iter(b'\n', &buf[..amt]).count() as u64;
        }
        self.bytes += amt as u64;
        self.since_mark += amt as u64;
        self.inner.consume(amt);
    }
}

/// One `<Event>` being read.
#[derive(Default)]
struct Pending {
    line: u64,
    provider: String,
    event_id: Option<String>,
    time: Option<String>,
    record_id: Option<String>,
    channel: String,
    computer: String,
    sid: Option<String>,
    data: Vec<(String, String)>,
    unnamed: usize,
    /// The field whose text is being collected, and where it goes.
    open: Option<Target>,
    broken: Option<String>,
}

enum Target {
    EventId,
    RecordId,
    Channel,
    Computer,
    Data(usize),
}

impl Pending {
    fn new(line: u64) -> Self {
        Pending {
            line,
            ..Pending::default()
        }
    }

    fn open(&mut self, path: &[Vec<u8>], e: &BytesStart) {
        let attr = |name: &[u8]| -> Option<String> {
            e.attributes()
                .flatten()
                .find(|a| a.key.local_name().as_ref() == name)
                .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
        };
        let names: Vec<&[u8]> = path.iter().map(Vec::as_slice).collect();
        match names.as_slice() {
            [b"System", b"Provider"] => {
                self.provider = attr(b"Name")
                    .or_else(|| attr(b"EventSourceName"))
                    .unwrap_or_default();
            }
            [b"System", b"EventID"] => self.open = Some(Target::EventId),
            [b"System", b"TimeCreated"] => self.time = attr(b"SystemTime"),
            [b"System", b"EventRecordID"] => self.open = Some(Target::RecordId),
            [b"System", b"Channel"] => self.open = Some(Target::Channel),
            [b"System", b"Computer"] => self.open = Some(Target::Computer),
            [b"System", b"Security"] => self.sid = attr(b"UserID").filter(|s| !s.is_empty()),
            [b"EventData", b"Data"] => {
                let name = attr(b"Name").unwrap_or_else(|| {
                    self.unnamed += 1;
                    format!("param{}", self.unnamed)
                });
                self.data.push((name, String::new()));
                self.open = Some(Target::Data(self.data.len() - 1));
            }
            // UserData wraps its fields in one provider-specific element.
            [b"UserData", _, field] => {
                self.data
                    .push((String::from_utf8_lossy(field).into_owned(), String::new()));
                self.open = Some(Target::Data(self.data.len() - 1));
            }
            _ => {}
        }
    }

    fn text(&mut self, text: &str) {
        let slot = match self.open {
            Some(Target::EventId) => self.event_id.get_or_insert_with(String::new),
            Some(Target::RecordId) => self.record_id.get_or_insert_with(String::new),
            Some(Target::Channel) => &mut self.channel,
            Some(Target::Computer) => &mut self.computer,
            Some(Target::Data(i)) => &mut self.data[i].1,
            None => return,
        };
        slot.push_str(text);
    }

    fn close(&mut self, _path: &[Vec<u8>]) {
        self.open = None;
    }

    fn finish(self, file: &Arc<str>) -> Result<Event, RecordError> {
        if let Some(b) = self.broken {
            return Err(RecordError::new("unreadable record", b));
        }
        let event_id = self
            .event_id
            .as_deref()
            .and_then(|t| t.trim().parse::<u32>().ok())
            .ok_or_else(|| RecordError::new("no event id", "no numeric System/EventID"))?;
        let time_text = self
            .time
            .ok_or_else(|| RecordError::new("no time", "no TimeCreated/@SystemTime"))?;
        let (time, time_as_logged) =
            crate::read::times::system_time(time_text.trim()).ok_or_else(|| {
                RecordError::new("no time", format!("unreadable SystemTime {time_text:?}"))
            })?;
        let record_id = self.record_id.and_then(|t| t.trim().parse().ok());
        let mut event = Event {
            time,
            time_as_logged,
            computer: self.computer.trim().to_string(),
            channel: normalise_channel(self.channel.trim()),
            provider: self.provider,
            event_id,
            record_id,
            user: UserRef {
                sid: self.sid,
                name: None,
            },
            data: self.data,
            origin: Origin {
                file: file.clone(),
                locator: Locator::Line(self.line),
            },
            table: None,
            source_identity: None,
        };
        event.fill_user_from_subject();
        Ok(event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> FileOutput {
        let mut out = FileOutput::default();
        read_xml(
            &"e.xml".into(),
            &mut text.as_bytes(),
            &ReadOptions::default(),
            &mut out,
        );
        out
    }

    const EVENT: &str = r#"<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><Provider Name="Service Control Manager" Guid="{555908d1-a6d7-4695-8e1e-26931d2012f4}" EventSourceName="Service Control Manager"/><EventID Qualifiers="16384">7045</EventID><Version>0</Version><Level>4</Level><Task>0</Task><Opcode>0</Opcode><Keywords>0x8080000000000000</Keywords><TimeCreated SystemTime="2024-05-06T10:00:00.1234567Z"/><EventRecordID>240</EventRecordID><Correlation/><Execution ProcessID="616" ThreadID="1712"/><Channel>System</Channel><Computer>WKS-0001.corp.example</Computer><Security UserID="S-1-5-21-1-2-3-1104"/></System><EventData><Data Name="ServiceName">PSEXESVC</Data><Data Name="ImagePath">%SystemRoot%\PSEXESVC.exe</Data><Data Name="ServiceType">user mode service</Data><Data Name="StartType">demand start</Data><Data Name="AccountName">LocalSystem</Data></EventData><RenderingInfo Culture="en-US"><Message>A service was installed in the system.</Message></RenderingInfo></Event>"#;

    #[test]
    fn saved_events_with_a_root() {
        let text = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<Events>\r\n{EVENT}\r\n{}\r\n</Events>",
            EVENT.replace("240", "241")
        );
        let out = read(&text);
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        assert_eq!(out.events.len(), 2);
        let e = &out.events[0];
        assert_eq!(e.event_id, 7045);
        assert_eq!(e.provider, "Service Control Manager");
        assert_eq!(e.computer, "WKS-0001.corp.example");
        assert_eq!(e.record_id, Some(240));
        assert_eq!(e.user.sid.as_deref(), Some("S-1-5-21-1-2-3-1104"));
        assert_eq!(e.field("ImagePath"), Some("%SystemRoot%\\PSEXESVC.exe"));
        assert_eq!(e.time.to_string(), "2024-05-06T10:00:00.1234567Z");
        assert_eq!(e.origin.locator, Locator::Line(3));
        assert_eq!(out.events[1].origin.locator, Locator::Line(4));
        assert_eq!(out.stats.bytes, text.len() as u64);
    }

    #[test]
    fn a_bare_sequence_user_data_and_unnamed_data() {
        let text = format!(
            "{EVENT}{}",
            r#"<Event><System><Provider Name="P"/><EventID>1102</EventID><TimeCreated SystemTime="2024-05-06T10:00:00Z"/><Channel>Security</Channel><Computer>H</Computer></System><UserData><LogFileCleared xmlns="x"><SubjectUserSid>S-1-5-18</SubjectUserSid><SubjectUserName>a &amp; b</SubjectUserName></LogFileCleared></UserData></Event><Event><System><EventID>7036</EventID><TimeCreated SystemTime="2024-05-06T10:00:01Z"/></System><EventData><Data>PsExec</Data><Data>running</Data></EventData></Event>"#
        );
        let out = read(&text);
        assert_eq!(out.events.len(), 3, "{:?}", out.warnings);
        assert_eq!(out.events[1].field("SubjectUserName"), Some("a & b"));
        assert_eq!(out.events[1].user.sid.as_deref(), Some("S-1-5-18"));
        assert_eq!(out.events[2].field("param2"), Some("running"));
    }

    #[test]
    fn damage_is_located_and_counted() {
        let out = read(&format!(
            "<Events>{EVENT}<Event><System><EventID>x</EventID></System></Event><Event><System"
        ));
        assert_eq!(out.events.len(), 1);
        assert_eq!(out.stats.records_skipped["no event id"], 1);
        assert_eq!(out.stats.incomplete_total(), 1, "{:?}", out.warnings);
        let opts = ReadOptions::default().with_limits(crate::read::InputLimits {
            max_record: 100,
            ..crate::read::InputLimits::default()
        });
        let mut out = FileOutput::default();
        read_xml(&"big.xml".into(), &mut EVENT.as_bytes(), &opts, &mut out);
        assert!(out.events.is_empty());
        assert!(
            out.warnings[0].message.contains("--max-record"),
            "{:?}",
            out.warnings
        );
        assert_eq!(out.stats.incomplete_total(), 1);
    }
}
