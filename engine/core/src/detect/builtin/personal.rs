//! Built-in detectors: personal.

use crate::detect::BuiltinDetector;

/// The personal detectors.
pub const DETECTORS: &[BuiltinDetector] = &[];
