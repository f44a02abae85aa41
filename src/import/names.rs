//! The name rules of the source systems, checked when a document is read so
//! that a name they refuse is reported in the same round as every other
//! problem of the file, never later as an invalid Countersign id.

/// RFC 1123 label, as Kubernetes checks a namespace (`IsDNS1123Label`) and
/// Backstage an entity's namespace: lower-case letters, digits and `-`,
/// starting and ending alphanumeric, at most 63 characters.
pub fn dns_label(s: &str) -> Result<(), String> {
    if s.len() > 63 {
        return Err(format!("{s:?} is longer than 63 characters"));
    }
    let ok = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{s:?} is not a DNS label (lower-case letters, digits and '-', starting and ending with a letter or digit)"
        ))
    }
}

/// RFC 1123 subdomain, as Kubernetes checks most objects' names
/// (`IsDNS1123Subdomain`): dot-separated labels, at most 253 characters.
pub fn dns_subdomain(s: &str) -> Result<(), String> {
    if s.len() > 253 {
        return Err(format!("{s:?} is longer than 253 characters"));
    }
    let ok = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && s.split('.')
            .all(|l| !l.is_empty() && !l.starts_with('-') && !l.ends_with('-'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{s:?} is not a DNS subdomain (lower-case letters, digits, '-' and '.', each part starting and ending with a letter or digit)"
        ))
    }
}

/// A path segment, as Kubernetes checks RBAC objects' names
/// (`ValidatePathSegmentName`): not `.` or `..`, no `/` or `%`. Binding
/// names such as `system:controller:job-controller` are valid.
pub fn path_segment(s: &str) -> Result<(), String> {
    if s == "." || s == ".." {
        return Err(format!("{s:?} may not be a name"));
    }
    if let Some(c) = s.chars().find(|c| matches!(c, '/' | '%')) {
        return Err(format!("{s:?} may not contain {c:?}"));
    }
    Ok(())
}

/// A Backstage entity name (`isValidObjectName`): letters, digits and
/// `-`, `_`, `.` between them, starting and ending with a letter or
/// digit, at most 63 characters.
pub fn backstage_name(s: &str) -> Result<(), String> {
    if s.len() > 63 {
        return Err(format!("{s:?} is longer than 63 characters"));
    }
    let ok = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && s.as_bytes()[0].is_ascii_alphanumeric()
        && s.as_bytes()[s.len() - 1].is_ascii_alphanumeric();
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{s:?} is not a Backstage entity name (letters, digits, and '-', '_' or '.' between them, at most 63 characters)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_the_source_systems_check_them() {
        assert!(dns_label("shop-1").is_ok());
        assert!(dns_label("Shop").is_err());
        assert!(dns_label("-a").is_err());
        assert!(dns_label(&"a".repeat(64)).is_err());
        assert!(dns_subdomain("api.v1-x").is_ok());
        assert!(dns_subdomain("a..b").is_err());
        assert!(dns_subdomain("my app").is_err());
        assert!(path_segment("system:controller:job-controller").is_ok());
        assert!(path_segment("a/b").is_err());
        assert!(path_segment("..").is_err());
        assert!(backstage_name("LoremService").is_ok());
        assert!(backstage_name("a_b.c-d").is_ok());
        assert!(backstage_name("my service").is_err());
        assert!(backstage_name("-a").is_err());
    }
}
