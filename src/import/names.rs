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

/// The name part of a label or annotation key, and a non-empty label
/// value: at most 63 characters, letters, digits and `-`, `_`, `.`,
/// starting and ending alphanumeric (Kubernetes' `IsQualifiedName` part
/// and `IsValidLabelValue`, which Backstage applies too).
fn label_word(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
}

/// A label or annotation key: `[prefix/]name`, the prefix a DNS subdomain
/// (Kubernetes' `IsQualifiedName`; Backstage's `isValidLabelKey` and
/// `isValidAnnotationKey`).
pub fn qualified_name(s: &str) -> Result<(), String> {
    let ok = match s.split_once('/') {
        Some((prefix, name)) => dns_subdomain(prefix).is_ok() && label_word(name),
        None => label_word(s),
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{s:?} is not a valid key ([prefix/]name: the name at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit; the prefix a DNS subdomain)"
        ))
    }
}

/// A label value: empty, or as [`label_word`] says.
pub fn label_value(s: &str) -> Result<(), String> {
    if s.is_empty() || label_word(s) {
        Ok(())
    } else {
        Err(format!(
            "{s:?} is not a valid label value (at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit)"
        ))
    }
}

/// A Backstage tag (`isValidTag`): lower-case letters, digits and `:+#`,
/// in words joined by `-`, at most 63 characters.
pub fn backstage_tag(s: &str) -> Result<(), String> {
    let word = |w: &str| {
        !w.is_empty()
            && w.bytes().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b':' | b'+' | b'#')
            })
    };
    if s.len() <= 63 && s.split('-').all(word) {
        Ok(())
    } else {
        Err(format!(
            "{s:?} is not a Backstage tag (lower-case letters, digits, ':', '+' or '#', words joined by '-', at most 63 characters)"
        ))
    }
}

/// The closest of `known` to `word`, when close enough to be a typo.
pub fn did_you_mean<'a>(word: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (strsim::damerau_levenshtein(word, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 5))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
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
        assert!(qualified_name("app.kubernetes.io/part-of").is_ok());
        assert!(qualified_name("countersign.dev/tier ").is_err());
        assert!(qualified_name("cost center").is_err());
        assert!(label_value("").is_ok());
        assert!(label_value("Data Platform").is_err());
        assert!(label_value("@data").is_err());
        assert!(backstage_tag("java").is_ok());
        assert!(backstage_tag("c++").is_ok());
        assert!(backstage_tag("Java").is_err());
        assert!(backstage_tag("spring boot").is_err());
        assert_eq!(
            did_you_mean("serviceAcountName", &["serviceAccountName", "nodeName"]),
            Some("serviceAccountName")
        );
        assert_eq!(
            did_you_mean("subject", &["subjects", "roleRef"]),
            Some("subjects")
        );
        assert_eq!(did_you_mean("zzz", &["subjects"]), None);
    }
}
