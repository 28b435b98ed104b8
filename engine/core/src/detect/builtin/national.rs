//! Built-in detectors: national.

use crate::detect::BuiltinDetector;

/// The national detectors.
pub const DETECTORS: &[BuiltinDetector] = &[];
