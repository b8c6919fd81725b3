//! Integration tests of auditrum-diesel against a real PostgreSQL: every test gets its own
//! database (so they run in parallel) and asserts on the rows the triggers wrote.

mod bulk;
mod capture;
mod condition;
mod connection;
mod context;
mod failure;
mod install;
mod keys;
mod partitions;
mod protect;
