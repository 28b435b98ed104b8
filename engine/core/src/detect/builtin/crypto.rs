//! Built-in detectors: crypto.

use crate::detect::BuiltinDetector;

/// The crypto detectors.
pub const DETECTORS: &[BuiltinDetector] = &[];
