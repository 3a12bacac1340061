//! A tiny blocking HTTP/1.1 client for the loopback endpoint, used by the CLI, `vouch demo`
//! and the end-to-end tests. One request per connection. [`Api`] names a node and the token
//! it presents; [`Api::from_data_dir`] reads both from a running node's data directory, as
//! every client of the node does (the token file is owner-only, like bitcoind's cookie).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

/// Name of the file, in the data directory, holding the endpoint's address.
pub const API_ADDR_FILE: &str = "api.addr";
/// Name of the file, in the data directory, holding the libp2p listen addresses.
pub const LISTEN_ADDRS_FILE: &str = "listen.addrs";
/// Name of the file, in the data directory, holding the node's admin API token (0600).
pub const API_TOKEN_FILE: &str = "api.token";
/// Largest response read.
pub const MAX_RESPONSE_BYTES: u64 = 16 * 1024 * 1024;

/// A response: status code and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// The body.
    pub body: Vec<u8>,
}

/// A client failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// Connecting, writing or reading failed.
    #[error("http: {0}")]
    Io(#[from] std::io::Error),
    /// The answer is not HTTP/1.1.
    #[error("malformed http response")]
    Malformed,
    /// The data directory has no running node's address.
    #[error("no api.addr in the data directory (is the node running?)")]
    NoNode,
    /// The data directory's token file cannot be read.
    #[error("cannot read the API token {path}: {source}")]
    NoToken {
        /// The file.
        path: std::path::PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

impl ClientError {
    /// The stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            ClientError::Io(_) => "http-io",
            ClientError::Malformed => "http-malformed",
            ClientError::NoNode => "node-not-running",
            ClientError::NoToken { .. } => "api-token-unreadable",
        }
    }
}

/// The endpoint address of the node running on `data_dir`.
pub fn api_addr(data_dir: &Path) -> Result<SocketAddr, ClientError> {
    std::fs::read_to_string(data_dir.join(API_ADDR_FILE))
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .ok_or(ClientError::NoNode)
}

/// The admin token of the node whose data directory is `data_dir` (`api.token`).
pub fn api_token(data_dir: &Path) -> Result<String, ClientError> {
    let path = data_dir.join(API_TOKEN_FILE);
    std::fs::read_to_string(&path)
        .map(|t| t.trim().to_owned())
        .map_err(|source| ClientError::NoToken { path, source })
}

/// A node's API and the bearer token presented to it.
#[derive(Clone)]
pub struct Api {
    /// Where the API listens.
    pub addr: SocketAddr,
    token: Option<String>,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api")
            .field("addr", &self.addr)
            .field("token", &self.token.as_ref().map(|_| "<hidden>"))
            .finish()
    }
}

impl Api {
    /// An API at `addr`, presenting `token` (none: only `/healthz` answers).
    pub fn new(addr: SocketAddr, token: Option<String>) -> Api {
        Api { addr, token }
    }

    /// The node running on `data_dir`: its address (`api.addr`) and admin token
    /// (`api.token`).
    pub fn from_data_dir(data_dir: &Path) -> Result<Api, ClientError> {
        Ok(Api {
            addr: api_addr(data_dir)?,
            token: Some(api_token(data_dir)?),
        })
    }

    /// The same API with another token.
    pub fn with_token(&self, token: Option<String>) -> Api {
        Api {
            addr: self.addr,
            token,
        }
    }

    /// One request with the token; a non-empty body without `content_type` is sent as
    /// DAG-CBOR.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<HttpResponse, ClientError> {
        let auth = self.token.as_ref().map(|t| format!("Bearer {t}"));
        let mut headers = Vec::new();
        if let Some(ct) = content_type {
            headers.push(("Content-Type", ct));
        }
        if let Some(a) = &auth {
            headers.push(("Authorization", a.as_str()));
        }
        request_with(self.addr, method, path, &headers, body)
    }

    /// `GET path`.
    pub fn get(&self, path: &str) -> Result<HttpResponse, ClientError> {
        self.request("GET", path, None, &[])
    }

    /// A call with a JSON body.
    pub fn json(
        &self,
        method: &str,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<HttpResponse, ClientError> {
        let bytes = serde_json::to_vec(body).map_err(|_| ClientError::Malformed)?;
        self.request(method, path, Some("application/json"), &bytes)
    }
}

/// Sends one request without a token (only `/healthz` answers it) and reads the whole
/// answer; a non-empty body is sent as DAG-CBOR.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: &[u8],
) -> Result<HttpResponse, ClientError> {
    request_with(addr, method, path, &[], body)
}

/// Sends one request with extra headers (`Authorization`, `Content-Type`, ...) and reads
/// the whole answer. Without a `Content-Type` header, a non-empty body is sent as DAG-CBOR
/// (`application/vnd.ipld.dag-cbor`, what `POST /v1/objects` takes) and an empty one with
/// none.
pub fn request_with(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<HttpResponse, ClientError> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(10))?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    s.set_write_timeout(Some(Duration::from_secs(60)))?;
    let mut extra = String::new();
    let mut content_type = (!body.is_empty()).then_some("application/vnd.ipld.dag-cbor");
    for (name, value) in headers {
        if name.eq_ignore_ascii_case("content-type") {
            content_type = Some(value);
        } else {
            extra.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    if let Some(ct) = content_type {
        extra.push_str(&format!("Content-Type: {ct}\r\n"));
    }
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         {extra}Content-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes())?;
    // A server may answer (e.g. 413) and stop reading before the body is sent: read the
    // answer anyway.
    let written = s.write_all(body);
    let mut raw = Vec::new();
    let read = s.take(MAX_RESPONSE_BYTES).read_to_end(&mut raw);
    if raw.is_empty() {
        written?;
        read?;
    }
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> Result<HttpResponse, ClientError> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or(ClientError::Malformed)?;
    let head = std::str::from_utf8(&raw[..split]).map_err(|_| ClientError::Malformed)?;
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .ok_or(ClientError::Malformed)?;
    let chunked = lines.any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    let rest = &raw[split + 4..];
    let body = if chunked {
        dechunk(rest)?
    } else {
        rest.to_vec()
    };
    Ok(HttpResponse { status, body })
}

fn dechunk(mut rest: &[u8]) -> Result<Vec<u8>, ClientError> {
    let mut out = Vec::new();
    loop {
        let eol = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or(ClientError::Malformed)?;
        let size_text = std::str::from_utf8(&rest[..eol]).map_err(|_| ClientError::Malformed)?;
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| ClientError::Malformed)?;
        rest = &rest[eol + 2..];
        if size == 0 {
            return Ok(out);
        }
        if rest.len() < size + 2 {
            return Err(ClientError::Malformed);
        }
        out.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_and_chunked_answers() {
        let plain = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
        assert_eq!(
            parse_response(plain).unwrap(),
            HttpResponse {
                status: 200,
                body: b"ok".to_vec()
            }
        );
        let chunked = b"HTTP/1.1 404 Not Found\r\ntransfer-encoding: chunked\r\n\r\n2\r\nab\r\n1\r\nc\r\n0\r\n\r\n";
        assert_eq!(parse_response(chunked).unwrap().body, b"abc".to_vec());
        assert!(parse_response(b"garbage").is_err());
    }
}
