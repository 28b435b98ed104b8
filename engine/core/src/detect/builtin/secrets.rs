//! Built-in detectors: secrets.

use crate::detect::BuiltinDetector;

/// The secrets detectors.
pub const DETECTORS: &[BuiltinDetector] = &[];
