//! `audiencectl segments --shop <domain> [--json]`: each customer of a shop with their lifecycle
//! segment, counted orders, counted spend and last counted order time, then the number of
//! customers per segment. It reads the segmenter's database (`DATABASE_URL`) through the
//! segmenter's own queries, so it shows exactly what the segmenter holds.
//!
//! Text output is a table; `--json` prints one JSON array of objects with the keys
//! `customer_id` (number), `segment`, `orders` (number), `spent` (a decimal string in the shop
//! currency, exact) and `last_order_at` (RFC 3339, or `null`).

use std::io::{self, Write};
use std::process::ExitCode;

use audience_segmenter::classify::Segment;
use audience_segmenter::config::DEFAULT_DATABASE_URL;
use audience_segmenter::db::report::{SegmentLine, segments_report};
use chrono::SecondsFormat;
use serde::Serialize;

/// Exit status when the shop is not in the database.
pub const EXIT_UNKNOWN_SHOP: u8 = 1;
/// Exit status when the database cannot be read or the output cannot be written.
pub const EXIT_FAILURE: u8 = 2;

/// `--help` text on the exit status.
pub const EXIT_STATUS: &str = "\
Exit status:
  0  the shop's customers were listed (possibly none)
  1  the shop is not in the database
  2  the database could not be read, or the output could not be written";

/// The arguments of `audiencectl segments`.
#[derive(Debug, Clone, clap::Args)]
pub struct SegmentsArgs {
    /// The shop's *.myshopify.com domain.
    #[arg(long)]
    pub shop: String,
    /// Print one JSON array instead of a table.
    #[arg(long)]
    pub json: bool,
    /// The segmenter's database.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, hide_env_values = true)]
    pub database_url: String,
}

/// One customer in the JSON output.
#[derive(Debug, Serialize, PartialEq)]
pub struct CustomerLine {
    /// Shopify customer id.
    pub customer_id: i64,
    /// Lifecycle segment.
    pub segment: String,
    /// Counted orders.
    pub orders: i32,
    /// Counted spend, a decimal string in the shop currency.
    pub spent: String,
    /// The last counted order's time (RFC 3339), if any.
    pub last_order_at: Option<String>,
}

impl From<&SegmentLine> for CustomerLine {
    fn from(line: &SegmentLine) -> Self {
        CustomerLine {
            customer_id: line.customer_id,
            segment: line.segment.clone(),
            orders: line.orders,
            spent: line.spent.0.to_string(),
            last_order_at: line
                .last_order_at
                .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true)),
        }
    }
}

/// Runs the subcommand and returns the exit status.
pub fn execute(args: &SegmentsArgs) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => return fail(&format!("cannot start: {e}")),
    };
    let lines = match runtime.block_on(segments_report(&args.database_url, &args.shop)) {
        Ok(Some(lines)) => lines,
        Ok(None) => {
            let _ = writeln!(
                io::stderr(),
                "audiencectl segments: shop {:?} is not in the database",
                args.shop
            );
            return ExitCode::from(EXIT_UNKNOWN_SHOP);
        }
        Err(e) => return fail(&error_chain(&e)),
    };
    let mut out = io::BufWriter::new(io::stdout().lock());
    let written = if args.json {
        write_json(&lines, &mut out)
    } else {
        write_table(&lines, &mut out)
    };
    match written.and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e.to_string()),
    }
}

fn fail(message: &str) -> ExitCode {
    let _ = writeln!(io::stderr(), "audiencectl segments: {message}");
    ExitCode::from(EXIT_FAILURE)
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// One JSON array of customer objects.
pub fn write_json(lines: &[SegmentLine], out: &mut impl Write) -> io::Result<()> {
    let customers: Vec<CustomerLine> = lines.iter().map(CustomerLine::from).collect();
    serde_json::to_writer(&mut *out, &customers)?;
    writeln!(out)
}

/// A table of customers, then the count per segment.
pub fn write_table(lines: &[SegmentLine], out: &mut impl Write) -> io::Result<()> {
    writeln!(
        out,
        "{:<20}  {:<10}  {:>6}  {:>14}  last_order_at",
        "customer_id", "segment", "orders", "spent"
    )?;
    for line in lines.iter().map(CustomerLine::from) {
        writeln!(
            out,
            "{:<20}  {:<10}  {:>6}  {:>14}  {}",
            line.customer_id,
            line.segment,
            line.orders,
            line.spent,
            line.last_order_at.as_deref().unwrap_or("-")
        )?;
    }
    writeln!(out)?;
    writeln!(out, "{:<10}  {:>9}", "segment", "customers")?;
    for (segment, count) in count_per_segment(lines) {
        writeln!(out, "{segment:<10}  {count:>9}")?;
    }
    writeln!(out, "{:<10}  {:>9}", "total", lines.len())
}

/// The number of customers in each segment, every segment listed (rule order, last first).
pub fn count_per_segment(lines: &[SegmentLine]) -> Vec<(&'static str, usize)> {
    Segment::ALL
        .iter()
        .map(|segment| {
            (
                segment.as_str(),
                lines
                    .iter()
                    .filter(|l| l.segment == segment.as_str())
                    .count(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use audience_segmenter::db::numeric::Amount;
    use chrono::{TimeZone as _, Utc};

    fn lines() -> Vec<SegmentLine> {
        vec![
            SegmentLine {
                customer_id: 706405506930370084,
                segment: "vip".into(),
                orders: 3,
                spent: Amount("1234.50".parse().unwrap()),
                last_order_at: Some(Utc.with_ymd_and_hms(2026, 11, 2, 10, 0, 0).unwrap()),
            },
            SegmentLine {
                customer_id: 2,
                segment: "prospect".into(),
                orders: 0,
                spent: Amount("0".parse().unwrap()),
                last_order_at: None,
            },
        ]
    }

    #[test]
    fn json_is_one_array_with_the_documented_keys() {
        let mut out = Vec::new();
        write_json(&lines(), &mut out).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            value,
            serde_json::json!([
                {"customer_id": 706405506930370084_i64, "segment": "vip", "orders": 3, "spent": "1234.50",
                 "last_order_at": "2026-11-02T10:00:00Z"},
                {"customer_id": 2, "segment": "prospect", "orders": 0, "spent": "0", "last_order_at": null},
            ])
        );
    }

    #[test]
    fn the_table_lists_customers_then_counts_every_segment() {
        let mut out = Vec::new();
        write_table(&lines(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let first = text.lines().nth(1).unwrap();
        assert!(
            first.starts_with("706405506930370084 ") && first.contains(" vip "),
            "{text}"
        );
        assert!(text.contains("1234.50  2026-11-02T10:00:00Z"), "{text}");
        for (segment, count) in [
            ("prospect", 1),
            ("first_time", 0),
            ("repeat", 0),
            ("vip", 1),
            ("lapsed", 0),
            ("total", 2),
        ] {
            assert!(
                text.contains(&format!("{segment:<10}  {count:>9}")),
                "{segment}: {text}"
            );
        }
    }
}
