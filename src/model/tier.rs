use serde::{Deserialize, Serialize};
use std::fmt;

use super::ParseModelError;

const EXPECTED: &str = "0, 1, 2, 3 (0 is most critical)";

/// Criticality tier, from 0 (the business stops without it) to 3 (nobody
/// notices for a day). Stored as its number so ranges sort and compare in SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, ts_rs::TS)]
#[serde(into = "u8")]
pub struct Tier(u8);

/// Read from a number (`tier: 1`) or its text (`tier: "1"`, as a CSV cell
/// or a YAML string holds it); anything else is refused naming the values
/// a tier can take, not the integer type behind it.
impl<'de> Deserialize<'de> for Tier {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct TierVisitor;
        impl serde::de::Visitor<'_> for TierVisitor {
            type Value = Tier;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "a tier: {EXPECTED}")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Tier, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Tier, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Tier, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Tier, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Tier, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_any(TierVisitor)
    }
}

impl Tier {
    pub const MOST_CRITICAL: Tier = Tier(0);
    /// What importers assume when their source says nothing about criticality.
    pub const IMPORTANT: Tier = Tier(2);
    pub const LEAST_CRITICAL: Tier = Tier(3);

    pub fn new(value: u8) -> Result<Self, ParseModelError> {
        if value <= Self::LEAST_CRITICAL.0 {
            Ok(Tier(value))
        } else {
            Err(ParseModelError {
                what: "tier",
                value: value.to_string(),
                expected: EXPECTED.into(),
            })
        }
    }

    pub fn get(self) -> u8 {
        self.0
    }

    /// The words an incident responder uses for the tier.
    pub fn label(self) -> &'static str {
        match self.0 {
            0 => "mission-critical",
            1 => "business-critical",
            2 => "important",
            _ => "low",
        }
    }
}

impl std::str::FromStr for Tier {
    type Err = ParseModelError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || ParseModelError {
            what: "tier",
            value: s.to_owned(),
            expected: EXPECTED.into(),
        };
        let n: u8 = s.trim().parse().map_err(|_| invalid())?;
        Tier::new(n).map_err(|_| invalid())
    }
}

impl TryFrom<u8> for Tier {
    type Error = ParseModelError;
    fn try_from(value: u8) -> Result<Self, Self::Error> {
        Tier::new(value)
    }
}

impl From<Tier> for u8 {
    fn from(t: Tier) -> u8 {
        t.0
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tier {}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_zero_to_three_and_rejects_the_rest() {
        for v in 0..=3 {
            assert_eq!(Tier::new(v).unwrap().get(), v);
        }
        let err = Tier::new(4).unwrap_err();
        assert!(err.to_string().contains("\"4\" is not a valid tier"));
    }

    #[test]
    fn parses_from_text() {
        assert_eq!(" 1 ".parse::<Tier>().unwrap().get(), 1);
        let err = "high".parse::<Tier>().unwrap_err().to_string();
        assert!(err.starts_with("\"high\" is not a valid tier"), "{err}");
    }

    #[test]
    fn lower_numbers_are_more_critical() {
        assert!(Tier::MOST_CRITICAL < Tier::LEAST_CRITICAL);
        assert_eq!(Tier::new(0).unwrap().label(), "mission-critical");
    }
}
