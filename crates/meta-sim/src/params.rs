//! Graph request parameters, gathered from wherever a client put them.
//!
//! Graph reads parameters from the query string and from the body, whatever the method: a form
//! body (the Python SDK, RudderStack), a multipart body (`curl -F`, as in Meta's examples) or a
//! JSON object (Segment). Form and query values are strings, and JSON-valued parameters such as
//! `data`, `payload` or `session` arrive there as JSON text; in a JSON body they may be JSON values
//! or JSON text. [`Params::json`] accepts both.

use std::collections::BTreeMap;

use serde_json::Value;

/// Why a body could not be read as parameters.
#[derive(Debug, thiserror::Error)]
pub enum ParamsError {
    /// The query string or form body is not valid `application/x-www-form-urlencoded`.
    #[error("the form or query string could not be decoded")]
    Form(#[source] serde_urlencoded::de::Error),
    /// A JSON body is not a JSON object.
    #[error("the JSON body is not a JSON object")]
    Json(#[source] serde_json::Error),
    /// A JSON body parsed but is not an object.
    #[error("the JSON body must be an object")]
    JsonNotObject,
    /// A multipart body is malformed.
    #[error("the multipart body is malformed: {0}")]
    Multipart(&'static str),
    /// A body that is not UTF-8 text.
    #[error("the body is not UTF-8 text")]
    NotUtf8,
}

/// The parameters of one request. Body values override query values of the same name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Params {
    values: BTreeMap<String, Value>,
}

impl Params {
    /// Collects parameters from a query string and a body of the given content type.
    pub fn parse(
        query: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<Self, ParamsError> {
        let mut params = Self::default();
        params.extend_form(query)?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(params);
        }
        let mime = content_type
            .map(|ct| {
                ct.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
            .unwrap_or_default();
        match mime.as_str() {
            "application/json" => params.extend_json(body)?,
            "multipart/form-data" => {
                let boundary = content_type
                    .and_then(multipart_boundary)
                    .ok_or(ParamsError::Multipart("no boundary in the content type"))?;
                for (name, value) in parse_multipart(body, &boundary)? {
                    params.values.insert(name, Value::String(value));
                }
            }
            _ => {
                // No or another content type: a JSON object if it looks like one, else a form
                // body (curl -d sends form bodies without thinking about it).
                let text = std::str::from_utf8(body).map_err(|_| ParamsError::NotUtf8)?;
                if text.trim_start().starts_with('{') {
                    params.extend_json(body)?;
                } else {
                    params.extend_form(text)?;
                }
            }
        }
        Ok(params)
    }

    fn extend_form(&mut self, text: &str) -> Result<(), ParamsError> {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(text).map_err(ParamsError::Form)?;
        for (name, value) in pairs {
            self.values.insert(name, Value::String(value));
        }
        Ok(())
    }

    fn extend_json(&mut self, body: &[u8]) -> Result<(), ParamsError> {
        match serde_json::from_slice::<Value>(body).map_err(ParamsError::Json)? {
            Value::Object(map) => {
                self.values.extend(map);
                Ok(())
            }
            _ => Err(ParamsError::JsonNotObject),
        }
    }

    /// The raw value of a parameter.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values.get(name)
    }

    /// A parameter as text: strings as they are, numbers and booleans printed.
    pub fn text(&self, name: &str) -> Option<String> {
        match self.values.get(name)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// A JSON-valued parameter: a JSON value as sent, or JSON text decoded.
    ///
    /// `None` when absent; `Some(Err(_))` when present as text that is not JSON.
    pub fn json(&self, name: &str) -> Option<Result<Value, serde_json::Error>> {
        match self.values.get(name)? {
            Value::String(s) => Some(serde_json::from_str(s)),
            other => Some(Ok(other.clone())),
        }
    }

    /// Removes a parameter and returns it (used for `access_token`, which must not be logged).
    pub fn take(&mut self, name: &str) -> Option<Value> {
        self.values.remove(name)
    }
}

/// The `boundary` parameter of a `multipart/form-data` content type.
fn multipart_boundary(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|part| {
        let (key, value) = part.split_once('=')?;
        (key.trim().eq_ignore_ascii_case("boundary"))
            .then(|| value.trim().trim_matches('"').to_owned())
    })
}

/// Reads the text fields of a `multipart/form-data` body (RFC 7578). File parts are read as text
/// too; Graph's endpoints simulated here take none.
fn parse_multipart(body: &[u8], boundary: &str) -> Result<Vec<(String, String)>, ParamsError> {
    let text = std::str::from_utf8(body).map_err(|_| ParamsError::NotUtf8)?;
    let delimiter = format!("--{boundary}");
    let mut fields = Vec::new();
    let mut parts = text.split(delimiter.as_str());
    // Whatever precedes the first delimiter is a preamble.
    parts.next();
    for part in parts {
        if part.starts_with("--") {
            return Ok(fields);
        }
        let part = part
            .strip_prefix("\r\n")
            .or_else(|| part.strip_prefix('\n'))
            .ok_or(ParamsError::Multipart(
                "a delimiter is not followed by a line break",
            ))?;
        let (head, content) = part
            .split_once("\r\n\r\n")
            .or_else(|| part.split_once("\n\n"))
            .ok_or(ParamsError::Multipart(
                "a part has no blank line after its headers",
            ))?;
        let content = content
            .strip_suffix("\r\n")
            .or_else(|| content.strip_suffix('\n'))
            .unwrap_or(content);
        let name = head
            .lines()
            .find(|line| {
                line.to_ascii_lowercase()
                    .starts_with("content-disposition:")
            })
            .and_then(disposition_name)
            .ok_or(ParamsError::Multipart(
                "a part has no Content-Disposition name",
            ))?;
        fields.push((name, content.to_owned()));
    }
    Err(ParamsError::Multipart("the closing delimiter is missing"))
}

/// The `name="…"` of a `Content-Disposition: form-data` header line.
fn disposition_name(line: &str) -> Option<String> {
    line.split(';').find_map(|part| {
        let (key, value) = part.split_once('=')?;
        (key.trim().eq_ignore_ascii_case("name")).then(|| value.trim().trim_matches('"').to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_values_override_query_values() {
        let params = Params::parse(
            "access_token=q&x=1",
            Some("application/x-www-form-urlencoded"),
            b"x=2",
        )
        .unwrap();
        assert_eq!(params.text("access_token").as_deref(), Some("q"));
        assert_eq!(params.text("x").as_deref(), Some("2"));
    }

    #[test]
    fn json_text_in_a_form_field_is_decoded() {
        let params = Params::parse("", None, b"data=%5B%7B%22a%22%3A1%7D%5D").unwrap();
        let data = params.json("data").unwrap().unwrap();
        assert_eq!(data[0]["a"], 1);
    }

    #[test]
    fn a_json_body_keeps_its_values() {
        let params = Params::parse("", Some("application/json"), br#"{"data":[{"a":1}]}"#).unwrap();
        assert_eq!(params.json("data").unwrap().unwrap()[0]["a"], 1);
    }

    #[test]
    fn a_json_body_that_is_not_an_object_is_refused() {
        let parsed = Params::parse("", Some("application/json"), b"[1]");
        assert!(matches!(parsed, Err(ParamsError::JsonNotObject)));
    }

    #[test]
    fn curl_multipart_fields_are_read() {
        let body = "--X\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n[1,\r\n2]\r\n\
                    --X\r\nContent-Disposition: form-data; name=\"access_token\"\r\n\r\ntok\r\n--X--\r\n";
        let params =
            Params::parse("", Some("multipart/form-data; boundary=X"), body.as_bytes()).unwrap();
        assert_eq!(params.text("access_token").as_deref(), Some("tok"));
        assert_eq!(params.json("data").unwrap().unwrap()[1], 2);
    }

    #[test]
    fn a_multipart_body_without_its_closing_delimiter_is_refused() {
        let body = "--X\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n";
        let parsed = Params::parse("", Some("multipart/form-data; boundary=X"), body.as_bytes());
        assert!(matches!(parsed, Err(ParamsError::Multipart(_))));
    }
}
