//! A small real SMTP server for tests and local runs: it speaks enough of
//! RFC 5321 for a client like `lettre` (EHLO/HELO, AUTH PLAIN, MAIL, RCPT,
//! DATA, RSET, NOOP, QUIT; no TLS), keeps every accepted mail in memory,
//! optionally writes each one as an `.eml` file, and can be told to answer
//! the next transaction with `421` or to drop the connection (before the
//! transaction, or after the whole message but before its answer), so tests
//! see a client's retries against a real socket.
//!
//! A mail counts as received only once the server has answered `250` to its
//! DATA: a fault injected before that leaves nothing behind, as a real relay
//! would.

use std::{
    collections::VecDeque,
    net::SocketAddr,
    path::PathBuf,
    sync::{Arc, Mutex},
};

use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
};

/// A misbehaviour for the next transaction (at its `MAIL FROM`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Answer `421 4.3.2 Service not available` and close the connection.
    Reply421,
    /// Close the connection without answering.
    Drop,
    /// Read the whole message after `DATA`, then close the connection
    /// without answering (nothing is kept): the client has sent everything
    /// and never learns whether it arrived.
    DropAfterData,
}

/// One accepted mail.
#[derive(Clone, Debug)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    /// The message as sent (headers, blank line, body), dot-unstuffed, with
    /// CRLF line ends.
    pub data: String,
}

impl Mail {
    /// The first header `name` (case-insensitive), unfolded.
    pub fn header(&self, name: &str) -> Option<String> {
        let (head, _) = self.data.split_once("\r\n\r\n")?;
        let mut out: Option<String> = None;
        for line in head.split("\r\n") {
            if line.starts_with([' ', '\t']) {
                if let Some(v) = out.as_mut() {
                    v.push(' ');
                    v.push_str(line.trim());
                }
                continue;
            }
            if out.is_some() {
                break;
            }
            if let Some((n, v)) = line.split_once(':') {
                if n.eq_ignore_ascii_case(name) {
                    out = Some(v.trim().to_owned());
                }
            }
        }
        out
    }

    /// The body after the headers, decoded from its transfer encoding
    /// (7bit/8bit, quoted-printable or base64), with LF line ends and
    /// without the final line end: the text as the sender wrote it.
    pub fn body(&self) -> String {
        let raw = self.data.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        let encoding = self
            .header("Content-Transfer-Encoding")
            .unwrap_or_default()
            .to_ascii_lowercase();
        let text = match encoding.as_str() {
            "quoted-printable" => quoted_printable(raw),
            "base64" => {
                use base64::Engine;
                let compact: String = raw.split_whitespace().collect();
                base64::engine::general_purpose::STANDARD
                    .decode(compact)
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default()
            }
            _ => raw.to_owned(),
        };
        text.replace("\r\n", "\n").trim_end_matches('\n').to_owned()
    }
}

#[derive(Default)]
struct Inner {
    faults: Mutex<VecDeque<Fault>>,
    mails: Mutex<Vec<Mail>>,
    /// Connections opened so far.
    connections: Mutex<u64>,
    dir: Option<PathBuf>,
}

/// A running server; stopped when dropped.
pub struct SmtpServer {
    addr: SocketAddr,
    inner: Arc<Inner>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SmtpServer {
    /// Listens on `127.0.0.1:0`.
    pub async fn start() -> std::io::Result<Self> {
        Self::bind(SocketAddr::from(([127, 0, 0, 1], 0)), None).await
    }

    /// Listens on `addr`; with `dir`, every accepted mail is also written
    /// there as `<n>-<unix ms>.eml`.
    pub async fn bind(addr: SocketAddr, dir: Option<PathBuf>) -> std::io::Result<Self> {
        if let Some(d) = &dir {
            std::fs::create_dir_all(d)?;
        }
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let inner = Arc::new(Inner {
            dir,
            ..Inner::default()
        });
        let shared = inner.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    continue;
                };
                *shared.connections.lock().unwrap() += 1;
                let session = shared.clone();
                tokio::spawn(async move {
                    if let Err(e) = serve(socket, &session).await {
                        tracing::debug!(error = %e, "smtp sink session ended");
                    }
                });
            }
        });
        Ok(Self { addr, inner, task })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Queues a fault for a coming transaction (one each, in order).
    pub fn inject(&self, fault: Fault) {
        self.inner.faults.lock().unwrap().push_back(fault);
    }

    /// Every mail accepted so far, in order.
    pub fn mails(&self) -> Vec<Mail> {
        self.inner.mails.lock().unwrap().clone()
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> u64 {
        *self.inner.connections.lock().unwrap()
    }

    /// The `Message-ID`s accepted more than once, with their counts: a
    /// sender that resends a message it cannot know arrived shows here
    /// (notify-svc's Message-ID is the job id).
    pub fn duplicate_message_ids(&self) -> Vec<(String, usize)> {
        let mut counts = std::collections::BTreeMap::<String, usize>::new();
        for m in self.inner.mails.lock().unwrap().iter() {
            *counts
                .entry(m.header("Message-ID").unwrap_or_default())
                .or_default() += 1;
        }
        counts.into_iter().filter(|(_, n)| *n > 1).collect()
    }
}

async fn serve(socket: TcpStream, inner: &Inner) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 schoolhouse-sink ESMTP\r\n").await?;
    let mut from = String::new();
    let mut to: Vec<String> = Vec::new();
    let mut line = String::new();
    // Taken at `MAIL FROM`, acted on after the message (`DropAfterData`).
    let mut pending: Option<Fault> = None;
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let cmd = line.trim_end();
        let upper = cmd.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            b"250-schoolhouse-sink\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 AUTH PLAIN LOGIN\r\n"
        } else if upper.starts_with("HELO") {
            b"250 schoolhouse-sink\r\n"
        } else if upper.starts_with("AUTH") {
            // Any credentials: the sink is local.
            b"235 2.7.0 Authentication successful\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            let fault = inner.faults.lock().unwrap().pop_front();
            match fault {
                Some(Fault::Reply421) => {
                    write
                        .write_all(b"421 4.3.2 Service not available, closing channel\r\n")
                        .await?;
                    return Ok(());
                }
                Some(Fault::Drop) => return Ok(()),
                Some(Fault::DropAfterData) => pending = Some(Fault::DropAfterData),
                None => {}
            }
            from = address(&cmd[10..]);
            to.clear();
            b"250 2.1.0 OK\r\n"
        } else if upper.starts_with("RCPT TO:") {
            to.push(address(&cmd[8..]));
            b"250 2.1.5 OK\r\n"
        } else if upper == "DATA" {
            write
                .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                .await?;
            let mut data = String::new();
            loop {
                line.clear();
                if lines.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                let l = line.trim_end_matches(['\r', '\n']);
                if l == "." {
                    break;
                }
                data.push_str(l.strip_prefix('.').unwrap_or(l));
                data.push_str("\r\n");
            }
            if pending.take() == Some(Fault::DropAfterData) {
                return Ok(());
            }
            let mail = Mail {
                from: std::mem::take(&mut from),
                to: std::mem::take(&mut to),
                data,
            };
            store(inner, mail)?;
            b"250 2.0.0 OK queued\r\n"
        } else if upper == "RSET" {
            from.clear();
            to.clear();
            b"250 2.0.0 OK\r\n"
        } else if upper == "NOOP" {
            b"250 2.0.0 OK\r\n"
        } else if upper == "QUIT" {
            write.write_all(b"221 2.0.0 Bye\r\n").await?;
            return Ok(());
        } else {
            b"502 5.5.2 Command not implemented\r\n"
        };
        write.write_all(reply).await?;
    }
}

/// Decodes quoted-printable (RFC 2045): `=XX` bytes and `=` soft breaks.
fn quoted_printable(raw: &str) -> String {
    let bytes = raw.replace("=\r\n", "").into_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'=', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `<a@b>` with optional parameters after it → `a@b`.
fn address(arg: &str) -> String {
    let arg = arg.trim();
    match (arg.find('<'), arg.find('>')) {
        (Some(s), Some(e)) if s < e => arg[s + 1..e].to_owned(),
        _ => arg.split_whitespace().next().unwrap_or("").to_owned(),
    }
}

fn store(inner: &Inner, mail: Mail) -> std::io::Result<()> {
    let mut mails = inner.mails.lock().unwrap();
    if let Some(dir) = &inner.dir {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or_default();
        let path = dir.join(format!("{:06}-{ms}.eml", mails.len() + 1));
        std::fs::write(&path, &mail.data)?;
        tracing::info!(mail.to = ?mail.to, mail.file = %path.display(), "mail received");
    }
    mails.push(mail);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_unfold_and_body_strips_line_ends() {
        let m = Mail {
            from: "a@x".into(),
            to: vec!["b@y".into()],
            data: "Subject: Hello\r\n there\r\nTo: b@y\r\n\r\nLine 1\r\nLine 2\r\n".into(),
        };
        assert_eq!(m.header("subject").as_deref(), Some("Hello there"));
        assert_eq!(m.header("To").as_deref(), Some("b@y"));
        assert_eq!(m.header("From"), None);
        assert_eq!(m.body(), "Line 1\nLine 2");
        assert_eq!(address(" <x@y> SIZE=10"), "x@y");
        let qp = Mail {
            data: "Content-Transfer-Encoding: quoted-printable\r\n\r\nLong li=\r\nne =C2=A3=3D\r\n"
                .into(),
            ..m
        };
        assert_eq!(qp.body(), "Long line \u{a3}=");
    }
}
