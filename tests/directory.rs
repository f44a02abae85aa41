//! Owners who leave, end to end through the CLI on SQLite and PostgreSQL:
//! a directory (Backstage User and Group entities, or a CSV of people)
//! that no longer lists three owners marks them as left, orphans what they
//! owned and hands it to the backup owner or the owner's team, audited;
//! nothing is deleted; Needs attention lists the orphans until their new
//! owner confirms them.

mod common;
use common::{TestDb, stdout, stdout_json};

use std::path::Path;

fn fixture(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn cli(db: &TestDb, actor: &str) -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("countersign").unwrap();
    c.args(["--db", &db.target(), "--actor", actor]);
    c
}

fn identity(db: &TestDb, id: &str) -> serde_json::Value {
    stdout_json(cli(db, "reader").args(["identities", "show", id, "--json"]))
}

async fn a_directory_without_departed_owners_orphans_and_reroutes(db: TestDb) {
    cli(&db, "setup").args(["demo", "load"]).assert().success();
    cli(&db, "setup")
        .arg("import")
        .arg(fixture("tests/fixtures/directory/leavers.yaml"))
        .assert()
        .success();
    let owners_before = stdout_json(cli(&db, "reader").args(["owners", "list", "--json"]));

    // A dry run says what it would do and writes nothing.
    let catalog = fixture("tests/fixtures/directory/catalog-people.yaml");
    let dry = stdout(
        cli(&db, "hr-sync")
            .args(["directory", "import", "--dry-run"])
            .arg(&catalog),
    );
    assert!(
        dry.contains("left (3): jonas.weber, marco.rossi, sam.okafor"),
        "{dry}"
    );
    assert!(dry.contains("change(s) not written"), "{dry}");
    assert_eq!(identity(&db, "sa-chargeback-bot")["owner"], "marco.rossi");

    let out = stdout(
        cli(&db, "hr-sync")
            .args(["directory", "import"])
            .arg(&catalog),
    );
    for needle in [
        "the directory lists 3 people and 4 teams",
        "key-settlement-export: owned by marco.rossi, handed to its backup owner amira.haddad",
        "sa-chargeback-bot: owned by marco.rossi, handed to their team team-payments",
        "tok-legacy-ftp: owned by sam.okafor, nobody to hand it to (no backup owner or team still here)",
        "bg-cloud-root: its backup owner jonas.weber left; the backup owner is cleared",
        "written: 7 changes (audited)",
    ] {
        assert!(out.contains(needle), "{needle:?} not in:\n{out}");
    }

    // Handed on, and marked.
    let key = identity(&db, "key-settlement-export");
    assert_eq!(key["owner"], "amira.haddad");
    assert!(key["backup_owner"].is_null(), "the backup became the owner");
    assert_eq!(key["orphaned"]["former_owner"], "marco.rossi");
    let bot = identity(&db, "sa-chargeback-bot");
    assert_eq!(bot["owner"], "team-payments");
    let ftp = identity(&db, "tok-legacy-ftp");
    assert_eq!(
        ftp["owner"], "sam.okafor",
        "nobody to hand it to: kept, and flagged"
    );
    assert_eq!(ftp["orphaned"]["former_owner"], "sam.okafor");
    assert!(
        ftp["backup_owner"].is_null(),
        "its backup owner (jonas.weber) left too: cleared"
    );
    // Nobody takes in what is still the departed owner's.
    cli(&db, "li.wei")
        .args(["identities", "review", "tok-legacy-ftp"])
        .assert()
        .failure()
        .stderr(predicates::str::contains(
            "is still owned by sam.okafor, who left: name its owner first",
        ));
    // Priya Nair is listed as pnair, and found by her e-mail address.
    let owners = stdout_json(cli(&db, "reader").args(["owners", "list", "--json"]));
    let owner = |id: &str| {
        owners
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["id"] == id)
            .unwrap_or_else(|| panic!("{id} was deleted"))
            .clone()
    };
    let today = jiff::ZonedDateTime::now().date().to_string();
    for gone in ["marco.rossi", "sam.okafor", "jonas.weber"] {
        assert_eq!(owner(gone)["left_on"], today.as_str(), "{gone}");
    }
    assert!(owner("priya.nair")["left_on"].is_null());
    assert_eq!(
        owners.as_array().unwrap().len(),
        owners_before.as_array().unwrap().len(),
        "nothing is deleted"
    );

    // Needs attention lists each orphan, naming who has it now.
    let findings = stdout_json(cli(&db, "reader").args(["attention", "--json"]));
    let orphans: Vec<(String, String)> = findings
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "orphaned")
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_owned(),
                f["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(orphans.len(), 3, "{orphans:?}");
    assert!(
        orphans[1]
            .1
            .contains("handed to team-payments, who must confirm"),
        "{orphans:?}"
    );

    // Audited: each change by the actor who ran the import.
    let log = stdout_json(cli(&db, "reader").args([
        "audit",
        "log",
        "--identity",
        "sa-chargeback-bot",
        "--json",
    ]));
    let newest = log
        .as_array()
        .unwrap()
        .iter()
        .max_by_key(|e| e["seq"].as_i64())
        .unwrap()
        .clone();
    assert_eq!(newest["actor"], "hr-sync", "{newest}");
    assert!(
        newest["before"].as_str().unwrap().contains("marco.rossi")
            && newest["after"].as_str().unwrap().contains("team-payments"),
        "{newest}"
    );
    cli(&db, "reader")
        .args(["audit", "verify"])
        .assert()
        .success();

    // The new owner takes it in: no longer an orphan.
    cli(&db, "li.wei")
        .args(["identities", "review", "sa-chargeback-bot"])
        .assert()
        .success();
    assert!(identity(&db, "sa-chargeback-bot")["orphaned"].is_null());

    // Again: nothing changes. With a CSV of people that lists Jonas again,
    // he is no longer marked as left (his identities stay handed on).
    let again = stdout(
        cli(&db, "hr-sync")
            .args(["directory", "import"])
            .arg(&catalog),
    );
    assert!(
        again.contains("nobody else has left") && again.contains("nothing to write"),
        "{again}"
    );
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("owners.csv");
    let mut people =
        std::fs::read_to_string(fixture("tests/fixtures/directory/people.csv")).unwrap();
    people.push_str("jonas.weber,person,Jonas Weber,jonas.weber@harborpay.example,team-security\n");
    std::fs::write(&csv, people).unwrap();
    let back = stdout(cli(&db, "hr-sync").args(["directory", "import"]).arg(&csv));
    assert!(back.contains("listed again: jonas.weber"), "{back}");
}

on_both_engines!(a_directory_without_departed_owners_orphans_and_reroutes);

/// A directory that lists nobody would mark everyone gone: refused.
#[test]
fn a_directory_without_people_is_refused() {
    let db = TestDb::sqlite();
    cli(&db, "setup").args(["demo", "load"]).assert().success();
    let dir = tempfile::tempdir().unwrap();
    let teams = dir.path().join("owners.csv");
    std::fs::write(&teams, "id,kind,name\nteam-payments,team,Payments\n").unwrap();
    cli(&db, "hr-sync")
        .args(["directory", "import"])
        .arg(&teams)
        .assert()
        .failure()
        .stderr(predicates::str::contains(
            "lists no person (Backstage User entities, or owners.csv rows of kind person)",
        ));
    let owners = stdout_json(cli(&db, "reader").args(["owners", "list", "--json"]));
    assert!(
        owners
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["left_on"].is_null()),
        "nothing was changed"
    );
    // One person of four: a partial directory, not a wave of departures.
    let one = dir.path().join("people.csv");
    std::fs::write(
        &one,
        "id,kind,name,email\namira.haddad,person,Amira Haddad,amira.haddad@harborpay.example\n",
    )
    .unwrap();
    cli(&db, "hr-sync")
        .args(["directory", "import"])
        .arg(&one)
        .assert()
        .failure()
        .stderr(predicates::str::contains(
            "3 of the 4 people still here would be marked as left",
        ));
    // A Countersign inventory is not a directory.
    cli(&db, "hr-sync")
        .args(["directory", "import"])
        .arg(fixture("tests/fixtures/directory/leavers.yaml"))
        .assert()
        .failure()
        .stderr(predicates::str::contains("is a Countersign inventory"));
    stdout(
        cli(&db, "hr-sync")
            .args(["directory", "import", "--accept-departures"])
            .arg(&one),
    );
    let owners = stdout_json(cli(&db, "reader").args(["owners", "list", "--json"]));
    let left = owners
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| !o["left_on"].is_null())
        .count();
    assert_eq!(left, 3, "accepted when asked for");
}
