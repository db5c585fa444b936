//! The XML that Log Analytics keeps in the `EventData` column of its `Event` and `SecurityEvent`
//! tables (`<DataItem …><EventData xmlns=…><Data Name="ServiceName">PSEXESVC</Data>…`) and in
//! `ParameterXml` (`<Param>PsExec</Param><Param>running</Param>`), read into (name, value) pairs.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event as Xml};

/// The `<Data>` (or, failing any, `<Param>`) elements of `xml`, named by their `Name` attribute or
/// numbered `param1`, `param2`, … as Windows numbers unnamed insertion strings. Text is
/// unescaped and otherwise kept as is (an `AccessMask` keeps its trailing whitespace).
pub(crate) fn data_fields(xml: &str) -> Result<Vec<(String, String)>, String> {
    let mut reader = Reader::from_str(xml);
    let mut fields = Vec::new();
    let mut unnamed = 0usize;
    // The field whose text is being read: (name, text so far).
    let mut open: Option<(String, String)> = None;
    loop {
        match reader
            .read_event()
            .map_err(|e| format!("{e} at byte {}", reader.buffer_position()))?
        {
            Xml::Start(e) if is_field(&e) => {
                open = Some((field_name(&e, &mut unnamed)?, String::new()));
            }
            Xml::Empty(e) if is_field(&e) => {
                fields.push((field_name(&e, &mut unnamed)?, String::new()));
            }
            Xml::Text(t) => {
                if let Some((_, text)) = open.as_mut() {
                    text.push_str(&t.unescape().map_err(|e| e.to_string())?);
                }
            }
            Xml::CData(c) => {
                if let Some((_, text)) = open.as_mut() {
                    text.push_str(&String::from_utf8_lossy(&c.into_inner()));
                }
            }
            Xml::End(e) if matches!(e.local_name().as_ref(), b"Data" | b"Param") => {
                if let Some(field) = open.take() {
                    fields.push(field);
                }
            }
            Xml::Eof => break,
            _ => {}
        }
    }
    Ok(fields)
}

fn is_field(e: &BytesStart) -> bool {
    matches!(e.local_name().as_ref(), b"Data" | b"Param")
}

fn field_name(e: &BytesStart, unnamed: &mut usize) -> Result<String, String> {
    let named = e
        .try_get_attribute("Name")
        .map_err(|err| err.to_string())?
        .map(|a| a.unescape_value().map(|v| v.into_owned()))
        .transpose()
        .map_err(|err| err.to_string())?;
    Ok(named.unwrap_or_else(|| {
        *unnamed += 1;
        format!("param{unnamed}")
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_data_inside_the_data_item_wrapper() {
        let xml = r#"<DataItem type="System.XmlData" time="2023-10-18T03:00:17.1230000+00:00" sourceHealthServiceId="6B6D1E4A-0000-0000-0000-000000000000"><EventData xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><Data Name="ServiceName">PSEXESVC</Data><Data Name="ImagePath">%SystemRoot%\PSEXESVC.exe</Data><Data Name="ServiceType">user mode service</Data><Data Name="StartType">demand start</Data><Data Name="AccountName">LocalSystem</Data></EventData></DataItem>"#;
        let f = data_fields(xml).unwrap();
        assert_eq!(f.len(), 5);
        assert_eq!(
            f[1],
            ("ImagePath".into(), "%SystemRoot%\\PSEXESVC.exe".into())
        );
    }

    #[test]
    fn entities_whitespace_and_empty_elements() {
        let xml = "<EventData><Data Name=\"CommandLine\">a &amp; b &lt;c&gt;</Data><Data Name=\"AccessMask\">%%1537\n\t\t</Data><Data Name=\"Empty\"/><Data Name=\"Also\"></Data></EventData>";
        let f = data_fields(xml).unwrap();
        assert_eq!(f[0].1, "a & b <c>");
        assert_eq!(f[1].1, "%%1537\n\t\t");
        assert_eq!(f[2], ("Empty".into(), String::new()));
        assert_eq!(f[3], ("Also".into(), String::new()));
    }

    #[test]
    fn unnamed_data_and_params_are_numbered() {
        let f =
            data_fields("<EventData><Data>PsExec</Data><Data>running</Data></EventData>").unwrap();
        assert_eq!(
            f,
            [
                ("param1".into(), "PsExec".into()),
                ("param2".into(), "running".into())
            ]
        );
        let f = data_fields("<Param>PSEXESVC</Param><Param>stopped</Param>").unwrap();
        assert_eq!(f[1], ("param2".into(), "stopped".into()));
    }

    #[test]
    fn broken_xml_is_an_error() {
        assert!(data_fields("<EventData><Data Name=\"x>1</Data>").is_err());
    }
}
