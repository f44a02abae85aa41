//! Output is safe to look at (issue 14; ../shared/security/r11): control
//! characters in imported names are refused at import, naming the file and
//! line; names already in a database with them (written by other means)
//! are escaped wherever they are printed; and every export of names full
//! of quotes, markup and control characters parses in an independent
//! parser (GraphML with roxmltree, JSON with serde_json, CSV with csv).

mod common;
use common::countersign;

const FORGED: &str = "Billing\u{1b}]0;pwned\u{7}\u{1b}[2J\u{1b}[32mall owners reviewed OK\u{1b}[0m";
const FORMULA: &str = "=HYPERLINK(\"http://evil.test\",\"open me\")";
/// Already quoted by someone: must come back with its quote.
const QUOTED: &str = "'=already quoted";
const MARKUP: &str = "Ledger \"UI\" <script>alert('x')</script> & ]]> --> \\ 東京";

/// One Backstage Component; `title` and `description` are written as YAML
/// strings (JSON-quoted), so any character can be put in them.
fn component(name: &str, title: Option<&str>, description: Option<&str>, owner: &str) -> String {
    let quoted = |s: &str| serde_json::to_string(s).unwrap();
    let mut doc =
        format!("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\n");
    if let Some(t) = title {
        doc.push_str(&format!("  title: {}\n", quoted(t)));
    }
    if let Some(d) = description {
        doc.push_str(&format!("  description: {}\n", quoted(d)));
    }
    doc.push_str(&format!(
        "spec: {{type: service, lifecycle: production, owner: {}}}\n",
        quoted(owner)
    ));
    doc
}

/// Service names as `services list --json` gives them.
fn service_names(db: &std::path::Path) -> Vec<String> {
    let out = countersign(db)
        .args(["services", "list", "--json"])
        .output()
        .unwrap();
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    rows.as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["name"].as_str().map(str::to_owned))
        .collect()
}

fn has_raw_controls(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .any(|&b| b == 0x1b || b == 0x07 || (b < 0x20 && b != b'\n' && b != b'\t'))
}

#[tokio::test]
async fn names_are_refused_escaped_and_exported_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("inv.db");
    countersign(&db).args(["demo", "load"]).assert().success();

    // Refused at import, with where, and the message itself is safe.
    let catalog = dir.path().join("catalog-info.yaml");
    std::fs::write(
        &catalog,
        component("billing-ui", Some(FORGED), None, "team-payments"),
    )
    .unwrap();
    let out = countersign(&db)
        .arg("import")
        .arg(&catalog)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(!has_raw_controls(&out.stderr), "{:?}", out.stderr);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("catalog-info.yaml") && stderr.contains("U+001B"),
        "{stderr}"
    );

    // References are text too: an owner named with an escape sequence, or
    // with an invisible direction mark, is refused the same way.
    for owner in ["team-\u{1b}[31mpay", "team-\u{200f}pay"] {
        std::fs::write(&catalog, component("billing-ui", None, None, owner)).unwrap();
        let out = countersign(&db)
            .arg("import")
            .arg(&catalog)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{owner:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(".owner") && stderr.contains("invisible character U+"),
            "{stderr}"
        );
    }

    // Quotes and markup are fine in names; tabs and line feeds in
    // descriptions.
    std::fs::write(
        &catalog,
        component(
            "ledger-ui",
            Some(MARKUP),
            Some("line one\n\tline <two> & \"three\""),
            "team-payments",
        ),
    )
    .unwrap();
    countersign(&db)
        .arg("import")
        .arg(&catalog)
        .assert()
        .success();

    // A name a spreadsheet would run as a formula (OWASP CSV injection).
    std::fs::write(
        &catalog,
        [
            component("formula-ui", Some(FORMULA), None, "team-payments"),
            component("quoted-ui", Some(QUOTED), None, "team-payments"),
        ]
        .join("---\n"),
    )
    .unwrap();
    countersign(&db)
        .arg("import")
        .arg(&catalog)
        .assert()
        .success();

    // An export of it, imported again, keeps the name exactly.
    let first_csv = dir.path().join("csv-before");
    countersign(&db)
        .args(["export", "--format", "csv", "--out"])
        .arg(&first_csv)
        .assert()
        .success();
    let again = dir.path().join("again.db");
    countersign(&again)
        .args(["demo", "load"])
        .assert()
        .success();
    countersign(&again)
        .arg("import")
        .arg(&first_csv)
        .assert()
        .success();
    let names = service_names(&again);
    assert!(
        names.iter().any(|n| n == FORMULA) && names.iter().any(|n| n == QUOTED),
        "the round trip keeps the names"
    );

    // A name written by other means (an administrator who lifts the write
    // triggers, an older version) still carries control characters:
    // everything that prints it escapes it.
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    sqlx::query("DROP TRIGGER services_update_is_audited")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("UPDATE services SET name = $1 WHERE id = 'payments-api'")
        .bind(FORGED)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;

    let out = countersign(&db)
        .args(["services", "list"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(
        !has_raw_controls(&out.stdout),
        "the table prints raw controls"
    );
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("Billing\\u{1b}]0;pwned"), "{table}");
    assert!(table.contains("Ledger \"UI\" <script>"), "{table}");

    // GraphML: well-formed XML whose text is exactly the names, the
    // control characters written out.
    let graphml = dir.path().join("g.graphml");
    countersign(&db)
        .args(["export", "--format", "graphml", "--out"])
        .arg(&graphml)
        .assert()
        .success();
    let xml = std::fs::read_to_string(&graphml).unwrap();
    let doc = roxmltree::Document::parse(&xml).expect("GraphML is well-formed XML");
    let labels: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("data") && n.attribute("key") == Some("label"))
        .filter_map(|n| n.text())
        .collect();
    assert!(labels.contains(&MARKUP), "{labels:?}");
    assert!(
        labels
            .iter()
            .any(|l| l.starts_with("Billing\\u{1b}]0;pwned")),
        "{labels:?}"
    );

    // DOT: no raw control character, every quote balanced.
    let out = countersign(&db)
        .args(["export", "--format", "dot"])
        .output()
        .unwrap();
    assert!(!has_raw_controls(&out.stdout));
    let dot = String::from_utf8(out.stdout).unwrap();
    for line in dot.lines().filter(|l| l.contains("ledger-ui")) {
        let unescaped_quotes = line
            .replace("\\\\", "")
            .replace("\\\"", "")
            .matches('"')
            .count();
        assert_eq!(unescaped_quotes % 2, 0, "{line}");
    }

    // CSV: the csv reader gets every name back exactly (CSV is data).
    let csv_dir = dir.path().join("csv");
    countersign(&db)
        .args(["export", "--format", "csv", "--out"])
        .arg(&csv_dir)
        .assert()
        .success();
    let mut reader = csv::Reader::from_path(csv_dir.join("services.csv")).unwrap();
    let names: Vec<String> = reader
        .records()
        .map(|r| r.unwrap().get(1).unwrap().to_owned())
        .collect();
    assert!(names.iter().any(|n| n == MARKUP), "{names:?}");
    assert!(names.iter().any(|n| n == FORGED), "{names:?}");
    // The formula is defused for spreadsheets ('=…), and an import of the
    // export reads it back exactly.
    assert!(
        names.iter().any(|n| n == &format!("'{FORMULA}")),
        "{names:?}"
    );
    assert!(!names.iter().any(|n| n.starts_with('=')), "{names:?}");

    // JSON: serde_json gets them back exactly.
    let names = service_names(&db);
    assert!(
        names.iter().any(|n| n == MARKUP) && names.iter().any(|n| n == FORGED),
        "{names:?}"
    );
}
