//! Linewall: a data-loss-prevention policy engine for business messaging.
//!
//! A [`PolicySet`] is compiled once from YAML policies and then judges messages:
//! [`PolicySet::evaluate`] returns a [`Verdict`] (allow, redact or block, with the
//! delivered and archived copies) in microseconds and never fails.
//!
//! Stages are kept apart: [`policy`] parses and validates YAML into a model with source
//! locations, compiles it into an immutable set; [`detect`] holds the detectors;
//! [`normalize`] defeats evasion; [`eval`] judges a message and redacts it;
//! [`conversation`] joins values split across the messages of a conversation.

pub mod conversation;
pub mod detect;
pub mod eval;
pub mod message;
pub mod normalize;
pub mod plugin;
pub mod policy;
pub mod verdict;

pub use message::Message;
pub use verdict::Verdict;
