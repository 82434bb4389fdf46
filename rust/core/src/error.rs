//! The one error type of the core. Every variant names the argument at fault so that the
//! bindings can raise a Python exception whose message says what to fix.

use std::fmt;

/// An error caused by user input. The core never panics on input; it returns one of these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// A value outside its domain (maps to `ValueError`).
    InvalidArgument { name: &'static str, reason: String },
    /// A buffer that cannot be allocated (maps to `MemoryError`).
    OutOfMemory { name: &'static str, bytes: u128 },
    /// A device, its driver or its compiler is missing or failed (maps to `RuntimeError`).
    Device { name: &'static str, reason: String },
}

impl Error {
    pub(crate) fn device(name: &'static str, reason: impl Into<String>) -> Self {
        Error::Device {
            name,
            reason: reason.into(),
        }
    }

    pub(crate) fn invalid(name: &'static str, reason: impl Into<String>) -> Self {
        Error::InvalidArgument {
            name,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidArgument { name, reason } => write!(f, "{name}: {reason}"),
            Error::OutOfMemory { name, bytes } => {
                write!(f, "{name}: cannot allocate {bytes} bytes")
            }
            Error::Device { name, reason } => write!(f, "{name}: {reason}"),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;
