//! The error every validated value returns: which field broke which rule.

use chrono::{DateTime, Datelike as _, Utc};

use std::fmt;

/// A rejected input: the field it came from, a stable snake_case code naming the rule,
/// and a lowercase message a person can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    pub field: String,
    pub code: &'static str,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code,
            message: message.into(),
        }
    }

    /// The same error reported against a field nested under `parent` (`geofence` + `radius_m`
    /// gives `geofence.radius_m`).
    pub fn within(mut self, parent: &str) -> Self {
        self.field = if self.field.is_empty() {
            parent.to_owned()
        } else {
            format!("{parent}.{}", self.field)
        };
        self
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for ValidationError {}

/// Checks an instant a caller gave lies in years 0001 to 9999: what RFC 3339 and protobuf's
/// Timestamp can write, so every answer that carries it can be written too.
pub fn instant(field: &str, at: Option<DateTime<Utc>>) -> Result<(), ValidationError> {
    match at {
        Some(t) if !(1..=9999).contains(&t.year()) => Err(ValidationError::new(
            field,
            "invalid_date",
            format!("{field} must be between the years 0001 and 9999"),
        )),
        _ => Ok(()),
    }
}

/// Trims `value` and checks it is between `min` and `max` characters long.
pub fn text(field: &str, value: &str, min: usize, max: usize) -> Result<String, ValidationError> {
    let trimmed = value.trim();
    let len = trimmed.chars().count();
    if len < min {
        return Err(if min == 1 {
            ValidationError::new(field, "required", format!("{field} must not be empty"))
        } else {
            ValidationError::new(
                field,
                "too_short",
                format!("{field} must be at least {min} characters"),
            )
        });
    }
    if len > max {
        return Err(ValidationError::new(
            field,
            "too_long",
            format!("{field} must be at most {max} characters"),
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(ValidationError::new(
            field,
            "control_characters",
            format!("{field} must not contain control characters"),
        ));
    }
    Ok(trimmed.to_owned())
}

/// An object's name (a site, a door, a group, a card): 1 to 200 characters.
pub fn name(value: &str) -> Result<String, ValidationError> {
    text("name", value, 1, 200)
}

/// An object's free-form description: at most 2,000 characters.
pub fn description(value: &str) -> Result<String, ValidationError> {
    text("description", value, 0, 2000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(text("name", "  Front  ", 1, 10).unwrap(), "Front");
        assert_eq!(text("name", "   ", 1, 10).unwrap_err().code, "required");
        assert_eq!(
            text("name", "abcdefghijk", 1, 10).unwrap_err().code,
            "too_long"
        );
        assert_eq!(
            text("name", "a\u{0}b", 1, 10).unwrap_err().code,
            "control_characters"
        );
    }

    #[test]
    fn nested_fields_are_named_with_their_parent() {
        let err = ValidationError::new("radius_m", "out_of_range", "x").within("geofence");
        assert_eq!(err.field, "geofence.radius_m");
    }
}
