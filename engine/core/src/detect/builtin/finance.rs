//! Built-in detectors: finance.

use crate::detect::BuiltinDetector;

/// The finance detectors.
pub const DETECTORS: &[BuiltinDetector] = &[];
