//! A TCP proxy in front of Postgres that counts the statements its clients
//! run: every simple `Query` and every extended-protocol `Execute` message
//! from a client is one statement. Tests point a service at it to prove an
//! operation's statement count does not grow with its input.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub struct StatementCounter {
    pub addr: SocketAddr,
    count: Arc<AtomicUsize>,
}

impl StatementCounter {
    /// Proxies to the Postgres server of `url`.
    pub async fn start(url: &str) -> Self {
        let upstream = host_port(url).to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let count = Arc::new(AtomicUsize::new(0));
        let counter = count.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let counter = counter.clone();
                tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(&upstream).await {
                        let _ = relay(client, server, counter).await;
                    }
                });
            }
        });
        Self { addr, count }
    }

    /// `url` with its host and port replaced by the proxy's.
    pub fn url(&self, url: &str) -> String {
        url.replacen(host_port(url), &self.addr.to_string(), 1)
    }

    pub fn reset(&self) {
        self.count.store(0, Ordering::SeqCst);
    }

    pub fn get(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }
}

fn host_port(url: &str) -> &str {
    let after_at = url.rsplit_once('@').map_or(url, |(_, r)| r);
    after_at.split('/').next().unwrap_or(after_at)
}

async fn relay(
    client: TcpStream,
    server: TcpStream,
    count: Arc<AtomicUsize>,
) -> std::io::Result<()> {
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    tokio::spawn(async move {
        let _ = tokio::io::copy(&mut sr, &mut cw).await;
    });
    // The startup (or cancel) message: a length, no type byte.
    let len = cr.read_u32().await?;
    let mut body = vec![0; (len as usize).saturating_sub(4)];
    cr.read_exact(&mut body).await?;
    sw.write_all(&len.to_be_bytes()).await?;
    sw.write_all(&body).await?;
    loop {
        let kind = cr.read_u8().await?;
        let len = cr.read_u32().await?;
        let mut body = vec![0; (len as usize).saturating_sub(4)];
        cr.read_exact(&mut body).await?;
        if kind == b'Q' || kind == b'E' {
            count.fetch_add(1, Ordering::SeqCst);
        }
        sw.write_all(&[kind]).await?;
        sw.write_all(&len.to_be_bytes()).await?;
        sw.write_all(&body).await?;
    }
}
