DROP TABLE tombstones;
DROP TABLE refunds;
DROP TABLE orders;
DROP TABLE customers;
