//! The segment rules, as pure functions (`shared/guide/architecture.md`, "Segments"; the
//! contract). No I/O: the batch engine feeds them what the database holds.
//!
//! One lifecycle segment per customer; the first rule that matches wins:
//! 1. `lapsed`: at least one counted order, and the last one older than `lapsed_after_days`;
//! 2. `vip`: counted spend ≥ `vip_min_spent`;
//! 3. `repeat`: two or more counted orders;
//! 4. `first_time`: exactly one counted order;
//! 5. `prospect`: no counted order.
//!
//! A counted order is a non-test, non-cancelled order. Its spend is its `total_price` minus its
//! successful refunds (never below zero), in the shop currency; its time is `processed_at`,
//! else `created_at`. Besides its segment's audience, a customer is in `all_customers`, and in
//! `purchasers` once they have a counted order, unless the shop's consent policy keeps them out
//! of every audience.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use audience_core::dispatch::Audience;
use audience_core::shopify::Money;
use chrono::{DateTime, TimeDelta, Utc};

/// A customer's lifecycle segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Segment {
    /// No counted order.
    Prospect,
    /// Exactly one counted order.
    FirstTime,
    /// Two or more counted orders.
    Repeat,
    /// Counted spend at or above the shop's threshold.
    Vip,
    /// The last counted order is older than the shop's window.
    Lapsed,
}

impl Segment {
    /// Every segment, in rule order from the last rule to the first.
    pub const ALL: [Segment; 5] = [
        Segment::Prospect,
        Segment::FirstTime,
        Segment::Repeat,
        Segment::Vip,
        Segment::Lapsed,
    ];

    /// The name stored in the database and shown by `audiencectl segments`.
    pub fn as_str(self) -> &'static str {
        match self {
            Segment::Prospect => "prospect",
            Segment::FirstTime => "first_time",
            Segment::Repeat => "repeat",
            Segment::Vip => "vip",
            Segment::Lapsed => "lapsed",
        }
    }

    /// The segment's Meta audience.
    pub fn audience(self) -> Audience {
        match self {
            Segment::Prospect => Audience::Prospect,
            Segment::FirstTime => Audience::FirstTime,
            Segment::Repeat => Audience::Repeat,
            Segment::Vip => Audience::Vip,
            Segment::Lapsed => Audience::Lapsed,
        }
    }
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that names no segment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown segment {0:?}")]
pub struct UnknownSegment(pub String);

impl FromStr for Segment {
    type Err = UnknownSegment;

    fn from_str(s: &str) -> Result<Segment, UnknownSegment> {
        Segment::ALL
            .into_iter()
            .find(|seg| seg.as_str() == s)
            .ok_or_else(|| UnknownSegment(s.to_owned()))
    }
}

/// A shop's thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentRules {
    /// `vip` from this counted spend on (shop currency).
    pub vip_min_spent: Money,
    /// `lapsed` once the last counted order is older than this many days.
    pub lapsed_after_days: u32,
}

impl Default for SegmentRules {
    /// The defaults of the architecture guide: 1000.00 and 180 days.
    fn default() -> Self {
        SegmentRules {
            vip_min_spent: Money::from_units(100_000, 2).unwrap_or(Money::ZERO),
            lapsed_after_days: 180,
        }
    }
}

impl SegmentRules {
    /// The instant before which a last order makes a customer `lapsed`.
    pub fn lapsed_before(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - TimeDelta::days(i64::from(self.lapsed_after_days))
    }
}

/// What the rules need to know about one order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderFacts {
    /// Non-test and not cancelled.
    pub counted: bool,
    /// Total minus successful refunds, never below zero (shop currency).
    pub spend: Money,
    /// `processed_at`, else `created_at`.
    pub at: DateTime<Utc>,
}

/// A customer's counted orders, summed up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CustomerStats {
    /// Counted orders.
    pub orders: u32,
    /// Their spend (shop currency).
    pub spent: Money,
    /// The earliest counted order's time.
    pub first_order_at: Option<DateTime<Utc>>,
    /// The latest counted order's time.
    pub last_order_at: Option<DateTime<Utc>>,
}

impl Default for CustomerStats {
    fn default() -> Self {
        CustomerStats {
            orders: 0,
            spent: Money::ZERO,
            first_order_at: None,
            last_order_at: None,
        }
    }
}

/// Sums up the counted orders among `orders`; `None` if the spend overflows.
pub fn customer_stats(orders: impl IntoIterator<Item = OrderFacts>) -> Option<CustomerStats> {
    let mut stats = CustomerStats::default();
    for order in orders.into_iter().filter(|o| o.counted) {
        stats.orders = stats.orders.saturating_add(1);
        stats.spent = stats.spent.checked_add(order.spend)?;
        stats.first_order_at = Some(stats.first_order_at.map_or(order.at, |t| t.min(order.at)));
        stats.last_order_at = Some(stats.last_order_at.map_or(order.at, |t| t.max(order.at)));
    }
    Some(stats)
}

/// An order's spend: `total` minus `refunded`, never below zero; `None` on overflow.
pub fn order_spend(total: Money, refunded: Money) -> Option<Money> {
    let negated = Money::from_units(refunded.units().checked_neg()?, refunded.scale())?;
    let net = total.checked_add(negated)?;
    Some(if net.is_negative() {
        Money::from_units(0, net.scale())?
    } else {
        net
    })
}

/// The segment for `stats` under `rules` at `now` (the first matching rule wins).
pub fn classify(stats: &CustomerStats, rules: &SegmentRules, now: DateTime<Utc>) -> Segment {
    if stats.orders >= 1
        && stats
            .last_order_at
            .is_some_and(|last| last < rules.lapsed_before(now))
    {
        Segment::Lapsed
    } else if stats.spent >= rules.vip_min_spent {
        Segment::Vip
    } else if stats.orders >= 2 {
        Segment::Repeat
    } else if stats.orders == 1 {
        Segment::FirstTime
    } else {
        Segment::Prospect
    }
}

/// A shop's consent policy for audiences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConsentPolicy {
    /// Every customer may be in the audiences (the default).
    #[default]
    All,
    /// Customers whose payload says they declined marketing stay out of every audience.
    MarketingOnly,
}

impl ConsentPolicy {
    /// The name stored in `shops.consent_policy`.
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentPolicy::All => "all",
            ConsentPolicy::MarketingOnly => "marketing_only",
        }
    }

    /// The policy stored as `s`, if any.
    pub fn parse(s: &str) -> Option<ConsentPolicy> {
        match s {
            "all" => Some(ConsentPolicy::All),
            "marketing_only" => Some(ConsentPolicy::MarketingOnly),
            _ => None,
        }
    }

    /// Whether a customer with these consents may be in audiences. Under `marketing_only` a
    /// customer is kept out when no channel is consented and at least one is declined (older
    /// payloads only say `accepts_marketing`, which is the email channel); a customer whose
    /// payloads never said anything is not kept out.
    pub fn allows(self, email: Option<bool>, sms: Option<bool>) -> bool {
        match self {
            ConsentPolicy::All => true,
            ConsentPolicy::MarketingOnly => {
                let declined = email == Some(false) || sms == Some(false);
                let consented = email == Some(true) || sms == Some(true);
                consented || !declined
            }
        }
    }
}

/// The audiences a customer belongs in: none when consent keeps them out; else
/// `all_customers`, their segment's audience, and `purchasers` with a counted order.
pub fn audiences_for(segment: Segment, stats: &CustomerStats, allowed: bool) -> BTreeSet<Audience> {
    let mut set = BTreeSet::new();
    if !allowed {
        return set;
    }
    set.insert(Audience::AllCustomers);
    set.insert(segment.audience());
    if stats.orders >= 1 {
        set.insert(Audience::Purchasers);
    }
    set
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;

    fn m(s: &str) -> Money {
        s.parse().unwrap()
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 5, 12, 0, 0).unwrap()
    }

    fn stats(orders: u32, spent: &str, last_days_ago: i64) -> CustomerStats {
        let last = (orders > 0).then(|| now() - TimeDelta::days(last_days_ago));
        CustomerStats {
            orders,
            spent: m(spent),
            first_order_at: last,
            last_order_at: last,
        }
    }

    fn rules() -> SegmentRules {
        SegmentRules::default()
    }

    #[test]
    fn order_counts_zero_one_two_give_prospect_first_time_repeat() {
        assert_eq!(
            classify(&stats(0, "0", 0), &rules(), now()),
            Segment::Prospect
        );
        assert_eq!(
            classify(&stats(1, "10", 1), &rules(), now()),
            Segment::FirstTime
        );
        assert_eq!(
            classify(&stats(2, "20", 1), &rules(), now()),
            Segment::Repeat
        );
        assert_eq!(
            classify(&stats(3, "30", 1), &rules(), now()),
            Segment::Repeat
        );
    }

    #[test]
    fn vip_starts_exactly_at_the_threshold() {
        assert_eq!(
            classify(&stats(1, "999.99", 1), &rules(), now()),
            Segment::FirstTime
        );
        assert_eq!(
            classify(&stats(1, "1000.00", 1), &rules(), now()),
            Segment::Vip
        );
        assert_eq!(
            classify(&stats(1, "1000", 1), &rules(), now()),
            Segment::Vip
        );
        assert_eq!(
            classify(&stats(2, "999.999", 1), &rules(), now()),
            Segment::Repeat
        );
        assert_eq!(
            classify(&stats(2, "1000.001", 1), &rules(), now()),
            Segment::Vip
        );
    }

    #[test]
    fn lapsed_starts_just_after_the_window_and_beats_vip() {
        let window = rules().lapsed_before(now());
        let mut inside = stats(1, "5000", 0);
        inside.last_order_at = Some(window);
        assert_eq!(
            classify(&inside, &rules(), now()),
            Segment::Vip,
            "exactly at the window is not older"
        );
        inside.last_order_at = Some(window + TimeDelta::seconds(1));
        assert_eq!(classify(&inside, &rules(), now()), Segment::Vip);
        let mut outside = inside;
        outside.last_order_at = Some(window - TimeDelta::seconds(1));
        assert_eq!(classify(&outside, &rules(), now()), Segment::Lapsed);
        assert_eq!(
            classify(&stats(1, "1", 180), &rules(), now()),
            Segment::FirstTime
        );
        assert_eq!(
            classify(&stats(2, "1", 181), &rules(), now()),
            Segment::Lapsed
        );
    }

    #[test]
    fn a_prospect_never_lapses() {
        let mut prospect = stats(0, "0", 0);
        prospect.last_order_at = Some(now() - TimeDelta::days(1000));
        assert_eq!(classify(&prospect, &rules(), now()), Segment::Prospect);
    }

    #[test]
    fn thresholds_are_per_shop() {
        let strict = SegmentRules {
            vip_min_spent: m("50"),
            lapsed_after_days: 30,
        };
        assert_eq!(classify(&stats(1, "50", 29), &strict, now()), Segment::Vip);
        assert_eq!(
            classify(&stats(1, "49.99", 29), &strict, now()),
            Segment::FirstTime
        );
        assert_eq!(
            classify(&stats(1, "49.99", 31), &strict, now()),
            Segment::Lapsed
        );
    }

    #[test]
    fn only_counted_orders_add_up() {
        let at = now() - TimeDelta::days(3);
        let later = now() - TimeDelta::days(1);
        let s = customer_stats([
            OrderFacts {
                counted: true,
                spend: m("10.50"),
                at,
            },
            OrderFacts {
                counted: false,
                spend: m("5000"),
                at: now(),
            },
            OrderFacts {
                counted: true,
                spend: m("0.005"),
                at: later,
            },
        ])
        .unwrap();
        assert_eq!(s.orders, 2);
        assert_eq!(s.spent, m("10.505"));
        assert_eq!(s.first_order_at, Some(at));
        assert_eq!(s.last_order_at, Some(later));
        assert_eq!(customer_stats([]).unwrap(), CustomerStats::default());
    }

    #[test]
    fn spend_is_net_of_refunds_and_never_negative() {
        assert_eq!(order_spend(m("100.00"), m("25.50")), Some(m("74.50")));
        assert_eq!(order_spend(m("100.00"), m("100")), Some(m("0")));
        assert_eq!(order_spend(m("100.00"), m("150.00")), Some(m("0")));
        assert_eq!(order_spend(m("20"), m("0")), Some(m("20")));
    }

    #[test]
    fn audiences_follow_the_segment_purchases_and_consent() {
        let first = stats(1, "10", 1);
        let set = audiences_for(Segment::FirstTime, &first, true);
        assert_eq!(
            set.into_iter().collect::<Vec<_>>(),
            [
                Audience::AllCustomers,
                Audience::Purchasers,
                Audience::FirstTime
            ]
        );
        let none = stats(0, "0", 0);
        let set = audiences_for(Segment::Prospect, &none, true);
        assert_eq!(
            set.into_iter().collect::<Vec<_>>(),
            [Audience::AllCustomers, Audience::Prospect]
        );
        assert!(audiences_for(Segment::Vip, &first, false).is_empty());
    }

    #[test]
    fn marketing_only_keeps_out_customers_who_declined_every_channel() {
        let policy = ConsentPolicy::MarketingOnly;
        assert!(policy.allows(None, None));
        assert!(policy.allows(Some(true), None));
        assert!(policy.allows(Some(false), Some(true)));
        assert!(!policy.allows(Some(false), None));
        assert!(!policy.allows(Some(false), Some(false)));
        assert!(!policy.allows(None, Some(false)));
        assert!(ConsentPolicy::All.allows(Some(false), Some(false)));
        assert_eq!(ConsentPolicy::parse("marketing_only"), Some(policy));
        assert_eq!(ConsentPolicy::parse("none"), None);
    }

    #[test]
    fn segment_names_round_trip() {
        for segment in Segment::ALL {
            assert_eq!(segment.as_str().parse::<Segment>(), Ok(segment));
            assert_eq!(segment.audience().as_str(), segment.as_str());
        }
        assert!("new".parse::<Segment>().is_err());
    }
}
