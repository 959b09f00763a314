//! `make bench-segmenter`: the segmenter's throughput on this machine, next to the raw
//! single-row upsert rate of the same PostgreSQL, measured in the same run.
//!
//! 1. **raw upsert**: one connection, a prepared `INSERT … ON CONFLICT DO UPDATE` of one row
//!    per statement (autocommit, `synchronous_commit` as configured) into a scratch table of
//!    100 000 rows, keys random over 200 000, for `--seconds` (default 5);
//! 2. **segmenter**: `--events` (default 100 000) mixed store events — customers created and
//!    updated, orders created, paid and updated (some cancelled), refunds — for `--customers`
//!    (default 20 000) customers over `--shops` shops (default 5), are published to a fresh
//!    prefixed topology; then the release `segmenter` binary is started as its own process on a
//!    fresh database and timed from readiness until every event is handled and the outbox is
//!    empty (consume → commit → outbox published with confirms). Its peak memory is its VmHWM
//!    from `/proc`.
//!
//! Prints a markdown table. Flags: `--events N`, `--customers N`, `--shops N`, `--seconds N`,
//! `--segmenter PATH` (default: `segmenter` next to this binary), `--keep` (leave the database
//! and topology for inspection), `--log PATH` (the segmenter's log; set `RUST_LOG`).

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use audience_core::envelope::Envelope;
use audience_core::events::{
    CustomerEvent, OrderEvent, OrderLineItem, RefundEvent, StoreEvent, UserData,
};
use audience_core::normalize::Hashed;
use audience_core::shopify::{CurrencyCode, Money, Topic};
use audience_core::topology::Topology;
use audience_messaging::{Broker, BrokerSettings, Outgoing, Publisher};
use audience_segmenter::config::database_name;
use audience_segmenter::db::{self, migrate};
use chrono::{DateTime, FixedOffset, TimeDelta, Utc};

const AMQP_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";
const PG_SERVER: &str = "postgres://postgres@127.0.0.1:5432";

struct Args {
    events: usize,
    customers: usize,
    shops: usize,
    seconds: u64,
    segmenter: PathBuf,
    keep: bool,
    log: Option<PathBuf>,
}

fn args() -> anyhow::Result<Args> {
    let exe = std::env::current_exe().context("current exe")?;
    let mut args = Args {
        events: 100_000,
        customers: 20_000,
        shops: 5,
        seconds: 5,
        segmenter: exe.with_file_name("segmenter"),
        keep: false,
        log: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--events" => args.events = it.next().context("--events N")?.parse()?,
            "--customers" => args.customers = it.next().context("--customers N")?.parse()?,
            "--shops" => args.shops = it.next().context("--shops N")?.parse()?,
            "--seconds" => args.seconds = it.next().context("--seconds N")?.parse()?,
            "--segmenter" => args.segmenter = it.next().context("--segmenter PATH")?.into(),
            "--keep" => args.keep = true,
            "--log" => args.log = Some(it.next().context("--log PATH")?.into()),
            other => bail!("unknown argument {other:?}"),
        }
    }
    if args.customers == 0 || args.shops == 0 || args.events == 0 {
        bail!("--events, --customers and --shops must be positive");
    }
    Ok(args)
}

/// xorshift64*: deterministic, dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Mix {
    customers_create: usize,
    customers_update: usize,
    orders_create: usize,
    orders_paid: usize,
    orders_updated: usize,
    refunds: usize,
}

fn user_data(customer: u64) -> UserData {
    UserData {
        em: vec![Hashed::of(&format!("customer{customer}@example.com"))],
        ph: vec![Hashed::of(&format!("1555{:07}", customer % 10_000_000))],
        fn_: Some(Hashed::of("jane")),
        ln: Some(Hashed::of(&format!("doe{}", customer % 977))),
        ct: Some(Hashed::of("ottawa")),
        st: Some(Hashed::of("on")),
        zp: Some(Hashed::of("k2p2l8")),
        country: Some(Hashed::of("ca")),
        external_id: Some(Hashed::of(&customer.to_string())),
        invalid_fields: Vec::new(),
    }
}

fn fixed(at: DateTime<Utc>) -> DateTime<FixedOffset> {
    at.fixed_offset()
}

/// The events of one customer, in the order Shopify would send them.
fn customer_events(
    rng: &mut Rng,
    customer: u64,
    next_order: &mut u64,
    usd: CurrencyCode,
) -> Vec<(Topic, StoreEvent)> {
    let now = Utc::now();
    let mut out = Vec::new();
    let created = now - TimeDelta::days(i64::try_from(rng.below(400)).unwrap_or(0) + 1);
    let customer_event = |updated: DateTime<Utc>, consent: bool| CustomerEvent {
        customer_id: customer,
        created_at: Some(fixed(created)),
        updated_at: Some(fixed(updated)),
        state: None,
        verified_email: Some(true),
        email_marketing_consent: Some(consent),
        sms_marketing_consent: None,
        orders_count: None,
        total_spent: None,
        last_order_id: None,
        currency: None,
        user_data: user_data(customer),
    };
    out.push((
        Topic::CustomersCreate,
        StoreEvent::Customer(customer_event(created, true)),
    ));
    if rng.chance(50) {
        let updated = created + TimeDelta::hours(1);
        out.push((
            Topic::CustomersUpdate,
            StoreEvent::Customer(customer_event(updated, rng.chance(80))),
        ));
    }
    let orders = match rng.below(100) {
        0..=19 => 0,
        20..=64 => 1,
        65..=89 => 2,
        _ => 3,
    };
    for _ in 0..orders {
        let order_id = *next_order;
        *next_order += 1;
        let at = now
            - TimeDelta::days(i64::try_from(rng.below(300)).unwrap_or(0))
            - TimeDelta::minutes(5);
        let cents = i64::try_from(rng.below(150_000) + 500).unwrap_or(500);
        let total = Money::from_units(cents, 2).unwrap_or(Money::ZERO);
        let half = Money::from_units(cents / 2, 2).unwrap_or(Money::ZERO);
        let order = |updated: DateTime<Utc>, cancelled: bool| OrderEvent {
            order_id,
            customer_id: Some(customer),
            name: Some(format!("#{order_id}")),
            test: false,
            created_at: fixed(at),
            processed_at: Some(fixed(at)),
            updated_at: Some(fixed(updated)),
            cancelled_at: cancelled.then(|| fixed(updated)),
            cancel_reason: cancelled.then(|| "customer".to_owned()),
            financial_status: Some(if cancelled { "voided" } else { "paid" }.to_owned()),
            source_name: Some("web".to_owned()),
            currency: usd,
            total_price: total,
            current_total_price: None,
            presentment_currency: None,
            presentment_total_price: None,
            line_items: vec![
                OrderLineItem {
                    line_item_id: order_id * 10,
                    product_id: Some(632_910_392),
                    variant_id: Some(808_950_810),
                    sku: Some("IPOD2008PINK".to_owned()),
                    title: Some("IPod Nano - 8GB".to_owned()),
                    quantity: 1,
                    price: Some(half),
                },
                OrderLineItem {
                    line_item_id: order_id * 10 + 1,
                    product_id: Some(788_032_119),
                    variant_id: Some(49_148_385),
                    sku: Some("SKU2006-001".to_owned()),
                    title: Some("Aviator sunglasses".to_owned()),
                    quantity: 1,
                    price: Some(half),
                },
            ],
            refunds: Vec::new(),
            buyer_accepts_marketing: Some(true),
            user_data: user_data(customer),
            client_ip_address: Some(format!("203.0.113.{}", customer % 250)),
            client_user_agent: Some(
                "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0".to_owned(),
            ),
            fbc: Some(format!(
                "fb.1.{}.IwAR2F4-dbP0l7Mn{customer}",
                at.timestamp_millis()
            )),
            fbp: Some(format!("fb.1.1596403881668.{customer}")),
            event_source_url: Some("https://shop.myshopify.com/products/ipod-nano".to_owned()),
        };
        out.push((Topic::OrdersCreate, StoreEvent::Order(order(at, false))));
        out.push((
            Topic::OrdersPaid,
            StoreEvent::Order(order(at + TimeDelta::seconds(5), false)),
        ));
        if rng.chance(40) {
            let cancelled = rng.chance(12);
            out.push((
                Topic::OrdersUpdated,
                StoreEvent::Order(order(at + TimeDelta::minutes(1), cancelled)),
            ));
        }
        if rng.chance(30) {
            out.push((
                Topic::RefundsCreate,
                StoreEvent::Refund(RefundEvent {
                    refund_id: order_id + 500_000_000,
                    order_id,
                    created_at: Some(fixed(at + TimeDelta::days(2))),
                    processed_at: Some(fixed(at + TimeDelta::days(2))),
                    amount: half,
                    currency: Some(usd),
                    shop_amount: Some(half),
                    shop_currency: Some(usd),
                    line_items: Vec::new(),
                }),
            ));
        }
    }
    out
}

/// `events` events over at least `customers` customers (more if those do not make enough
/// events), interleaved across customers; each customer's own events stay in order.
fn generate(
    events: usize,
    customers: usize,
    rng: &mut Rng,
    usd: CurrencyCode,
) -> (Vec<(u64, Topic, StoreEvent)>, Mix) {
    let mut mix = Mix::default();
    let mut next_order = 5_000_000_000_u64;
    let mut streams: Vec<std::collections::VecDeque<(Topic, StoreEvent)>> = Vec::new();
    let mut total = 0;
    let mut customer = 0_u64;
    while total < events || streams.len() < customers {
        let id = 7_000_000 + customer;
        let stream = customer_events(rng, id, &mut next_order, usd);
        total += stream.len();
        streams.push(stream.into());
        customer += 1;
    }
    let mut active: Vec<usize> = (0..streams.len()).collect();
    let mut out = Vec::with_capacity(events);
    while out.len() < events && !active.is_empty() {
        let pick = usize::try_from(rng.below(active.len() as u64)).unwrap_or(0);
        let index = active[pick];
        match streams[index].pop_front() {
            Some((topic, event)) => {
                match topic {
                    Topic::CustomersCreate => mix.customers_create += 1,
                    Topic::CustomersUpdate => mix.customers_update += 1,
                    Topic::OrdersCreate => mix.orders_create += 1,
                    Topic::OrdersPaid => mix.orders_paid += 1,
                    Topic::OrdersUpdated => mix.orders_updated += 1,
                    _ => mix.refunds += 1,
                }
                out.push((index as u64, topic, event));
            }
            None => {
                active.swap_remove(pick);
            }
        }
    }
    (out, mix)
}

async fn publish_all(
    broker: &Broker,
    events: Vec<(u64, Topic, StoreEvent)>,
    shops: &[String],
) -> anyhow::Result<(usize, Duration)> {
    let publisher = Publisher::new(broker.clone(), Duration::from_secs(30));
    let exchange = broker.topology().shopify_events();
    let started = Instant::now();
    let mut bytes = 0;
    for chunk in events.chunks(1000) {
        let bodies: Vec<(String, &'static str, Vec<u8>)> = chunk
            .iter()
            .map(|(customer, topic, event)| {
                let shop = &shops[(*customer as usize) % shops.len()];
                let envelope = Envelope {
                    triggered_at: Some(Utc::now()),
                    ..Envelope::new(
                        uuid::Uuid::new_v4().to_string(),
                        shop.clone(),
                        topic.as_str(),
                        "2026-10",
                        event.clone(),
                    )
                };
                let body = envelope.to_vec()?;
                Ok((envelope.message_id, topic.routing_key(), body))
            })
            .collect::<Result<_, serde_json::Error>>()?;
        bytes += bodies.iter().map(|b| b.2.len()).sum::<usize>();
        let confirms = futures_util::future::join_all(bodies.iter().map(|(id, key, body)| {
            publisher.publish(Outgoing {
                exchange: &exchange,
                routing_key: key,
                body,
                message_id: id,
                headers: Vec::new(),
            })
        }))
        .await;
        for confirm in confirms {
            confirm.context("publishing the backlog")?;
        }
    }
    Ok((bytes, started.elapsed()))
}

/// The raw single-row upsert rate: prepared once, autocommit, random keys.
async fn raw_upsert_rate(url: &str, seconds: u64) -> anyhow::Result<f64> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .context("raw connection")?;
    tokio::spawn(connection);
    client
        .batch_execute(
            "CREATE TABLE bench_upsert (id bigint PRIMARY KEY, name text NOT NULL, hits bigint NOT NULL);
             INSERT INTO bench_upsert SELECT g * 2, 'row ' || g, 1 FROM generate_series(0, 99999) g;
             ANALYZE bench_upsert;",
        )
        .await?;
    let statement = client
        .prepare(
            "INSERT INTO bench_upsert (id, name, hits) VALUES ($1, $2, 1)
             ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, hits = bench_upsert.hits + 1",
        )
        .await?;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut rows = 0_u64;
    while Instant::now() < deadline {
        let id = i64::try_from(rng.below(200_000)).unwrap_or(0);
        client.execute(&statement, &[&id, &"bench"]).await?;
        rows += 1;
    }
    let rate = rows as f64 / started.elapsed().as_secs_f64();
    client.batch_execute("DROP TABLE bench_upsert").await?;
    Ok(rate)
}

fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// CPU seconds (user + system) used so far by every process, by command name, for the
/// processes that share this machine's two cores in the run: the segmenter, PostgreSQL and
/// RabbitMQ (`beam.smp`).
fn cpu_by_process() -> std::collections::HashMap<(String, u32), f64> {
    let mut out = std::collections::HashMap::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return out;
    };
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let name = stat[open + 1..close].to_owned();
        if !matches!(name.as_str(), "postgres" | "beam.smp" | "segmenter") {
            continue;
        }
        let fields: Vec<&str> = stat[close + 2..].split(' ').collect();
        // utime and stime are fields 14 and 15 of stat, 12 and 13 after the command.
        let ticks: f64 = fields
            .get(11)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
            + fields
                .get(12)
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0);
        out.insert((name, pid), ticks / 100.0);
    }
    out
}

/// CPU seconds used between two snapshots, by command name.
fn cpu_delta(
    before: &std::collections::HashMap<(String, u32), f64>,
    after: &std::collections::HashMap<(String, u32), f64>,
) -> std::collections::BTreeMap<String, f64> {
    let mut out = std::collections::BTreeMap::new();
    for (key, used) in after {
        let delta = used - before.get(key).copied().unwrap_or(0.0);
        *out.entry(key.0.clone()).or_insert(0.0) += delta.max(0.0);
    }
    out
}

/// Sum of a metric's samples in a Prometheus text exposition.
fn metric_sum(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter(|line| line.starts_with(name) && line[name.len()..].starts_with(['{', ' ']))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .fold(0.0, |sum, value| sum + value)
}

/// `GET /metrics` over a plain HTTP/1.0 connection (the segmenter's own endpoint).
async fn metrics(port: u16) -> Option<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let fetch = async {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .ok()?;
        stream
            .write_all(b"GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            .await
            .ok()?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await.ok()?;
        let text = String::from_utf8(response).ok()?;
        let (head, body) = text.split_once("\r\n\r\n")?;
        (head.split(' ').nth(1) == Some("200")).then(|| body.to_owned())
    };
    tokio::time::timeout(Duration::from_secs(2), fetch)
        .await
        .ok()
        .flatten()
}

fn stop(child: &mut Child) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    for _ in 0..100 {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Deletes the benchmark's topology and database (unless `--keep`), and closes the broker.
async fn cleanup(broker: &Broker, prefix: &str, database_url: &str, keep: bool) {
    if keep {
        eprintln!(
            "bench: kept database {:?} and prefix {prefix:?}",
            database_name(database_url)
        );
    } else {
        if let Ok(channel) = broker.open_channel().await {
            let _ = audience_messaging::topology::delete(&channel, &Topology::new(prefix)).await;
        }
        if let Err(error) = migrate::drop_database(database_url).await {
            eprintln!("bench: cannot drop {database_url}: {error}");
        }
    }
    broker.close().await;
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = args()?;
    if !args.segmenter.exists() {
        bail!(
            "{} not found: build it first (cargo build --release -p audience-segmenter)",
            args.segmenter.display()
        );
    }
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let prefix = format!("bench-{tag}.");
    let database_url = format!("{PG_SERVER}/seg_bench_{tag}");
    migrate::migrate(&database_url)
        .await
        .context("creating the benchmark database")?;
    let sync_commit = {
        let (client, connection) =
            tokio_postgres::connect(&database_url, tokio_postgres::NoTls).await?;
        tokio::spawn(connection);
        client
            .query_one("SHOW synchronous_commit", &[])
            .await?
            .get::<_, String>(0)
    };

    eprintln!("bench: raw single-row upsert for {} s ...", args.seconds);
    let raw = match raw_upsert_rate(&database_url, args.seconds).await {
        Ok(raw) => raw,
        Err(error) => {
            let _ = migrate::drop_database(&database_url).await;
            return Err(error);
        }
    };

    eprintln!(
        "bench: generating {} events for {} customers ...",
        args.events, args.customers
    );
    let mut rng = Rng(0x1234_5678_9ABC_DEF1);
    let usd: CurrencyCode = "USD".parse()?;
    let (events, mix) = generate(args.events, args.customers, &mut rng, usd);
    let customers: HashSet<u64> = events.iter().map(|e| e.0).collect();
    let shops: Vec<String> = (0..args.shops)
        .map(|i| format!("bench-shop-{i}.myshopify.com"))
        .collect();
    let broker = Broker::start(BrokerSettings::new(
        AMQP_URL,
        prefix.clone(),
        "segmenter-bench",
    ));
    if !broker.wait_ready(Duration::from_secs(20)).await {
        bail!("RabbitMQ is not reachable at {AMQP_URL}");
    }
    eprintln!("bench: publishing the backlog ...");
    let (bytes, publish_time) = match publish_all(&broker, events, &shops).await {
        Ok(published) => published,
        Err(error) => {
            cleanup(&broker, &prefix, &database_url, args.keep).await;
            return Err(error);
        }
    };
    let event_count = args.events;

    let port = free_port()?;
    let cpu_before = cpu_by_process();
    eprintln!("bench: starting {} ...", args.segmenter.display());
    let mut child = Command::new(&args.segmenter)
        .arg("run")
        .env("DATABASE_URL", &database_url)
        .env("AMQP_URL", AMQP_URL)
        .env("AMQP_PREFIX", &prefix)
        .env("SEGMENTER_HTTP_BIND", format!("127.0.0.1:{port}"))
        .env(
            "RUST_LOG",
            std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .stdout(match &args.log {
            Some(path) => Stdio::from(std::fs::File::create(path).context("--log file")?),
            None => Stdio::null(),
        })
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting the segmenter")?;
    let spawned = Instant::now();
    let mut started = None;
    let pool = db::pool(&database_url, 2)?;
    let outcome = loop {
        if let Ok(Some(status)) = child.try_wait() {
            break Err(anyhow::anyhow!("the segmenter exited early: {status}"));
        }
        if spawned.elapsed() > Duration::from_secs(900) {
            break Err(anyhow::anyhow!("timed out"));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        let Some(text) = metrics(port).await else {
            continue;
        };
        let started_at = *started.get_or_insert_with(Instant::now);
        let handled = metric_sum(&text, "segmenter_messages_total");
        if handled as usize >= event_count {
            let mut conn = pool.get().await?;
            if db::outbox::pending(&mut conn).await? == 0 {
                let elapsed = started_at.elapsed();
                // Read the counters again: the relay may have published since `text`.
                break Ok((elapsed, metrics(port).await.unwrap_or(text)));
            }
        }
    };
    let peak = peak_rss_kib(child.id());
    let cpu = cpu_delta(&cpu_before, &cpu_by_process());
    stop(&mut child);
    drop(pool);
    cleanup(&broker, &prefix, &database_url, args.keep).await;
    let (elapsed, text) = outcome?;
    let dead = metric_sum(&text, "segmenter_messages_total{outcome=\"dead_lettered\"}");
    let retried = metric_sum(&text, "segmenter_messages_total{outcome=\"retried\"}");
    let batches = metric_sum(&text, "segmenter_batch_size_count");
    let published = metric_sum(&text, "segmenter_outbox_published_total");
    let rate = event_count as f64 / elapsed.as_secs_f64();

    println!("| measure | value |");
    println!("| --- | --- |");
    println!(
        "| events | {event_count} ({} customers over {} shops): customers/create {}, customers/update {}, orders/create {}, orders/paid {}, orders/updated {} (some cancellations), refunds/create {} |",
        customers.len(),
        args.shops,
        mix.customers_create,
        mix.customers_update,
        mix.orders_create,
        mix.orders_paid,
        mix.orders_updated,
        mix.refunds
    );
    println!(
        "| backlog published (not timed) | {:.1} MB in {:.1} s |",
        bytes as f64 / 1e6,
        publish_time.as_secs_f64()
    );
    println!(
        "| **segmenter: consume → commit → outbox published** | **{rate:.0} events/s** ({event_count} in {:.1} s; {batches:.0} batches) |",
        elapsed.as_secs_f64()
    );
    println!(
        "| outbox messages published to meta.dispatch (confirmed) | {published:.0} ({:.0}/s) |",
        published / elapsed.as_secs_f64()
    );
    println!("| dead-lettered / retried | {dead:.0} / {retried:.0} |");
    println!(
        "| segmenter peak memory (VmHWM) | {} |",
        peak.map_or("n/a".to_owned(), |kib| format!(
            "{:.1} MiB",
            kib as f64 / 1024.0
        ))
    );
    println!(
        "| raw single-row upsert, prepared, autocommit (same PostgreSQL, synchronous_commit={sync_commit}) | {raw:.0} rows/s |"
    );
    println!(
        "| segmenter events/s ÷ raw upserts/s | {:.1}× |",
        rate / raw
    );
    let cpu_of = |name: &str| cpu.get(name).copied().unwrap_or(0.0);
    println!(
        "| CPU during the segmenter run (2 cores = {:.0} core-s) | segmenter {:.1} s, PostgreSQL {:.1} s, RabbitMQ {:.1} s |",
        2.0 * elapsed.as_secs_f64(),
        cpu_of("segmenter"),
        cpu_of("postgres"),
        cpu_of("beam.smp")
    );
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        let load: Vec<&str> = load.split(' ').take(3).collect();
        println!(
            "| load average at the end (1, 5, 15 min) | {} |",
            load.join(", ")
        );
    }
    Ok(())
}
