//! Evaluation of one message against a compiled policy set.
