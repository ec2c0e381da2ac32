//! The test stack's Redis URLs, and private Redis servers for tests that
//! kill them: a test that stops the shared test-stack Redis would break
//! every test running beside it. Each private server runs from the
//! `redis-server` that `make test` installs, on free ports, without
//! persistence, and is killed when dropped.

use std::{
    net::TcpListener,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{bail, Context};

fn stack_url(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        panic!("{var} is not set: run the tests with `make test` (it starts the test stack)")
    })
}

/// `REDIS_URL`: the test stack's Redis (standalone when the stack has one,
/// else the cluster).
pub fn redis_url() -> String {
    stack_url("REDIS_URL")
}

/// `REDIS_STANDALONE_URL`: the test stack's standalone Redis.
pub fn standalone_url() -> String {
    stack_url("REDIS_STANDALONE_URL")
}

/// `REDIS_CLUSTER_URL`: the test stack's Redis Cluster
/// (`redis-cluster://` URL naming every node).
pub fn cluster_url() -> String {
    stack_url("REDIS_CLUSTER_URL")
}

/// Free TCP ports, reserved together so that they differ; released just
/// before use (a narrow race with other processes, retried by callers).
fn free_ports(n: usize) -> anyhow::Result<Vec<u16>> {
    let listeners = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<Result<Vec<_>, _>>()?;
    listeners
        .iter()
        .map(|l| Ok(l.local_addr()?.port()))
        .collect()
}

fn cli(port: u16, args: &[&str]) -> anyhow::Result<String> {
    let out = real_clock(Command::new("redis-cli"))
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .context("cannot run redis-cli (run the tests with `make test`)")?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn wait_until(what: &str, timeout: Duration, mut ok: impl FnMut() -> bool) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    while !ok() {
        if Instant::now() > deadline {
            bail!("timed out waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

struct Node {
    port: u16,
    args: Vec<String>,
    child: Option<Child>,
}

impl Node {
    fn start(port: u16, extra: &[String], dir: &std::path::Path) -> anyhow::Result<Self> {
        let dir = dir.join(port.to_string());
        std::fs::create_dir_all(&dir)?;
        let mut args = vec![
            "--port".into(),
            port.to_string(),
            "--bind".into(),
            "127.0.0.1".into(),
            "--save".into(),
            String::new(),
            "--appendonly".into(),
            "no".into(),
            "--dir".into(),
            dir.display().to_string(),
        ];
        args.extend_from_slice(extra);
        let mut node = Self {
            port,
            args,
            child: None,
        };
        node.spawn()?;
        Ok(node)
    }

    fn spawn(&mut self) -> anyhow::Result<()> {
        let child = real_clock(Command::new("redis-server"))
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start redis-server (run the tests with `make test`)")?;
        self.child = Some(child);
        let port = self.port;
        wait_until(&format!("redis on {port}"), Duration::from_secs(10), || {
            cli(port, &["PING"]).is_ok_and(|o| o.trim() == "PONG")
        })
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

fn scratch_dir() -> PathBuf {
    std::env::temp_dir().join(format!(
        "schoolhouse-redis-{}",
        uuid::Uuid::new_v4().simple()
    ))
}

/// A standalone Redis this test alone uses.
pub struct PrivateRedis {
    node: Node,
    dir: PathBuf,
}

impl PrivateRedis {
    pub fn start() -> anyhow::Result<Self> {
        let dir = scratch_dir();
        let port = free_ports(1)?[0];
        Ok(Self {
            node: Node::start(port, &[], &dir)?,
            dir,
        })
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.node.port)
    }

    /// SIGKILL, as a crash would.
    pub fn kill(&mut self) {
        self.node.kill();
    }

    /// Starts again on the same port, empty.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        self.node.kill();
        self.node.spawn()
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.node.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A 6-node Redis Cluster (3 primaries, 3 replicas) this test alone uses,
/// with a short node timeout so that failover takes seconds.
pub struct PrivateRedisCluster {
    nodes: Vec<Node>,
    dir: PathBuf,
}

impl PrivateRedisCluster {
    pub fn start() -> anyhow::Result<Self> {
        let dir = scratch_dir();
        let ports = free_ports(12)?;
        let (ports, bus) = ports.split_at(6);
        let nodes = ports
            .iter()
            .zip(bus)
            .map(|(&port, &bus)| {
                let extra = [
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    "nodes.conf",
                    "--cluster-node-timeout",
                    "1000",
                    // A replica may take over however long ago it last
                    // heard from its primary (the default refuses when the
                    // cluster is young), and syncs without touching disk.
                    "--cluster-replica-validity-factor",
                    "0",
                    "--repl-diskless-sync",
                    "yes",
                    "--repl-diskless-sync-delay",
                    "0",
                    "--cluster-port",
                    &bus.to_string(),
                ]
                .map(String::from);
                Node::start(port, &extra, &dir)
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let addrs: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
        let mut args = vec!["--cluster", "create"];
        args.extend(addrs.iter().map(String::as_str));
        args.extend(["--cluster-replicas", "1", "--cluster-yes"]);
        cli(ports[0], &args)?;
        let cluster = Self { nodes, dir };
        cluster.wait_healthy(Duration::from_secs(30))?;
        // Every replica holds its primary's data before anything is killed.
        wait_until("replicas in sync", Duration::from_secs(30), || {
            cluster.nodes.iter().all(|n| {
                cli(n.port, &["INFO", "replication"])
                    .is_ok_and(|o| o.contains("role:master") || o.contains("master_link_status:up"))
            })
        })?;
        Ok(cluster)
    }

    /// `redis-cluster://` URL naming every node.
    pub fn url(&self) -> String {
        let mut nodes = self.nodes.iter().filter(|n| n.child.is_some());
        let first = nodes.next().map_or(0, |n| n.port);
        let rest: Vec<String> = nodes
            .map(|n| format!("node=127.0.0.1:{}", n.port))
            .collect();
        format!("redis-cluster://127.0.0.1:{first}?{}", rest.join("&"))
    }

    fn live_port(&self) -> anyhow::Result<u16> {
        self.nodes
            .iter()
            .find(|n| n.child.is_some())
            .map(|n| n.port)
            .context("no live node")
    }

    /// Every slot served and every live node agreeing.
    pub fn wait_healthy(&self, timeout: Duration) -> anyhow::Result<()> {
        wait_until("cluster_state:ok", timeout, || {
            self.nodes.iter().filter(|n| n.child.is_some()).all(|n| {
                cli(n.port, &["CLUSTER", "INFO"]).is_ok_and(|o| o.contains("cluster_state:ok"))
            })
        })
    }

    /// Kills the primary serving `key` (SIGKILL) and returns its port.
    pub fn kill_primary_of(&mut self, key: &str) -> anyhow::Result<u16> {
        let live = self.live_port()?;
        let slot: u16 = cli(live, &["CLUSTER", "KEYSLOT", key])?.trim().parse()?;
        // CLUSTER NODES lines: id addr flags master ping pong epoch state slots...
        let nodes = cli(live, &["CLUSTER", "NODES"])?;
        for line in nodes.lines() {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 9 || !f[2].contains("master") {
                continue;
            }
            let owns = f[8..].iter().any(|range| {
                let mut r = range.split('-');
                match (r.next().and_then(|a| a.parse::<u16>().ok()), r.next()) {
                    (Some(a), Some(b)) => b.parse::<u16>().is_ok_and(|b| (a..=b).contains(&slot)),
                    (Some(a), None) => a == slot,
                    _ => false,
                }
            });
            if owns {
                let port: u16 = f[1]
                    .split(['@', ':'])
                    .nth(1)
                    .context("node address")?
                    .parse()?;
                let node = self
                    .nodes
                    .iter_mut()
                    .find(|n| n.port == port)
                    .context("primary is not ours")?;
                node.kill();
                return Ok(port);
            }
        }
        bail!("no primary owns slot {slot}")
    }
}

impl Drop for PrivateRedisCluster {
    fn drop(&mut self) {
        for n in &mut self.nodes {
            n.kill();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Redis' own tools run on the real clock: under `TEST_CLOCK` (libfaketime
/// preloaded into the tests) Redis' jemalloc hangs, and Redis' clock is only
/// ever compared with itself.
fn real_clock(mut command: Command) -> Command {
    command.env_remove("LD_PRELOAD").env_remove("FAKETIME");
    command
}
