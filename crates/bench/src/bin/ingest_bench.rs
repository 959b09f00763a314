//! `make bench-ingest`: how close ingest gets to the broker's own ceiling.
//!
//! In one run, on this machine, against the real RabbitMQ:
//! 1. **raw**: a minimal confirmed publisher (amqprs, the client ingest publishes with, 256
//!    publishes in flight, persistent, mandatory) sends bodies of the webhook's size to the
//!    same exchange and queue ingest uses;
//! 2. **full**: the release `ingest` binary, started as its own process, takes signed
//!    `orders/create` webhooks of about 7 KiB from a closed-loop client as fast as it answers;
//! 3. **half**: the same at half of the full-speed rate, paced (open loop).
//!
//! A consumer (its own process, `ingest-bench --drain QUEUE`) drains the queue during every
//! phase, as the segmenter would. For each phase it
//! prints throughput, p50/p99 latency and, for ingest, its own CPU time per request (utime +
//! stime of the ingest process from /proc, divided by the requests it answered). For the raw
//! phase and the full-speed phase it also prints where the machine's cores went: this process,
//! the drain consumer, ingest, RabbitMQ (`beam.smp`) and the rest, from /proc — the budget
//! that decides how close ingest can come to the raw rate (docs/benchmarks.md).
//!
//! Flags: `--seconds N` per phase (default 10), `--connections N` for the HTTP client
//! (default 64; fewer trade throughput for latency, see docs/benchmarks.md), `--ingest PATH`
//! (default: `ingest` next to this binary), `--floor empty|work` (`ingest-floor` in ingest's
//! place: the cost of the HTTP path alone, or with ingest's work but no publish; the "ingest"
//! rows are then that server's).
//!
//! `--work-loop [N]` (default 100 000, no other flags) runs none of that: it does ingest's own work on the same body N times in a
//! loop on this thread (signature check, parse for the topic, normalize and hash, envelope),
//! and prints the time per webhook of each step, and of the request's span and metrics: what
//! the work costs on a quiet core, with warm caches and no HTTP, kernel or broker around it.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use audience_core::topology::{SEGMENTER_QUEUE, Topology};
use futures_util::StreamExt;
use hdrhistogram::Histogram;
use lapin::options::{BasicAckOptions, BasicConsumeOptions, BasicQosOptions};
use lapin::types::FieldTable;
use lapin::{Connection, ConnectionProperties};
use tokio::sync::Semaphore;

const AMQP_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";
const SECRET: &str = "bench-secret";
const TARGET_BODY: usize = 7 * 1024;

struct Args {
    seconds: u64,
    connections: usize,
    ingest: PathBuf,
    /// `--floor STAGE`: `ingest-floor` in ingest's place (its module doc).
    floor: Option<String>,
}

fn args() -> anyhow::Result<Args> {
    let mut seconds = 10;
    let mut connections = 64;
    let exe = std::env::current_exe().context("current exe")?;
    let mut ingest = exe.with_file_name("ingest");
    let mut floor = None;
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--seconds" => seconds = it.next().context("--seconds N")?.parse()?,
            "--connections" => connections = it.next().context("--connections N")?.parse()?,
            "--ingest" => ingest = it.next().context("--ingest PATH")?.into(),
            "--floor" => {
                floor = Some(it.next().context("--floor empty|work")?);
                ingest = exe.with_file_name("ingest-floor");
            }
            other => bail!("unknown argument {other:?}"),
        }
    }
    Ok(Args {
        seconds,
        connections,
        ingest,
        floor,
    })
}

/// The published `orders/create` sample, trimmed to about 7 KiB (compact JSON).
fn order_body() -> anyhow::Result<Vec<u8>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/shopify/orders__create/sample.json");
    let text = std::fs::read_to_string(&path).with_context(|| path.display().to_string())?;
    let mut order: serde_json::Value = serde_json::from_str(&text)?;
    // A realistic paid web order.
    order["test"] = serde_json::Value::Bool(false);
    order["cancelled_at"] = serde_json::Value::Null;
    order["cancel_reason"] = serde_json::Value::Null;
    order["financial_status"] = "paid".into();
    let mut body = serde_json::to_vec(&order)?;
    // Trim the note / line items until we are at about 7 KiB, then pad the note to it.
    while body.len() > TARGET_BODY {
        let items = order["line_items"].as_array_mut().context("line_items")?;
        if items.len() <= 1 {
            break;
        }
        items.pop();
        body = serde_json::to_vec(&order)?;
    }
    if body.len() < TARGET_BODY {
        let pad = TARGET_BODY - body.len();
        order["note"] = serde_json::Value::String("n".repeat(pad.saturating_sub(2)));
        body = serde_json::to_vec(&order)?;
    }
    Ok(body)
}

/// The size of what ingest publishes for `body`: the envelope with the hashed event.
fn envelope_bytes(body: &[u8]) -> anyhow::Result<usize> {
    use audience_core::envelope::{Envelope, shopify_message_id};
    use audience_core::shopify::Topic;
    let topic = Topic::parse("orders/create").context("topic")?;
    let shop = "bench-shop.myshopify.com";
    let ctx = audience_core::events::Context {
        shop_domain: shop,
        shop_country: None,
    };
    let payload = audience_core::events::from_webhook(topic, body, &ctx)?;
    let envelope = Envelope::new(
        shopify_message_id("bench-0"),
        shop,
        topic.as_str(),
        "2026-10",
        payload,
    );
    Ok(envelope.to_vec()?.len())
}

/// `--work-loop N`: ingest's work on the benchmark's body, N times per step, on this thread.
fn work_loop() -> anyhow::Result<()> {
    // `--work-loop [N]` and nothing else: the other flags are about the load run.
    let rest: Vec<String> = std::env::args().skip(2).collect();
    let n: u32 = match rest.as_slice() {
        [] => 100_000,
        [n] => n.parse().context("--work-loop N: N a whole number")?,
        _ => bail!("--work-loop takes only N (default 100000), no other flags"),
    };
    anyhow::ensure!(n > 0, "--work-loop N: N must be at least 1");
    let body = order_body()?;
    let secrets = audience_ingest::signature::Secrets::parse(SECRET).context("secret")?;
    let signature = audience_ingest::signature::sign(SECRET.as_bytes(), &body);
    let topic = audience_core::shopify::Topic::parse("orders/create").context("topic")?;
    // As ingest does before its first webhook: phone metadata decoded, regex caches warm.
    envelope_bytes(&body)?;
    let time = |step: &dyn Fn() -> anyhow::Result<()>| -> anyhow::Result<f64> {
        let started = Instant::now();
        for _ in 0..n {
            step()?;
        }
        Ok(started.elapsed().as_secs_f64() * 1e6 / f64::from(n))
    };
    let verify = || {
        anyhow::ensure!(secrets.verify(&signature, &body), "signature");
        Ok(())
    };
    let parse = || {
        audience_core::shopify::parse(topic, &body)?;
        Ok(())
    };
    let all = || {
        verify()?;
        envelope_bytes(&body).map(drop)
    };
    // The request's span as ingest opens and polls it, under ingest's subscriber: the
    // JSON log layer at `RUST_LOG` (`info` unless set, as for ingest in the load run; at
    // `warn` that layer ignores the span) and the OpenTelemetry layer (exporting only when
    // `OTEL_EXPORTER_OTLP_ENDPOINT` is set). Nothing is logged here.
    let _telemetry = audience_runtime::telemetry::init("ingest-bench");
    let span = || {
        let shop = "bench-shop.myshopify.com";
        let span = tracing::info_span!("shopify_webhook", topic = "orders/create", shop = %shop);
        for _ in 0..3 {
            drop(span.enter());
        }
        Ok(())
    };
    let metrics = audience_ingest::metrics::Metrics::new()?;
    let count = || {
        let labels = ["orders/create", "accepted"];
        metrics.webhooks.with_label_values(&labels).inc();
        metrics
            .latency
            .with_label_values(&["accepted"])
            .observe(0.005);
        metrics.confirm.with_label_values(&["ack"]).observe(0.004);
        Ok(())
    };
    println!(
        "ingest's work on one {} byte orders/create body, {n} times per step, one thread:",
        body.len()
    );
    println!();
    println!("| step | µs per webhook |");
    println!("|---|---|");
    println!(
        "| signature (HMAC-SHA256 of the body, base64, constant-time compare) | {:.2} |",
        time(&verify)?
    );
    println!(
        "| parse for the topic (typed, borrowed) | {:.2} |",
        time(&parse)?
    );
    println!(
        "| all: signature, parse, normalize and hash, envelope serialized | {:.2} |",
        time(&all)?
    );
    println!(
        "| the request's span: opened with its two fields, entered 3 times, closed (RUST_LOG={}) | {:.2} |",
        std::env::var("RUST_LOG").unwrap_or_else(|_| "info".to_owned()),
        time(&span)?
    );
    println!(
        "| metrics: the request counter and two histograms | {:.2} |",
        time(&count)?
    );
    Ok(())
}

fn cpu_ticks(pid: u32) -> anyhow::Result<u64> {
    let (user, system) = cpu_ticks_split(pid)?;
    Ok(user + system)
}

/// User and system clock ticks of `pid` so far.
fn cpu_ticks_split(pid: u32) -> anyhow::Result<(u64, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which is in parentheses and may contain spaces).
    let after = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .context("stat format")?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: indices 11 and 12 here.
    let utime: u64 = fields.get(11).context("utime")?.parse()?;
    let stime: u64 = fields.get(12).context("stime")?.parse()?;
    Ok((utime, stime))
}

/// CPU time (clock ticks) of the processes that share the machine during a phase, and the
/// machine's busy time, so the run can say where the cores went.
#[derive(Debug, Clone, Copy)]
struct Budget {
    at: Instant,
    /// This process's user and system ticks.
    this: (u64, u64),
    drain: u64,
    ingest: u64,
    broker: u64,
    machine_busy: u64,
}

impl Budget {
    /// Reads the counters now; `ingest` is `None` before ingest runs.
    fn take(drain: u32, ingest: Option<u32>) -> anyhow::Result<Self> {
        Ok(Self {
            at: Instant::now(),
            this: cpu_ticks_split(std::process::id())?,
            drain: cpu_ticks(drain)?,
            ingest: ingest.map(cpu_ticks).transpose()?.unwrap_or(0),
            broker: broker_ticks(),
            machine_busy: machine_busy_ticks()?,
        })
    }

    /// Cores busy, on average, from `self` to `later`: this process, the drain consumer,
    /// ingest, RabbitMQ, everything else, the whole machine.
    fn cores_until(&self, later: &Self) -> [f64; 6] {
        let seconds = later.at.duration_since(self.at).as_secs_f64() * ticks_per_second();
        let cores = |a: u64, b: u64| b.saturating_sub(a) as f64 / seconds;
        let this = cores(self.this.0 + self.this.1, later.this.0 + later.this.1);
        let drain = cores(self.drain, later.drain);
        let ingest = cores(self.ingest, later.ingest);
        let broker = cores(self.broker, later.broker);
        let machine = cores(self.machine_busy, later.machine_busy);
        let rest = (machine - this - drain - ingest - broker).max(0.0);
        [this, drain, ingest, broker, rest, machine]
    }

    /// This process's CPU ticks from `self` to `later`: (user + system, system).
    fn this_until(&self, later: &Self) -> (u64, u64) {
        let system = later.this.1.saturating_sub(self.this.1);
        (later.this.0.saturating_sub(self.this.0) + system, system)
    }
}

/// CPU ticks of every `beam.smp` process (the Erlang VM RabbitMQ runs in); 0 if unreadable.
fn broker_ticks() -> u64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    dir.filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|comm| comm.trim() == "beam.smp")
        })
        .filter_map(|pid| cpu_ticks(pid).ok())
        .sum()
}

/// Busy clock ticks of the whole machine: all CPUs' user, nice, system, irq and softirq time
/// (not idle, I/O wait, or steal, which is the hypervisor's and no process's here).
fn machine_busy_ticks() -> anyhow::Result<u64> {
    let stat = std::fs::read_to_string("/proc/stat")?;
    let cpu = stat.lines().next().context("/proc/stat")?;
    let ticks: Vec<u64> = cpu
        .split_whitespace()
        .skip(1)
        .take(8)
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    let not_busy = [3, 4, 7].iter().filter_map(|&i| ticks.get(i)).sum::<u64>();
    Ok(ticks.iter().sum::<u64>() - not_busy)
}

fn ticks_per_second() -> f64 {
    // Linux's USER_HZ is 100 on every mainstream configuration.
    100.0
}

#[derive(Debug, Default, Clone)]
struct Phase {
    name: &'static str,
    done: u64,
    failed: u64,
    seconds: f64,
    p50_ms: f64,
    p99_ms: f64,
    cpu_us_per_req: Option<f64>,
    /// The kernel's part of `cpu_us_per_req` (system time), where it is measured.
    kernel_us_per_req: Option<f64>,
}

impl Phase {
    fn rate(&self) -> f64 {
        self.done as f64 / self.seconds
    }
}

/// A consumer that acks everything in `queue` (multiple acks, prefetch 1000) until stopped.
async fn drain(queue: String, stop: Arc<AtomicBool>) -> anyhow::Result<u64> {
    let conn = Connection::connect(AMQP_URL, ConnectionProperties::default()).await?;
    let ch = conn.create_channel().await?;
    ch.basic_qos(1000, BasicQosOptions::default()).await?;
    let mut consumer = ch
        .basic_consume(
            queue.as_str().into(),
            "bench-drain".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await?;
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        match tokio::time::timeout(Duration::from_millis(200), consumer.next()).await {
            Ok(Some(Ok(delivery))) => {
                n += 1;
                if n.is_multiple_of(100) || stop.load(Ordering::Relaxed) {
                    delivery.ack(BasicAckOptions { multiple: true }).await?;
                }
            }
            Ok(Some(Err(e))) => return Err(e.into()),
            Ok(None) => break,
            Err(_) => {}
        }
    }
    let _ = conn.close(200, "done".into()).await;
    Ok(n)
}

/// Phase 1: a minimal confirmed publisher, 256 in flight: amqprs, the client ingest publishes
/// with, its I/O tasks and the publishing loop on one current-thread runtime (as ingest runs
/// them on its HTTP worker), on a thread of its own.
fn raw_publish(topology: &Topology, body: &[u8], seconds: u64) -> anyhow::Result<Phase> {
    let exchange = topology.shopify_events();
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?
                    .block_on(raw_publish_on_this_thread(&exchange, body, seconds))
            })
            .join()
            .map_err(|_| anyhow::anyhow!("the raw publisher panicked"))?
    })
}

/// The raw publisher's confirmation bookkeeping: tags are 1, 2, 3… in publish order.
struct RawConfirms {
    window: Arc<Semaphore>,
    sent_at: Arc<std::sync::Mutex<std::collections::VecDeque<(u64, Instant)>>>,
    hist: Arc<std::sync::Mutex<Histogram<u64>>>,
    done: Arc<AtomicU64>,
    failed: Arc<AtomicU64>,
}

impl RawConfirms {
    fn settle(&self, tag: u64, multiple: bool, ok: bool) {
        let Ok(mut sent_at) = self.sent_at.lock() else {
            return;
        };
        let Ok(mut hist) = self.hist.lock() else {
            return;
        };
        let mut n = 0;
        while let Some(&(t, at)) = sent_at.front() {
            if t > tag || (!multiple && t != tag) {
                break;
            }
            sent_at.pop_front();
            let _ = hist.record(at.elapsed().as_micros() as u64);
            n += 1;
        }
        let counter = if ok { &self.done } else { &self.failed };
        counter.fetch_add(n, Ordering::Relaxed);
        self.window.add_permits(n as usize);
    }
}

#[async_trait::async_trait]
impl amqprs::callbacks::ChannelCallback for RawConfirms {
    async fn close(
        &mut self,
        _: &amqprs::channel::Channel,
        close: amqprs::CloseChannel,
    ) -> Result<(), amqprs::error::Error> {
        eprintln!("bench: the broker closed the raw publisher's channel: {close}");
        Ok(())
    }
    async fn cancel(
        &mut self,
        _: &amqprs::channel::Channel,
        _: amqprs::Cancel,
    ) -> Result<(), amqprs::error::Error> {
        Ok(())
    }
    async fn flow(
        &mut self,
        _: &amqprs::channel::Channel,
        active: bool,
    ) -> Result<bool, amqprs::error::Error> {
        Ok(active)
    }
    async fn publish_ack(&mut self, _: &amqprs::channel::Channel, ack: amqprs::Ack) {
        self.settle(ack.delivery_tag(), ack.mutiple(), true);
    }
    async fn publish_nack(&mut self, _: &amqprs::channel::Channel, nack: amqprs::Nack) {
        self.settle(nack.delivery_tag(), nack.multiple(), false);
    }
    async fn publish_return(
        &mut self,
        _: &amqprs::channel::Channel,
        _: amqprs::Return,
        _: amqprs::BasicProperties,
        _: Vec<u8>,
    ) {
        eprintln!("bench: a raw message was returned (unroutable)");
    }
}

async fn raw_publish_on_this_thread(
    exchange: &str,
    body: &[u8],
    seconds: u64,
) -> anyhow::Result<Phase> {
    use amqprs::channel::{BasicPublishArguments, ConfirmSelectArguments};
    use amqprs::connection::{Connection, OpenConnectionArguments};
    let conn = Connection::open(&OpenConnectionArguments::new(
        "127.0.0.1",
        5672,
        "guest",
        "guest",
    ))
    .await?;
    let ch = conn.open_channel(None).await?;
    let confirms = RawConfirms {
        window: Arc::new(Semaphore::new(256)),
        sent_at: Arc::default(),
        hist: Arc::new(std::sync::Mutex::new(Histogram::<u64>::new(3)?)),
        done: Arc::default(),
        failed: Arc::default(),
    };
    let (window, sent_at, hist) = (
        confirms.window.clone(),
        confirms.sent_at.clone(),
        confirms.hist.clone(),
    );
    let (done, failed) = (confirms.done.clone(), confirms.failed.clone());
    ch.register_callback(confirms).await?;
    ch.confirm_select(ConfirmSelectArguments::default()).await?;
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let mut tag = 0;
    while Instant::now() < deadline {
        window.acquire().await?.forget();
        tag += 1;
        if let Ok(mut sent_at) = sent_at.lock() {
            sent_at.push_back((tag, Instant::now()));
        }
        let mut args = BasicPublishArguments::new(exchange, "shopify.orders.create");
        args.mandatory(true);
        let properties = amqprs::BasicProperties::default()
            .with_persistence(true)
            .finish();
        #[expect(
            clippy::disallowed_methods,
            reason = "the raw baseline publisher, on purpose"
        )]
        ch.basic_publish(properties, body.to_vec(), args).await?;
    }
    let settle_by = Instant::now() + Duration::from_secs(30);
    while done.load(Ordering::Relaxed) + failed.load(Ordering::Relaxed) < tag
        && Instant::now() < settle_by
    {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let _ = conn.close().await;
    let h = hist.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
    Ok(Phase {
        name: "raw confirmed publisher (256 in flight)",
        done: done.load(Ordering::Relaxed),
        failed: failed.load(Ordering::Relaxed),
        seconds: elapsed,
        p50_ms: h.value_at_quantile(0.5) as f64 / 1000.0,
        p99_ms: h.value_at_quantile(0.99) as f64 / 1000.0,
        cpu_us_per_req: None,
        kernel_us_per_req: None,
    })
}

struct Ingest {
    child: Child,
    url: String,
    addr: String,
}

impl Drop for Ingest {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

async fn start_ingest(path: &PathBuf, prefix: &str, floor: Option<&str>) -> anyhow::Result<Ingest> {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0")?;
        l.local_addr()?.port()
    };
    let mut command = Command::new(path);
    if let Some(stage) = floor {
        command.env("INGEST_FLOOR_STAGE", stage);
    }
    let child = command
        .env("SHOPIFY_API_SECRET", SECRET)
        .env("AMQP_URL", AMQP_URL)
        .env("AMQP_PREFIX", prefix)
        .env("INGEST_BIND", format!("127.0.0.1:{port}"))
        // Ingest's log level as it ships (`info` unless the caller sets `RUST_LOG`): at `info`
        // its JSON log layer also records each request's span. Its log lines go nowhere.
        .stdout(Stdio::null())
        .spawn()
        .with_context(|| {
            format!(
                "starting {} (run `make bench-ingest`, which builds it)",
                path.display()
            )
        })?;
    let addr = format!("127.0.0.1:{port}");
    let url = format!("http://{addr}");
    let ingest = Ingest { child, url, addr };
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if let Ok(r) = client.get(format!("{}/readyz", ingest.url)).send().await
            && r.status().is_success()
        {
            return Ok(ingest);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("ingest did not become ready")
}

/// One keep-alive HTTP/1.1 connection of the load generator.
///
/// A deliberately lean client (each request is written in one piece, the response is read
/// into one buffer per connection, nothing else): the generator shares the machine's two cores
/// with ingest and RabbitMQ, so every microsecond it spends is taken from them. reqwest, used
/// until now, cost about 60 µs per request here; this client and the drain consumer together
/// cost about 40 µs per request (measured once, before the consumer got its own process).
struct HttpConnection {
    stream: tokio::net::TcpStream,
    buf: Vec<u8>,
}

impl HttpConnection {
    async fn open(addr: &str) -> anyhow::Result<Self> {
        let stream = tokio::net::TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream,
            buf: Vec::with_capacity(4096),
        })
    }

    /// Sends one request (`head` ends with the blank line) and returns the response's status.
    async fn send(&mut self, head: &[u8], body: &[u8]) -> anyhow::Result<u16> {
        use tokio::io::AsyncWriteExt;
        let mut request = Vec::with_capacity(head.len() + body.len());
        request.extend_from_slice(head);
        request.extend_from_slice(body);
        self.stream.write_all(&request).await?;
        self.buf.clear();
        loop {
            if let Some(end) = find(&self.buf, b"\r\n\r\n") {
                let head = std::str::from_utf8(&self.buf[..end])?;
                let status: u16 = head.split(' ').nth(1).context("status line")?.parse()?;
                let length: usize = head
                    .lines()
                    .find_map(|l| {
                        let (name, value) = l.split_once(':')?;
                        name.eq_ignore_ascii_case("content-length")
                            .then(|| value.trim().parse().ok())?
                    })
                    .context("content-length")?;
                let total = end + 4 + length;
                while self.buf.len() < total {
                    self.read_more().await?;
                }
                // One request in flight per connection: nothing follows the body.
                return Ok(status);
            }
            self.read_more().await?;
        }
    }

    async fn read_more(&mut self) -> anyhow::Result<()> {
        use tokio::io::AsyncReadExt;
        let mut chunk = [0u8; 4096];
        let n = self.stream.read(&mut chunk).await?;
        if n == 0 {
            bail!("connection closed by ingest");
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Sends signed webhooks; `rate` None = closed loop on `connections` connections, Some(r) =
/// paced at r requests/s (open loop, spread over the connections).
async fn load(
    ingest: &Ingest,
    body: Arc<Vec<u8>>,
    seconds: u64,
    connections: usize,
    rate: Option<f64>,
    name: &'static str,
) -> anyhow::Result<Phase> {
    let signature = audience_ingest::signature::sign(SECRET.as_bytes(), &body);
    let addr = ingest.addr.clone();
    let pid = ingest.child.id();
    let hist = Arc::new(std::sync::Mutex::new(Histogram::<u64>::new(3)?));
    let done = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let seq = Arc::new(AtomicU64::new(0));
    let mut conns = Vec::with_capacity(connections);
    for _ in 0..connections {
        conns.push(HttpConnection::open(&addr).await?);
    }
    let (user0, system0) = cpu_ticks_split(pid)?;
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let mut workers = Vec::new();
    for (worker, mut conn) in conns.into_iter().enumerate() {
        let (signature, body, addr) = (signature.clone(), body.clone(), addr.clone());
        let (hist, done, failed, seq) = (hist.clone(), done.clone(), failed.clone(), seq.clone());
        workers.push(tokio::spawn(async move {
            // Paced: each worker sends every `connections / rate` seconds, offset by its index.
            let interval = rate.map(|r| Duration::from_secs_f64(connections as f64 / r));
            let mut next = started
                + interval.map_or(Duration::ZERO, |i| {
                    i.mul_f64(worker as f64 / connections as f64)
                });
            while Instant::now() < deadline {
                if let Some(i) = interval {
                    tokio::time::sleep_until(next.into()).await;
                    next += i;
                    if Instant::now() >= deadline {
                        break;
                    }
                }
                let n = seq.fetch_add(1, Ordering::Relaxed);
                let head = format!(
                    "POST /webhooks/shopify HTTP/1.1\r\nHost: {addr}\r\n\
                     Content-Type: application/json\r\nContent-Length: {}\r\n\
                     X-Shopify-Topic: orders/create\r\nX-Shopify-Hmac-Sha256: {signature}\r\n\
                     X-Shopify-Shop-Domain: bench-shop.myshopify.com\r\n\
                     X-Shopify-API-Version: 2026-10\r\nX-Shopify-Webhook-Id: bench-{n}\r\n\r\n",
                    body.len()
                );
                let t0 = Instant::now();
                let result = conn.send(head.as_bytes(), &body).await;
                if matches!(result, Ok(200)) {
                    done.fetch_add(1, Ordering::Relaxed);
                    if let Ok(mut h) = hist.lock() {
                        let _ = h.record(t0.elapsed().as_micros() as u64);
                    }
                } else {
                    failed.fetch_add(1, Ordering::Relaxed);
                    if result.is_err() {
                        // The connection is unusable; open a new one and go on.
                        match HttpConnection::open(&addr).await {
                            Ok(fresh) => conn = fresh,
                            Err(_) => break,
                        }
                    }
                }
            }
        }));
    }
    for w in workers {
        let _ = w.await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let (user1, system1) = cpu_ticks_split(pid)?;
    let system = system1 - system0;
    let cpu = user1 - user0 + system;
    let done = done.load(Ordering::Relaxed);
    let per_req = |ticks: u64| ticks as f64 / ticks_per_second() * 1e6 / done as f64;
    let h = hist.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
    Ok(Phase {
        name,
        done,
        failed: failed.load(Ordering::Relaxed),
        seconds: elapsed,
        p50_ms: h.value_at_quantile(0.5) as f64 / 1000.0,
        p99_ms: h.value_at_quantile(0.99) as f64 / 1000.0,
        cpu_us_per_req: (done > 0).then(|| per_req(cpu)),
        kernel_us_per_req: (done > 0).then(|| per_req(system)),
    })
}

/// `ingest-bench --drain QUEUE`: the drain consumer as its own process (started by the
/// benchmark), so that the raw phase's CPU figure is the publisher's alone. It stops when its
/// standard input closes.
async fn drain_process(queue: String) -> anyhow::Result<()> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
        flag.store(true, Ordering::Relaxed);
    });
    let n = drain(queue, stop).await?;
    eprintln!("bench: drain consumer acknowledged {n} messages");
    Ok(())
}

/// Starts the drain consumer process; it stops when the returned child's stdin is dropped.
fn start_drain(queue: &str) -> anyhow::Result<Child> {
    let exe = std::env::current_exe().context("current exe")?;
    Command::new(exe)
        .arg("--drain")
        .arg(queue)
        .stdin(Stdio::piped())
        .spawn()
        .context("starting the drain consumer")
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut raw_args = std::env::args().skip(1);
    if raw_args.next().as_deref() == Some("--drain") {
        return drain_process(raw_args.next().context("--drain QUEUE")?).await;
    }
    if std::env::args().nth(1).as_deref() == Some("--work-loop") {
        return work_loop();
    }
    let args = args()?;
    let body = Arc::new(order_body()?);
    let prefix = format!("bench-{}.", uuid::Uuid::new_v4().simple());
    let topology = Topology::new(&prefix);
    let setup = Connection::connect(AMQP_URL, ConnectionProperties::default())
        .await
        .context("RabbitMQ at 127.0.0.1:5672 (run `make services`)")?;
    let channel = setup.create_channel().await?;
    audience_messaging::topology::declare(&channel, &topology).await?;
    let queue = topology.work_queue(SEGMENTER_QUEUE).name;

    let run = async {
        eprintln!(
            "bench: body {} bytes, {} s per phase, {} connections",
            body.len(),
            args.seconds,
            args.connections
        );
        let mut drainer = start_drain(&queue)?;

        let drain_pid = drainer.id();
        let raw_start = Budget::take(drain_pid, None)?;
        let mut raw = raw_publish(&topology, &body, args.seconds)?;
        let raw_end = Budget::take(drain_pid, None)?;
        let raw_cores = raw_start.cores_until(&raw_end);
        // This process during the raw phase is the amqprs publisher alone (the drain consumer is
        // its own process): what the AMQP client costs per confirmed message, a floor for ingest.
        let (cpu, system) = raw_start.this_until(&raw_end);
        let per_message = |ticks: u64| ticks as f64 / ticks_per_second() * 1e6 / raw.done as f64;
        if raw.done > 0 {
            raw.cpu_us_per_req = Some(per_message(cpu));
            raw.kernel_us_per_req = Some(per_message(system));
        }
        eprintln!("bench: raw done: {:.0}/s", raw.rate());
        let ingest = start_ingest(&args.ingest, &prefix, args.floor.as_deref()).await?;
        // Warm up connections and caches.
        let _ = load(&ingest, body.clone(), 2, args.connections, None, "warm-up").await?;
        let ingest_pid = Some(ingest.child.id());
        let full_start = Budget::take(drain_pid, ingest_pid)?;
        let full = load(
            &ingest,
            body.clone(),
            args.seconds,
            args.connections,
            None,
            "ingest, full speed",
        )
        .await?;
        let full_cores = full_start.cores_until(&Budget::take(drain_pid, ingest_pid)?);
        eprintln!("bench: full done: {:.0}/s", full.rate());
        let half_rate = full.rate() / 2.0;
        let half = load(
            &ingest,
            body.clone(),
            args.seconds,
            args.connections,
            Some(half_rate),
            "ingest, half speed (paced)",
        )
        .await?;
        drop(ingest);
        drop(drainer.stdin.take());
        let _ = drainer.wait();
        anyhow::Ok((raw, full, half, raw_cores, full_cores))
    };
    let outcome = run.await;
    let _ = audience_messaging::topology::delete(&channel, &topology).await;
    let _ = setup.close(200, "done".into()).await;
    let (raw, full, half, raw_cores, full_cores) = outcome?;

    println!(
        "body: {} bytes (signed orders/create), {} s per phase, {} client connections",
        body.len(),
        args.seconds,
        args.connections
    );
    println!(
        "ingest publishes a {} byte envelope per webhook (hashed keys and the order's facts)",
        envelope_bytes(&body)?
    );
    println!();
    println!(
        "| phase | requests ok | failed | rate (/s) | p50 (ms) | p99 (ms) | CPU per request (µs) | of which kernel (µs) |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let micros = |v: Option<f64>| v.map_or("—".to_owned(), |c| format!("{c:.1}"));
    for p in [&raw, &full, &half] {
        println!(
            "| {} | {} | {} | {:.0} | {:.2} | {:.2} | {} | {} |",
            p.name,
            p.done,
            p.failed,
            p.rate(),
            p.p50_ms,
            p.p99_ms,
            micros(p.cpu_us_per_req),
            micros(p.kernel_us_per_req),
        );
    }
    println!();
    println!("CPU per request: the ingest process's own for the ingest rows; for the raw row, the");
    println!("minimal amqprs publisher's own (the drain consumer runs as a separate process).");
    println!("The kernel's part (system time) includes the loopback TCP work of each send, which");
    println!("runs the receiving side's TCP and wakes the receiver in the sender's time.");
    println!();
    let cpus = std::thread::available_parallelism().map_or(0, usize::from);
    println!("where the machine's {cpus} cores went (cores busy, averaged over the phase):");
    println!();
    println!("| process | raw phase | ingest, full speed |");
    println!("|---|---|---|");
    let rows = [
        "this process (raw publisher / HTTP load generator)",
        "drain consumer",
        "ingest",
        "RabbitMQ (beam.smp)",
        "everything else",
        "machine, all processes",
    ];
    for (i, row) in rows.iter().enumerate() {
        println!("| {row} | {:.2} | {:.2} |", raw_cores[i], full_cores[i]);
    }
    println!();
    match &args.floor {
        // The floor server publishes nothing: its rate is not comparable with the broker's.
        Some(stage) => {
            println!("the ingest rows are ingest-floor ({stage}), which publishes nothing")
        }
        None => println!(
            "ingest full speed / raw confirmed publish = {:.2}",
            full.rate() / raw.rate()
        ),
    }
    Ok(())
}
