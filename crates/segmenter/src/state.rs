//! The in-memory working set of one batch: the shops, customers, orders, refunds and
//! tombstones the batch's messages touch, loaded in bulk, changed by the handlers one message
//! at a time, and written back in bulk in the same transaction.
//!
//! Every change goes through a method that records how to undo it, so that a message whose
//! handler fails half-way is rolled back to the state before it ([`WorkingSet::begin`] /
//! [`WorkingSet::rollback`]): the working-set equivalent of a savepoint per message. No
//! message is ever half-applied, and the others in the batch still commit.

use std::collections::{BTreeSet, HashMap, HashSet};

use audience_core::dispatch::{Audience, DispatchMessage};
use audience_core::events::UserData;
use audience_core::shopify::{Money, Topic};
use chrono::{DateTime, Utc};

use crate::classify::{ConsentPolicy, CustomerStats, Segment, SegmentRules};

/// A shop and its settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Shop {
    /// Internal id.
    pub id: i64,
    /// `*.myshopify.com`.
    pub domain: String,
    /// Shopify's shop id, once known.
    pub shopify_shop_id: Option<i64>,
    /// Shop currency, once known.
    pub currency: Option<String>,
    /// Segment thresholds.
    pub rules: SegmentRules,
    /// The order topic that emits the purchase.
    pub purchase_topic: Topic,
    /// Consent policy.
    pub consent: ConsentPolicy,
    /// Set while uninstalled.
    pub uninstalled_at: Option<DateTime<Utc>>,
    /// Set after `shop/redact`.
    pub redacted_at: Option<DateTime<Utc>>,
}

impl Shop {
    /// Whether messages triggered at `at` are for an installed shop. A message triggered after
    /// the uninstall (or redaction) can only come from a reinstalled app.
    pub fn active_at(&self, at: DateTime<Utc>) -> bool {
        let after = |mark: Option<DateTime<Utc>>| mark.is_none_or(|m| at > m);
        after(self.uninstalled_at) && after(self.redacted_at)
    }

    /// Whether the shop is inactive now (uninstalled or redacted).
    pub fn inactive(&self) -> bool {
        self.uninstalled_at.is_some() || self.redacted_at.is_some()
    }
}

/// A customer's state: hashed keys, consent, derived statistics, segment and audiences.
#[derive(Debug, Clone, PartialEq)]
pub struct Customer {
    /// Shopify customer id.
    pub customer_id: i64,
    /// Hashed match keys (no invalid-field reports).
    pub user: UserData,
    /// Email marketing consent as last said.
    pub email_consent: Option<bool>,
    /// SMS marketing consent as last said.
    pub sms_consent: Option<bool>,
    /// Shopify `updated_at` of the newest customer record applied.
    pub record_updated_at: Option<DateTime<Utc>>,
    /// Counted orders, spend, first and last order.
    pub stats: CustomerStats,
    /// The segment (`None` until first classified).
    pub segment: Option<Segment>,
    /// Since when.
    pub segment_since: DateTime<Utc>,
    /// Audiences joined (as dispatched).
    pub audiences: BTreeSet<Audience>,
    /// First seen.
    pub first_seen_at: DateTime<Utc>,
}

impl Customer {
    /// A customer seen for the first time.
    pub fn new(customer_id: i64, now: DateTime<Utc>) -> Customer {
        Customer {
            customer_id,
            user: UserData::default(),
            email_consent: None,
            sms_consent: None,
            record_updated_at: None,
            stats: CustomerStats::default(),
            segment: None,
            segment_since: now,
            audiences: BTreeSet::new(),
            first_seen_at: now,
        }
    }
}

/// An order, as the rules and the purchase trigger need it.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    /// Shopify order id.
    pub order_id: i64,
    /// Customer (`None` for guests).
    pub customer_id: Option<i64>,
    /// Test order.
    pub test: bool,
    /// Cancellation time.
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Financial status.
    pub financial_status: Option<String>,
    /// Sales channel.
    pub source_name: Option<String>,
    /// Shop currency.
    pub currency: String,
    /// Total in the shop currency.
    pub total_price: Money,
    /// Buyer's currency.
    pub presentment_currency: Option<String>,
    /// Total in the buyer's currency.
    pub presentment_total_price: Option<Money>,
    /// `processed_at`, else `created_at`.
    pub ordered_at: DateTime<Utc>,
    /// Shopify `updated_at` of the newest payload applied.
    pub record_updated_at: Option<DateTime<Utc>>,
    /// When the purchase was emitted.
    pub purchase_emitted_at: Option<DateTime<Utc>>,
    /// First seen.
    pub first_seen_at: DateTime<Utc>,
}

impl Order {
    /// Non-test and not cancelled.
    pub fn counted(&self) -> bool {
        !self.test && self.cancelled_at.is_none()
    }
}

/// A refund.
#[derive(Debug, Clone, PartialEq)]
pub struct Refund {
    /// Shopify refund id.
    pub refund_id: i64,
    /// The refunded order.
    pub order_id: i64,
    /// Successful refund transactions in `currency`.
    pub amount: Money,
    /// Their currency.
    pub currency: Option<String>,
    /// The same in the shop currency, when the payload allowed converting it.
    pub shop_amount: Option<Money>,
    /// When it was refunded.
    pub refunded_at: Option<DateTime<Utc>>,
}

/// A change of segment, for `segment_transitions`.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    /// Shop.
    pub shop_id: i64,
    /// Customer.
    pub customer_id: i64,
    /// Previous segment.
    pub from: Option<Segment>,
    /// New segment.
    pub to: Segment,
    /// Topic or `sweep`.
    pub cause: String,
    /// Causing message.
    pub message_id: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

/// A message for the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxMessage {
    /// Shop.
    pub shop_id: i64,
    /// The customer concerned.
    pub customer_id: Option<i64>,
    /// The message.
    pub message: DispatchMessage,
}

/// What a tombstone covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subject {
    /// A customer id.
    Customer,
    /// An order id.
    Order,
}

impl Subject {
    /// The name in `tombstones.subject`.
    pub fn as_str(self) -> &'static str {
        match self {
            Subject::Customer => "customer",
            Subject::Order => "order",
        }
    }

    /// The subject stored as `s`.
    pub fn parse(s: &str) -> Option<Subject> {
        match s {
            "customer" => Some(Subject::Customer),
            "order" => Some(Subject::Order),
            _ => None,
        }
    }
}

/// Key of a customer or order: (shop id, Shopify id).
pub type Key = (i64, i64);

enum Undo {
    Shop(i64, Shop, bool),
    Customer(Key, Option<Customer>, bool),
    Order(Key, Option<Order>, bool),
    Refund(Key),
    Outbox(usize),
    Transitions(usize),
}

/// The working set of one batch (see the module documentation).
#[derive(Default)]
pub struct WorkingSet {
    shops: HashMap<i64, Shop>,
    customers: HashMap<Key, Customer>,
    orders: HashMap<Key, Order>,
    refunds: HashMap<Key, Refund>,
    tombstones: HashSet<(i64, Subject, i64)>,
    outbox: Vec<OutboxMessage>,
    transitions: Vec<Transition>,
    dirty_shops: HashSet<i64>,
    dirty_customers: HashSet<Key>,
    dirty_orders: HashSet<Key>,
    new_refunds: Vec<Key>,
    undo: Vec<Undo>,
}

impl WorkingSet {
    /// An empty working set.
    pub fn new() -> WorkingSet {
        WorkingSet::default()
    }

    // ----- loading (no undo: this is the state before the batch) -----

    /// Adds a loaded shop.
    pub fn load_shop(&mut self, shop: Shop) {
        self.shops.insert(shop.id, shop);
    }

    /// Adds a loaded customer.
    pub fn load_customer(&mut self, shop_id: i64, customer: Customer) {
        self.customers
            .insert((shop_id, customer.customer_id), customer);
    }

    /// Adds a loaded order.
    pub fn load_order(&mut self, shop_id: i64, order: Order) {
        self.orders.insert((shop_id, order.order_id), order);
    }

    /// Adds a loaded refund.
    pub fn load_refund(&mut self, shop_id: i64, refund: Refund) {
        self.refunds.insert((shop_id, refund.refund_id), refund);
    }

    /// Adds a loaded tombstone.
    pub fn load_tombstone(&mut self, shop_id: i64, subject: Subject, id: i64) {
        self.tombstones.insert((shop_id, subject, id));
    }

    // ----- per-message transactions -----

    /// Starts a message: later changes can be undone with [`WorkingSet::rollback`].
    pub fn begin(&mut self) {
        self.undo.clear();
    }

    /// Undoes every change since [`WorkingSet::begin`].
    pub fn rollback(&mut self) {
        while let Some(step) = self.undo.pop() {
            match step {
                Undo::Shop(id, shop, dirty) => {
                    self.shops.insert(id, shop);
                    set_flag(&mut self.dirty_shops, id, dirty);
                }
                Undo::Customer(key, previous, dirty) => {
                    match previous {
                        Some(customer) => self.customers.insert(key, customer),
                        None => self.customers.remove(&key),
                    };
                    set_flag(&mut self.dirty_customers, key, dirty);
                }
                Undo::Order(key, previous, dirty) => {
                    match previous {
                        Some(order) => self.orders.insert(key, order),
                        None => self.orders.remove(&key),
                    };
                    set_flag(&mut self.dirty_orders, key, dirty);
                }
                Undo::Refund(key) => {
                    self.refunds.remove(&key);
                    if let Some(position) = self.new_refunds.iter().rposition(|k| *k == key) {
                        self.new_refunds.remove(position);
                    }
                }
                Undo::Outbox(len) => self.outbox.truncate(len),
                Undo::Transitions(len) => self.transitions.truncate(len),
            }
        }
    }

    // ----- reads -----

    /// A shop.
    pub fn shop(&self, id: i64) -> Option<&Shop> {
        self.shops.get(&id)
    }

    /// A customer.
    pub fn customer(&self, key: Key) -> Option<&Customer> {
        self.customers.get(&key)
    }

    /// An order.
    pub fn order(&self, key: Key) -> Option<&Order> {
        self.orders.get(&key)
    }

    /// A refund.
    pub fn refund(&self, key: Key) -> Option<&Refund> {
        self.refunds.get(&key)
    }

    /// Whether a tombstone covers the id.
    pub fn tombstoned(&self, shop_id: i64, subject: Subject, id: i64) -> bool {
        self.tombstones.contains(&(shop_id, subject, id))
    }

    /// The orders of a customer.
    pub fn orders_of(&self, shop_id: i64, customer_id: i64) -> impl Iterator<Item = &Order> {
        self.orders
            .iter()
            .filter(move |((shop, _), order)| {
                *shop == shop_id && order.customer_id == Some(customer_id)
            })
            .map(|(_, order)| order)
    }

    /// The refunds of an order.
    pub fn refunds_of(&self, shop_id: i64, order_id: i64) -> impl Iterator<Item = &Refund> {
        self.refunds
            .iter()
            .filter(move |((shop, _), refund)| *shop == shop_id && refund.order_id == order_id)
            .map(|(_, refund)| refund)
    }

    // ----- writes (recorded for undo) -----

    /// Replaces a shop.
    pub fn put_shop(&mut self, shop: Shop) {
        let id = shop.id;
        if let Some(previous) = self.shops.insert(id, shop) {
            let was_dirty = !self.dirty_shops.insert(id);
            self.undo.push(Undo::Shop(id, previous, was_dirty));
        }
    }

    /// Inserts or replaces a customer.
    pub fn put_customer(&mut self, shop_id: i64, customer: Customer) {
        let key = (shop_id, customer.customer_id);
        let previous = self.customers.insert(key, customer);
        let was_dirty = !self.dirty_customers.insert(key);
        self.undo.push(Undo::Customer(key, previous, was_dirty));
    }

    /// Inserts or replaces an order.
    pub fn put_order(&mut self, shop_id: i64, order: Order) {
        let key = (shop_id, order.order_id);
        let previous = self.orders.insert(key, order);
        let was_dirty = !self.dirty_orders.insert(key);
        self.undo.push(Undo::Order(key, previous, was_dirty));
    }

    /// Records a new refund; `false` (and nothing changes) if its id is known already.
    pub fn add_refund(&mut self, shop_id: i64, refund: Refund) -> bool {
        let key = (shop_id, refund.refund_id);
        if self.refunds.contains_key(&key) {
            return false;
        }
        self.refunds.insert(key, refund);
        self.new_refunds.push(key);
        self.undo.push(Undo::Refund(key));
        true
    }

    /// Queues a message for the outbox.
    pub fn push_outbox(&mut self, message: OutboxMessage) {
        self.undo.push(Undo::Outbox(self.outbox.len()));
        self.outbox.push(message);
    }

    /// Records a segment transition.
    pub fn push_transition(&mut self, transition: Transition) {
        self.undo.push(Undo::Transitions(self.transitions.len()));
        self.transitions.push(transition);
    }

    // ----- results -----

    /// The shops to write back.
    pub fn dirty_shops(&self) -> impl Iterator<Item = &Shop> {
        self.dirty_shops.iter().filter_map(|id| self.shops.get(id))
    }

    /// The customers to write back.
    pub fn dirty_customers(&self) -> impl Iterator<Item = (i64, &Customer)> {
        self.dirty_customers
            .iter()
            .filter_map(|key| self.customers.get(key).map(|c| (key.0, c)))
    }

    /// The orders to write back.
    pub fn dirty_orders(&self) -> impl Iterator<Item = (i64, &Order)> {
        self.dirty_orders
            .iter()
            .filter_map(|key| self.orders.get(key).map(|o| (key.0, o)))
    }

    /// The refunds to insert.
    pub fn new_refunds(&self) -> impl Iterator<Item = (i64, &Refund)> {
        self.new_refunds
            .iter()
            .filter_map(|key| self.refunds.get(key).map(|r| (key.0, r)))
    }

    /// The outbox messages, in order.
    pub fn outbox(&self) -> &[OutboxMessage] {
        &self.outbox
    }

    /// The transitions, in order.
    pub fn transitions(&self) -> &[Transition] {
        &self.transitions
    }
}

fn set_flag<K: std::hash::Hash + Eq>(set: &mut HashSet<K>, key: K, on: bool) {
    if on {
        set.insert(key);
    } else {
        set.remove(&key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default()
    }

    #[test]
    fn rollback_restores_everything_since_begin() {
        let mut ws = WorkingSet::new();
        ws.load_customer(1, Customer::new(10, at()));
        ws.begin();
        let mut changed = Customer::new(10, at());
        changed.email_consent = Some(true);
        ws.put_customer(1, changed.clone());
        ws.begin();
        ws.put_customer(1, Customer::new(11, at()));
        let mut again = changed.clone();
        again.sms_consent = Some(false);
        ws.put_customer(1, again);
        ws.push_transition(Transition {
            shop_id: 1,
            customer_id: 11,
            from: None,
            to: Segment::Prospect,
            cause: "customers/create".into(),
            message_id: None,
            at: at(),
        });
        ws.add_refund(
            1,
            Refund {
                refund_id: 5,
                order_id: 6,
                amount: Money::ZERO,
                currency: None,
                shop_amount: None,
                refunded_at: None,
            },
        );
        ws.rollback();
        assert_eq!(
            ws.customer((1, 10)),
            Some(&changed),
            "the first message's change survives"
        );
        assert!(ws.customer((1, 11)).is_none());
        assert!(ws.transitions().is_empty());
        assert!(ws.refund((1, 5)).is_none());
        assert_eq!(ws.new_refunds().count(), 0);
        assert_eq!(ws.dirty_customers().count(), 1);
    }
}
