//! Built-in detectors: contact.

use crate::detect::BuiltinDetector;

/// The contact detectors.
pub const DETECTORS: &[BuiltinDetector] = &[];
