//! A small static HTTP/1.1 file server on 127.0.0.1, one thread per connection.
//!
//! It sends the cross-origin isolation headers that threaded wasm needs (without them the page
//! has no SharedArrayBuffer), except for the Perfetto relay page, and `Cache-Control: no-cache` so
//! a rebuild shows on reload. The headers are written once, in `xtask/isolation-headers.txt`;
//! `trunk serve` (Trunk.toml) and the service worker (www/coi-sw.js) are checked against it here.
//! The e2e tests serve through this server too.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

/// How many ports after the asked one to try when it is busy.
const PORT_TRIES: u16 = 10;
/// A connection idle this long is closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest request line or header line accepted, and most headers.
const MAX_LINE: usize = 8 * 1024;
const MAX_HEADERS: usize = 100;

/// Served without the isolation headers: the page that hands a trace to Perfetto UI
/// (`www/perfetto.js`), which an isolated page could not talk to.
const NOT_ISOLATED: &str = "perfetto.html";

/// `name: value` lines; `#` starts a comment line.
const ISOLATION_HEADERS_FILE: &str = include_str!("../isolation-headers.txt");

/// The isolation headers, in the order of `isolation-headers.txt`.
pub fn isolation_headers() -> Vec<(&'static str, &'static str)> {
    ISOLATION_HEADERS_FILE
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim(), value.trim()))
        .collect()
}

/// The one of them that the Perfetto relay keeps: only the opener and embedder policies make a
/// page isolated.
const RESOURCE_POLICY: &str = "Cross-Origin-Resource-Policy";

pub struct Server {
    listener: TcpListener,
    site: Arc<Site>,
}

struct Site {
    root: PathBuf,
    isolation: bool,
}

impl Server {
    /// Binds 127.0.0.1 on `port`, or on one of the next few ports if it is busy
    /// (port 0 lets the system choose).
    pub fn bind(root: &Path, port: u16, isolation: bool) -> Result<Server, String> {
        if !root.is_dir() {
            return Err(format!("{} is not a directory", root.display()));
        }
        let last = port.saturating_add(if port == 0 { 0 } else { PORT_TRIES });
        let listener = (port..=last)
            .find_map(|p| TcpListener::bind((Ipv4Addr::LOCALHOST, p)).ok())
            .ok_or_else(|| format!("ports {port} to {last} on 127.0.0.1 are all busy"))?;
        let server = Server {
            listener,
            site: Arc::new(Site {
                root: root.to_path_buf(),
                isolation,
            }),
        };
        if port != 0 && server.port() != port {
            println!("port {port} is busy; using {}", server.port());
        }
        Ok(server)
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map_or(0, |a| a.port())
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port())
    }

    /// Serves until the process ends (Ctrl-C).
    pub fn run(self) -> Result<(), String> {
        for stream in self.listener.incoming() {
            let Ok(stream) = stream else { continue };
            let site = Arc::clone(&self.site);
            thread::spawn(move || {
                // A client that goes away mid-response is not an error of ours.
                let _ = site.handle(stream);
            });
        }
        Err("the server stopped accepting connections".into())
    }
}

/// Ends the process once standard input reaches its end: a server started by a test (through a
/// pipe) stops with it, even when the test is killed and has no time to stop it.
pub fn exit_when_stdin_closes() {
    thread::spawn(|| {
        let _ = io::copy(&mut io::stdin().lock(), &mut io::sink());
        std::process::exit(0);
    });
}

/// One parsed request: only what the server uses.
#[derive(Debug, PartialEq)]
struct Request {
    method: String,
    target: String,
    keep_alive: bool,
}

struct Response {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Body,
}

enum Body {
    Text(String),
    File(File),
}

impl Site {
    fn handle(&self, stream: TcpStream) -> io::Result<()> {
        stream.set_read_timeout(Some(IDLE_TIMEOUT))?;
        let mut reader = BufReader::new(stream.try_clone()?);
        let mut writer = stream;
        loop {
            let request = match read_request(&mut reader) {
                Ok(Some(request)) => request,
                Ok(None) => return Ok(()),
                Err(_) => {
                    let response = text(400, "Bad Request", "The request could not be read.");
                    return self.send(&mut writer, response, false, false, self.isolation);
                }
            };
            let response = self.respond(&request);
            println!("{} {} {}", response.status, request.method, request.target);
            let head_only = request.method == "HEAD";
            let isolate = self.isolation && !is_relay(&request.target);
            self.send(
                &mut writer,
                response,
                head_only,
                request.keep_alive,
                isolate,
            )?;
            if !request.keep_alive {
                return Ok(());
            }
        }
    }

    fn respond(&self, request: &Request) -> Response {
        if request.method != "GET" && request.method != "HEAD" {
            let mut response = text(405, "Method Not Allowed", "Only GET and HEAD are served.");
            response.headers.push(("Allow", "GET, HEAD".into()));
            return response;
        }
        let Some(relative) = sanitize(&request.target) else {
            return text(400, "Bad Request", "That path is not allowed.");
        };
        let mut path = self.root.join(&relative);
        if path.is_dir() {
            let url_path = request.target.split(['?', '#']).next().unwrap_or("/");
            if !url_path.ends_with('/') {
                // So that the page's relative links resolve inside the directory.
                let mut response = text(301, "Moved Permanently", "");
                response.headers.push(("Location", format!("{url_path}/")));
                return response;
            }
            path.push("index.html");
        }
        match File::open(&path) {
            Ok(file) if path.is_file() => Response {
                status: 200,
                headers: vec![("Content-Type", content_type(&path).into())],
                body: Body::File(file),
            },
            _ => text(404, "Not Found", "There is no such file here."),
        }
    }

    fn send(
        &self,
        out: &mut TcpStream,
        response: Response,
        head_only: bool,
        keep_alive: bool,
        isolate: bool,
    ) -> io::Result<()> {
        let length = match &response.body {
            Body::Text(body) => body.len() as u64,
            Body::File(file) => file.metadata()?.len(),
        };
        let mut head = format!(
            "HTTP/1.1 {} {}\r\n",
            response.status,
            reason(response.status)
        );
        let mut header = |name: &str, value: &str| head.push_str(&format!("{name}: {value}\r\n"));
        for (name, value) in &response.headers {
            header(name, value);
        }
        header("Content-Length", &length.to_string());
        header("Cache-Control", "no-cache");
        for (name, value) in isolation_headers() {
            if isolate || (self.isolation && name == RESOURCE_POLICY) {
                header(name, value);
            }
        }
        header(
            "Connection",
            if keep_alive { "keep-alive" } else { "close" },
        );
        head.push_str("\r\n");
        out.write_all(head.as_bytes())?;
        if !head_only {
            match response.body {
                Body::Text(body) => out.write_all(body.as_bytes())?,
                Body::File(mut file) => {
                    io::copy(&mut file, out)?;
                }
            }
        }
        out.flush()
    }
}

/// Reads one request's line and headers; `None` when the client closed the connection.
fn read_request(reader: &mut impl BufRead) -> io::Result<Option<Request>> {
    let Some(line) = read_line(reader)? else {
        return Ok(None);
    };
    let mut words = line.split_whitespace();
    let (Some(method), Some(target), Some(version), None) =
        (words.next(), words.next(), words.next(), words.next())
    else {
        return Err(invalid("malformed request line"));
    };
    let mut keep_alive = version == "HTTP/1.1";
    for _ in 0..MAX_HEADERS {
        let header = read_line(reader)?.ok_or_else(|| invalid("headers cut short"))?;
        if header.is_empty() {
            // A body would desynchronise the next request; GET and HEAD have none, and other
            // methods are refused, so close after them.
            let keep_alive = keep_alive && (method == "GET" || method == "HEAD");
            return Ok(Some(Request {
                method: method.to_string(),
                target: target.to_string(),
                keep_alive,
            }));
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.trim().eq_ignore_ascii_case("connection") {
                keep_alive = value.trim().eq_ignore_ascii_case("keep-alive");
            }
        }
    }
    Err(invalid("too many headers"))
}

/// One CRLF- or LF-terminated line, at most MAX_LINE bytes; `None` at end of stream.
fn read_line(reader: &mut impl BufRead) -> io::Result<Option<String>> {
    let mut line = Vec::new();
    let read = Read::take(&mut *reader, MAX_LINE as u64 + 1).read_until(b'\n', &mut line)?;
    if read == 0 {
        return Ok(None);
    }
    if !line.ends_with(b"\n") {
        return Err(invalid("line too long or cut short"));
    }
    let line = String::from_utf8(line).map_err(|_| invalid("line is not UTF-8"))?;
    Ok(Some(line.trim_end_matches(['\r', '\n']).to_string()))
}

fn invalid(message: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// A small HTML page for statuses other than 200.
fn text(status: u16, title: &str, message: &str) -> Response {
    let body = if message.is_empty() {
        String::new()
    } else {
        format!(
            "<!DOCTYPE html>\n<meta charset=\"utf-8\">\n<title>{status} {title}</title>\n\
             <h1>{status} {title}</h1>\n<p>{message}</p>\n"
        )
    };
    Response {
        status,
        headers: vec![("Content-Type", "text/html; charset=utf-8".into())],
        body: Body::Text(body),
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "",
    }
}

/// Whether a request target names the Perfetto relay page, in any directory.
fn is_relay(target: &str) -> bool {
    sanitize(target).is_some_and(|path| path.file_name().is_some_and(|name| name == NOT_ISOLATED))
}

/// The file path, relative to the served directory, that a request target names; `None` for
/// targets that could leave the directory (`..`) or are not plain paths.
fn sanitize(target: &str) -> Option<PathBuf> {
    let path = target.split(['?', '#']).next()?;
    if !path.starts_with('/') {
        return None;
    }
    let mut relative = PathBuf::new();
    for segment in path.split('/') {
        let segment = percent_decode(segment)?;
        match segment.as_str() {
            "" | "." => {}
            ".." => return None,
            s if s.contains(['/', '\\', '\0']) => return None,
            s => relative.push(s),
        }
    }
    Some(relative)
}

/// Decodes `%XX` escapes; `None` if one is malformed or the result is not UTF-8.
fn percent_decode(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = segment.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The Content-Type for a file, from its extension.
fn content_type(path: &Path) -> &'static str {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("html" | "htm") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("json") => "application/json",
        Some("ico") => "image/x-icon",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_map_to_paths_inside_the_directory() {
        assert_eq!(sanitize("/"), Some(PathBuf::new()));
        assert_eq!(
            sanitize("/pkg/app_bg.wasm?v=3#x"),
            Some(PathBuf::from("pkg/app_bg.wasm"))
        );
        assert_eq!(sanitize("/a/./b//c"), Some(PathBuf::from("a/b/c")));
        assert_eq!(
            sanitize("/my%20file.txt"),
            Some(PathBuf::from("my file.txt"))
        );
    }

    #[test]
    fn targets_that_could_escape_are_rejected() {
        assert_eq!(sanitize("/../etc/passwd"), None);
        assert_eq!(sanitize("/a/../../b"), None);
        assert_eq!(sanitize("/%2e%2e/secret"), None);
        assert_eq!(sanitize("/a%2f..%2fb"), None);
        assert_eq!(sanitize("/a%5c..%5cb"), None);
        assert_eq!(sanitize("/nul%00"), None);
        assert_eq!(sanitize("/bad%zz"), None);
        assert_eq!(sanitize("/cut%2"), None);
        assert_eq!(sanitize("relative"), None);
        assert_eq!(sanitize("http://host/x"), None);
    }

    #[test]
    fn content_types_follow_the_extension() {
        let ct = |name: &str| content_type(Path::new(name));
        assert_eq!(ct("index.html"), "text/html; charset=utf-8");
        assert_eq!(ct("app.js"), "text/javascript; charset=utf-8");
        assert_eq!(ct("worker.mjs"), "text/javascript; charset=utf-8");
        assert_eq!(ct("app_bg.wasm"), "application/wasm");
        assert_eq!(ct("style.css"), "text/css; charset=utf-8");
        assert_eq!(ct("chart.svg"), "image/svg+xml");
        assert_eq!(ct("logo.PNG"), "image/png");
        assert_eq!(ct("data.json"), "application/json");
        assert_eq!(ct("favicon.ico"), "image/x-icon");
        assert_eq!(ct("robots.txt"), "text/plain; charset=utf-8");
        assert_eq!(ct("archive.tar.gz"), "application/octet-stream");
        assert_eq!(ct("Makefile"), "application/octet-stream");
    }

    #[test]
    fn requests_are_parsed_with_their_connection_mode() {
        let parse = |raw: &str| read_request(&mut raw.as_bytes()).unwrap();
        assert_eq!(
            parse("GET /x HTTP/1.1\r\nHost: a\r\n\r\n"),
            Some(Request {
                method: "GET".into(),
                target: "/x".into(),
                keep_alive: true
            })
        );
        assert!(
            !parse("GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
                .unwrap()
                .keep_alive
        );
        assert!(!parse("GET / HTTP/1.0\r\n\r\n").unwrap().keep_alive);
        assert!(!parse("POST / HTTP/1.1\r\n\r\n").unwrap().keep_alive);
        assert_eq!(parse(""), None);
        assert!(read_request(&mut "GET /\r\n\r\n".as_bytes()).is_err());
    }

    /// The quoted strings of `text`, in order.
    fn quoted(text: &str) -> Vec<&str> {
        text.split('"').skip(1).step_by(2).collect()
    }

    #[test]
    fn the_isolation_headers_are_the_three_policies() {
        assert_eq!(
            isolation_headers(),
            [
                ("Cross-Origin-Opener-Policy", "same-origin"),
                ("Cross-Origin-Embedder-Policy", "require-corp"),
                ("Cross-Origin-Resource-Policy", "cross-origin"),
            ]
        );
    }

    #[test]
    fn trunk_serve_sends_the_same_isolation_headers() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let toml = std::fs::read_to_string(root.join("Trunk.toml")).unwrap();
        let serve = toml
            .split("[serve]")
            .nth(1)
            .expect("Trunk.toml has [serve]");
        let line = serve
            .lines()
            .find(|l| l.trim_start().starts_with("headers"))
            .expect("[serve] has headers");
        let pairs: Vec<(&str, &str)> = quoted(line)
            .chunks(2)
            .map(|kv| (kv[0], kv.get(1).copied().unwrap_or("")))
            .collect();
        assert_eq!(pairs, isolation_headers(), "Trunk.toml: {line}");
    }

    #[test]
    fn the_service_worker_sets_the_same_isolation_headers() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let sw = std::fs::read_to_string(root.join("www/coi-sw.js")).unwrap();
        let pairs: Vec<(&str, &str)> = sw
            .split("headers.set(")
            .skip(1)
            .map(|call| {
                let args = quoted(call.split(')').next().unwrap_or(""));
                (args[0], args.get(1).copied().unwrap_or(""))
            })
            .collect();
        assert_eq!(pairs, isolation_headers(), "www/coi-sw.js");
    }

    /// One request over a real socket, returning the whole response.
    fn fetch(port: u16, request: &str) -> String {
        let mut stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
    }

    #[test]
    fn serves_files_with_the_isolation_headers() {
        let dir = std::env::temp_dir().join(format!("xtask-serve-test-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("index.html"), "<p>hello</p>").unwrap();
        std::fs::write(dir.join("sub/index.html"), "sub").unwrap();
        std::fs::write(dir.join("perfetto.html"), "relay").unwrap();
        let server = Server::bind(&dir, 0, true).unwrap();
        let port = server.port();
        thread::spawn(move || server.run());

        let close = "\r\nConnection: close\r\n\r\n";
        let index = fetch(port, &format!("GET / HTTP/1.1{close}"));
        assert!(index.starts_with("HTTP/1.1 200 OK\r\n"), "{index}");
        assert!(index.contains("Content-Type: text/html; charset=utf-8\r\n"));
        assert!(index.contains("Cross-Origin-Opener-Policy: same-origin\r\n"));
        assert!(index.contains("Cross-Origin-Embedder-Policy: require-corp\r\n"));
        assert!(index.contains("Cross-Origin-Resource-Policy: cross-origin\r\n"));
        assert!(index.contains("Cache-Control: no-cache\r\n"));
        assert!(index.ends_with("\r\n\r\n<p>hello</p>"));

        let head = fetch(port, &format!("HEAD /index.html HTTP/1.1{close}"));
        assert!(head.contains("Content-Length: 12\r\n"));
        assert!(head.ends_with("\r\n\r\n"));

        let redirect = fetch(port, &format!("GET /sub HTTP/1.1{close}"));
        assert!(redirect.starts_with("HTTP/1.1 301"));
        assert!(redirect.contains("Location: /sub/\r\n"));
        assert!(fetch(port, &format!("GET /sub/ HTTP/1.1{close}")).ends_with("sub"));

        let missing = fetch(port, &format!("GET /nope.js HTTP/1.1{close}"));
        assert!(missing.starts_with("HTTP/1.1 404 Not Found\r\n"));
        assert!(missing.contains("Cross-Origin-Embedder-Policy: require-corp\r\n"));
        let relay = fetch(port, &format!("GET /perfetto.html#ab-12 HTTP/1.1{close}"));
        assert!(relay.starts_with("HTTP/1.1 200 OK\r\n"), "{relay}");
        assert!(!relay.contains("Cross-Origin-Opener-Policy"), "{relay}");
        assert!(!relay.contains("Cross-Origin-Embedder-Policy"), "{relay}");
        assert!(relay.contains("Cross-Origin-Resource-Policy: cross-origin\r\n"));
        let escape = fetch(port, &format!("GET /../Cargo.toml HTTP/1.1{close}"));
        assert!(escape.starts_with("HTTP/1.1 400"));
        let post = fetch(port, "POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
        assert!(post.starts_with("HTTP/1.1 405"));

        std::fs::remove_dir_all(&dir).unwrap();
    }
}
