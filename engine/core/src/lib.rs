//! Linewall: a data-loss-prevention policy engine for business messaging.
//!
//! A [`PolicySet`] is compiled once from YAML policies and then judges messages:
//! [`PolicySet::evaluate`] returns a [`Verdict`] (allow, redact or block, with the
//! delivered and archived copies) in microseconds and never fails.
//!
//! Stages are kept apart, arrows one way: [`policy`] parses and validates YAML into a
//! model with source locations and compiles it into an immutable set that holds no
//! document, source or option; [`load`] runs those stages and checks the detectors'
//! examples, keeping the documents in a [`LoadedSet`] for tooling; [`detect`] holds
//! the detectors and the per-field context they share; [`normalize`] defeats evasion;
//! [`eval`] judges a message against a compiled set (scan, decide, redact, render);
//! [`testing`] runs policies' tests and detectors' examples through evaluation;
//! [`replay`] compares two sets over the same messages;
//! [`conversation`] joins values split across the messages of a conversation.

pub mod conversation;
pub mod detect;
pub mod eval;
pub mod load;
pub mod message;
pub mod normalize;
pub mod plugin;
pub mod policy;
pub mod replay;
pub mod testing;
pub mod verdict;

pub use load::LoadedSet;
pub use message::Message;
pub use verdict::Verdict;
