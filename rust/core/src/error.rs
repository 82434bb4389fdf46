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

/// Displays an `f64` as Python's `repr(float)` does, so that messages read the same as the
/// Python layer's: the shortest digits that round-trip, positional for decimal exponents in
/// [-4, 16), else `d.ddde+XX` (e.g. `1e-300`, not Rust's 300-digit `Display` expansion).
#[derive(Debug, Clone, Copy)]
pub struct Repr(pub f64);

impl fmt::Display for Repr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let x = self.0;
        if x.is_nan() {
            return f.write_str("nan");
        }
        if x.is_infinite() {
            return f.write_str(if x > 0.0 { "inf" } else { "-inf" });
        }
        // `{:e}` gives the shortest round-trip digits, e.g. "-1.5e-7", "0e0".
        let sci = format!("{x:e}");
        let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
        let exp: i32 = exp.parse().unwrap_or(0);
        let (sign, mantissa) = match mantissa.strip_prefix('-') {
            Some(m) => ("-", m),
            None => ("", mantissa),
        };
        let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
        if !(-4..16).contains(&exp) {
            let e_sign = if exp < 0 { '-' } else { '+' };
            return write!(f, "{sign}{mantissa}e{e_sign}{:02}", exp.unsigned_abs());
        }
        if exp < 0 {
            let zeros = "0".repeat(exp.unsigned_abs() as usize - 1);
            return write!(f, "{sign}0.{zeros}{digits}");
        }
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            let zeros = "0".repeat(int_len - digits.len());
            write!(f, "{sign}{digits}{zeros}.0")
        } else {
            write!(f, "{sign}{}.{}", &digits[..int_len], &digits[int_len..])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Repr;

    #[test]
    fn repr_matches_python() {
        // Expected strings are Python 3's repr() of the same doubles.
        let cases: [(f64, &str); 17] = [
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (0.1, "0.1"),
            (-2.5, "-2.5"),
            (123.456, "123.456"),
            (1e-4, "0.0001"),
            (1.5e-5, "1.5e-05"),
            (1e-300, "1e-300"),
            (5e-324, "5e-324"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (1.2345e16, "1.2345e+16"),
            (-1.7976931348623157e308, "-1.7976931348623157e+308"),
            (1.0000000000000002, "1.0000000000000002"),
            (f64::INFINITY, "inf"),
            (f64::NAN, "nan"),
        ];
        for (x, want) in cases {
            assert_eq!(Repr(x).to_string(), want, "{x:e}");
        }
    }
}
