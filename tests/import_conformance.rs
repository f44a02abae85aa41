//! Backstage catalogs and Kubernetes manifests read as Backstage and
//! `kubectl apply` read them. `tests/fixtures/cases/` holds small
//! reproductions of faults found in public catalogs and manifests (each
//! file's comment says what Backstage or kubectl does with it); every one
//! is asserted here with its right value, beside fixtures written for each
//! kind of fault: references across files and imports, namespaces given by
//! `--namespace` or a Kustomization, ids from before kinds were part of
//! them, findings with file and line, `--strict`, and every problem listed.

mod common;

use common::countersign;
use countersign::Store;
use countersign::import::{self, Apply, Findings, Format, ImportError, Options};
use countersign::inventory::Inventory;
use countersign::model::{Access, Identity, Service};
use std::path::{Path, PathBuf};

fn case(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/cases")
        .join(name)
}

struct Imported {
    inventory: Inventory,
    findings: Findings,
    files: Vec<String>,
}

impl Imported {
    fn service(&self, id: &str) -> &Service {
        self.inventory
            .services
            .iter()
            .find(|s| s.id == id)
            .unwrap_or_else(|| panic!("no service {id}: {:?}", self.inventory.services))
    }

    fn identity(&self, id: &str) -> &Identity {
        self.inventory
            .identities
            .iter()
            .find(|i| i.id == id)
            .unwrap_or_else(|| panic!("no identity {id}: {:?}", self.inventory.identities))
    }

    /// The one unresolved finding containing `text`, as `file-name:line: message`.
    fn unresolved(&self, text: &str) -> String {
        let found: Vec<String> = self
            .findings
            .unresolved
            .iter()
            .filter(|f| f.message.contains(text))
            .map(|f| {
                let name = Path::new(&f.file).file_name().unwrap().to_string_lossy();
                format!("{name}:{}: {}", f.line.unwrap_or(0), f.message)
            })
            .collect();
        assert_eq!(
            found.len(),
            1,
            "{text:?} in {:#?}",
            self.findings.unresolved
        );
        found[0].clone()
    }

    /// The one note containing `text`, as `file-name:line: message`.
    fn note(&self, text: &str) -> String {
        let found: Vec<String> = self
            .findings
            .notes
            .iter()
            .filter(|f| f.message.contains(text))
            .map(|f| {
                let name = Path::new(&f.file).file_name().unwrap().to_string_lossy();
                format!("{name}:{}: {}", f.line.unwrap_or(0), f.message)
            })
            .collect();
        assert_eq!(found.len(), 1, "{text:?} in {:#?}", self.findings.notes);
        found[0].clone()
    }

    fn owner(&self, id: &str) -> &countersign::model::Owner {
        self.inventory
            .owners
            .iter()
            .find(|o| o.id == id)
            .unwrap_or_else(|| panic!("no owner {id}: {:?}", self.inventory.owners))
    }

    fn skipped(&self, kind: &str) -> usize {
        self.findings
            .skipped
            .iter()
            .filter(|s| s.kind == kind)
            .map(|s| s.count)
            .sum()
    }
}

async fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("inv.db")).await.unwrap();
    (dir, store)
}

async fn import_into(
    store: &Store,
    path: &Path,
    options: &Options,
) -> Result<Imported, ImportError> {
    let report = import::import(store, path, options, Apply::Plan, "test", &()).await?;
    Ok(Imported {
        inventory: store.snapshot().await.unwrap(),
        findings: report.findings,
        files: report.files,
    })
}

async fn import(path: &Path) -> Imported {
    let (_dir, store) = store().await;
    import_into(&store, path, &Options::new(Format::Auto))
        .await
        .unwrap()
}

async fn strict_ok(path: &Path) {
    let (_dir, store) = store().await;
    let options = Options {
        strict: true,
        ..Options::new(Format::Auto)
    };
    import_into(&store, path, &options).await.unwrap();
}

async fn strict(path: &Path) -> String {
    let (_dir, store) = store().await;
    let options = Options {
        strict: true,
        ..Options::new(Format::Auto)
    };
    match import_into(&store, path, &options).await {
        Err(e @ ImportError::Strict(_)) => {
            assert!(
                store.snapshot().await.unwrap().is_empty(),
                "nothing written"
            );
            e.to_string()
        }
        Err(e) => panic!("refused for another reason: {e}"),
        Ok(_) => panic!("--strict accepted {}", path.display()),
    }
}

/// The problems of an import refused for more than one, each as printed;
/// nothing is written.
async fn refusals(path: &Path, options: &Options) -> Vec<String> {
    let (_d, store) = store().await;
    let e = import_into(&store, path, options)
        .await
        .err()
        .expect("refused");
    let ImportError::Refused(problems) = &e else {
        panic!("refused for one reason only: {e}")
    };
    assert!(
        store.snapshot().await.unwrap().is_empty(),
        "nothing written"
    );
    problems.iter().map(ToString::to_string).collect()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    path
}

// ---- the cases, each with its right value ----

#[tokio::test]
async fn case_01_a_provided_api_outside_the_import_is_reported_not_refused() {
    let got = import(&case("01-provides-missing-api.yaml")).await;
    let tracker = got.service("parcel-tracker");
    assert_eq!(tracker.owner.as_deref(), Some("team-parcels"));
    assert_eq!(
        got.inventory.services.len(),
        1,
        "no stand-in service for the API"
    );
    assert_eq!(
        got.unresolved("providesApis"),
        "01-provides-missing-api.yaml:11: spec.providesApis: unknown API api:default/tracking-api: it is neither in this import nor in the inventory, so the relation is not kept"
    );
    assert!(got.unresolved("spec.owner").starts_with(
        "01-provides-missing-api.yaml:9: spec.owner: unknown Group group:default/team-parcels"
    ));
    let refused = strict(&case("01-provides-missing-api.yaml")).await;
    assert!(
        refused.contains("01-provides-missing-api.yaml:11: spec.providesApis: unknown API"),
        "{refused}"
    );
}

#[tokio::test]
async fn case_02_references_compare_ignoring_case() {
    let got = import(&case("02-ref-case.yaml")).await;
    assert_eq!(
        got.service("dashboards").depends_on,
        ["resource:MetricsStore"]
    );
    assert!(
        !got.findings
            .unresolved
            .iter()
            .any(|f| f.message.contains("dependsOn"))
    );
}

#[tokio::test]
async fn case_03_a_component_and_the_api_it_provides_are_two_entities() {
    let got = import(&case("03-component-api-same-name.yaml")).await;
    assert!(got.service("geo-lookup").depends_on.is_empty());
    assert_eq!(
        got.unresolved("providesApis"),
        "03-component-api-same-name.yaml:12: spec.providesApis: unknown API api:default/geo-lookup: it is neither in this import nor in the inventory, so the relation is not kept"
    );
    // With the API's own file beside it, the relation is kept.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        case("03-component-api-same-name.yaml"),
        dir.path().join("component.yaml"),
    )
    .unwrap();
    write(
        dir.path(),
        "api.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata: {name: geo-lookup}\nspec: {type: grpc, lifecycle: production, owner: team-maps, definition: x}\n",
    );
    let got = import(dir.path()).await;
    assert_eq!(got.service("api:geo-lookup").depends_on, ["geo-lookup"]);
    assert!(got.service("geo-lookup").depends_on.is_empty());
}

#[tokio::test]
async fn case_04_same_name_keeps_every_edge_and_reports_the_missing_one() {
    let got = import(&case("04-same-name-drops-edges.yaml")).await;
    assert_eq!(got.service("ledger").depends_on, ["resource:ledger-store"]);
    assert_eq!(got.service("api:ledger").name, "ledger");
    assert_eq!(got.inventory.services.len(), 3);
    assert_eq!(
        got.unresolved("no-such-thing"),
        "04-same-name-drops-edges.yaml:13: spec.dependsOn: unknown Component component:default/no-such-thing: it is neither in this import nor in the inventory, so the relation is not kept"
    );
}

#[tokio::test]
async fn case_06_a_kustomization_is_read_and_its_missing_resource_named() {
    let got = import(&case("06-kustomization-no-metadata.yaml")).await;
    assert!(got.inventory.is_empty());
    assert_eq!(got.skipped("Kustomization"), 0, "read, not skipped");
    assert_eq!(
        got.unresolved("robot.yaml"),
        "06-kustomization-no-metadata.yaml:5: resource robot.yaml does not exist, so nothing is read from it (`kubectl apply -k` refuses a Kustomization whose resource is missing)"
    );
}

#[tokio::test]
async fn case_07_a_cluster_wide_grant_is_never_dropped() {
    // As `kubectl apply -n tools`: the account is tools/sync-bot.
    let (_dir, store) = store().await;
    let options = Options {
        namespace: Some("tools".into()),
        ..Options::new(Format::Auto)
    };
    let got = import_into(&store, &case("07-crb-namespace-mismatch.yaml"), &options)
        .await
        .unwrap();
    let bot = got.identity("k8s:tools/sync-bot");
    assert_eq!(bot.permissions, ["ClusterRole/cluster-admin"]);
    assert_eq!(bot.used_by.len(), 1);
    assert_eq!(bot.used_by[0].service, "tools/sync-bot");
    assert_eq!(bot.used_by[0].access, Some(Access::Admin));
    assert!(
        got.findings.unresolved.is_empty(),
        "{:?}",
        got.findings.unresolved
    );

    // As plain `kubectl apply`: the account lands in default, and the
    // binding still grants tools/sync-bot, which is created and reported
    // with the way to read the bundle as meant.
    let got = import(&case("07-crb-namespace-mismatch.yaml")).await;
    assert_eq!(
        got.identity("k8s:tools/sync-bot").permissions,
        ["ClusterRole/cluster-admin"]
    );
    assert!(got.identity("k8s:default/sync-bot").permissions.is_empty());
    let finding = got.unresolved("tools/sync-bot");
    assert!(finding.starts_with("07-crb-namespace-mismatch.yaml:23: the ClusterRoleBinding sync-bot-everything names the service account tools/sync-bot"), "{finding}");
    assert!(
        finding.contains("import them with --namespace tools"),
        "{finding}"
    );
}

#[tokio::test]
async fn case_08_lists_are_unwrapped() {
    let got = import(&case("08-kind-list.yaml")).await;
    assert_eq!(
        got.identity("k8s:tools/robot-one").permissions,
        ["ClusterRole/view in tools"]
    );
    assert!(got.findings.is_clean(), "{:?}", got.findings);
}

#[tokio::test]
async fn case_08b_a_binding_in_another_file_grants_the_account() {
    let got = import(&case("08b-split-binding")).await;
    let scraper = got.identity("k8s:metrics/scraper");
    assert_eq!(scraper.permissions, ["ClusterRole/cluster-admin"]);
    assert_eq!(scraper.used_by[0].service, "metrics/scraper");
    assert_eq!(scraper.used_by[0].access, Some(Access::Admin));
    assert!(got.findings.is_clean(), "{:?}", got.findings);
}

#[tokio::test]
async fn case_11_a_token_for_an_account_made_elsewhere_creates_it_and_says_so() {
    let got = import(&case("11-token-secret-orphan.yaml")).await;
    let token = got.identity("k8s:ci/secret/ci-deployer-token");
    assert_eq!(token.derived_from.as_deref(), Some("k8s:ci/ci-deployer"));
    got.identity("k8s:ci/ci-deployer");
    assert_eq!(
        got.unresolved("ci-deployer"),
        "11-token-secret-orphan.yaml:6: the token Secret ci/ci-deployer-token names the service account ci/ci-deployer, which no manifest of this import defines and the inventory does not hold; created it"
    );
    // Imported after the account, it is derived from it and nothing is reported.
    let (_dir, store) = store().await;
    let dir = tempfile::tempdir().unwrap();
    let sa = write(
        dir.path(),
        "sa.yaml",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: ci-deployer, namespace: ci}\n",
    );
    import_into(&store, &sa, &Options::new(Format::Auto))
        .await
        .unwrap();
    let got = import_into(
        &store,
        &case("11-token-secret-orphan.yaml"),
        &Options::new(Format::Auto),
    )
    .await
    .unwrap();
    assert!(got.findings.is_clean(), "{:?}", got.findings);
    assert_eq!(got.inventory.identities.len(), 2);
}

#[tokio::test]
async fn case_15_location_targets_are_globs() {
    let got = import(&case("15-location-glob.yaml")).await;
    assert_eq!(got.files.len(), 2, "{:?}", got.files);
    assert!(got.inventory.owners.iter().any(|o| o.id == "team-routes"));
}

#[tokio::test]
async fn case_19_templates_are_skipped_and_counted() {
    let got = import(&case("19-template-entity.yaml")).await;
    assert_eq!(got.inventory.services.len(), 1);
    got.service("quote-service");
    assert_eq!(got.skipped("Template"), 1);
    let refused = strict(&case("19-template-entity.yaml")).await;
    assert!(
        refused.contains("1 Backstage Template document(s) skipped"),
        "{refused}"
    );
}

// ---- each kind of fault, on fixtures of our own ----

#[tokio::test]
async fn a_kustomization_namespace_applies_to_the_files_it_lists_and_their_subjects() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: monitoring\nresources:\n  - sa.yaml\n  - rbac/\n",
    );
    write(
        dir.path(),
        "sa.yaml",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: prometheus}\n---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: prometheus, namespace: default}\nspec:\n  template:\n    spec: {serviceAccountName: prometheus}\n",
    );
    write(
        dir.path(),
        "rbac/binding.yaml",
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: prometheus}\nroleRef: {kind: ClusterRole, name: prometheus-reader}\nsubjects:\n  - {kind: ServiceAccount, name: prometheus, namespace: default}\n",
    );
    // A directory resource is the Kustomization there, as kustomize reads it.
    write(
        dir.path(),
        "rbac/kustomization.yaml",
        "resources: [binding.yaml]\n",
    );
    let got = import(dir.path()).await;
    let sa = got.identity("k8s:monitoring/prometheus");
    assert_eq!(sa.permissions, ["ClusterRole/prometheus-reader"]);
    assert_eq!(sa.used_by[0].service, "monitoring/prometheus");
    assert_eq!(sa.used_by[0].access, Some(Access::Read));
    assert_eq!(
        got.inventory.identities.len(),
        1,
        "{:?}",
        got.inventory.identities
    );
    assert!(
        got.findings.unresolved.is_empty(),
        "{:?}",
        got.findings.unresolved
    );
    assert!(
        got.findings
            .notes
            .iter()
            .any(|n| n.message.contains("namespace monitoring applied") && n.line == Some(3)),
        "the note is at the namespace's line: {:?}",
        got.findings.notes
    );

    // What kustomize would change beyond that is named, not ignored.
    write(
        dir.path(),
        "kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: monitoring\nnamePrefix: prod-\nresources: [sa.yaml, rbac/]\n",
    );
    let got = import(dir.path()).await;
    assert!(
        got.unresolved("namePrefix")
            .starts_with("kustomization.yaml:4: the Kustomization's namePrefix is not applied")
    );
}

#[tokio::test]
async fn two_overlays_over_one_base_apply_it_in_both_namespaces() {
    let dir = tempfile::tempdir().unwrap();
    // kustomize reads an entry file without apiVersion and kind.
    write(
        dir.path(),
        "base/kustomization.yaml",
        "resources: [app.yaml]\n",
    );
    write(
        dir.path(),
        "base/app.yaml",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: api}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec:\n  template:\n    spec: {serviceAccountName: api}\n",
    );
    for env in ["staging", "prod"] {
        write(
            dir.path(),
            &format!("overlays/{env}/kustomization.yaml"),
            &format!(
                "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: shop-{env}\nresources: [../../base]\ncommonLabels:\n  team: team-{env}\n  app: api\n"
            ),
        );
    }
    let got = import(dir.path()).await;
    for env in ["staging", "prod"] {
        let sa = got.identity(&format!("k8s:shop-{env}/api"));
        assert_eq!(sa.owner.as_deref(), Some(format!("team-{env}").as_str()));
        assert_eq!(sa.used_by[0].service, format!("shop-{env}/api"));
        assert_eq!(
            got.service(&format!("shop-{env}/api")).owner.as_deref(),
            Some(format!("team-{env}").as_str()),
            "commonLabels reach the objects"
        );
    }
    assert_eq!(got.inventory.identities.len(), 2, "nothing in default");
    // The teams are in no import: each is said once.
    let unresolved: Vec<&str> = got
        .findings
        .unresolved
        .iter()
        .map(|f| f.message.as_str())
        .collect();
    assert_eq!(unresolved.len(), 2, "{unresolved:?}");
    assert!(
        unresolved.iter().all(|m| m.contains(
            "is neither in this import nor in the inventory; kept as the owner id team-"
        )),
        "{unresolved:?}"
    );
    assert!(
        got.findings
            .notes
            .iter()
            .any(|n| n.message.starts_with("2 Kustomizations apply this file")),
        "{:?}",
        got.findings.notes
    );
    // With the teams in the catalog, a clean kustomize tree passes --strict.
    write(
        dir.path(),
        "teams/catalog-info.yaml",
        "apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-prod}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-staging}
spec: {type: team, children: []}
",
    );
    strict_ok(dir.path()).await;
}

#[tokio::test]
async fn a_patch_file_is_not_an_object_and_the_patch_is_named() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [app.yaml]\npatches:\n  - path: use-admin.yaml\n",
    );
    write(
        dir.path(),
        "app.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: shop}\nspec:\n  template:\n    spec: {serviceAccountName: api}\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: api, namespace: shop}\n",
    );
    write(
        dir.path(),
        "use-admin.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec:\n  template:\n    spec: {serviceAccountName: admin}\n",
    );
    let got = import(dir.path()).await;
    assert_eq!(
        got.inventory.services.len(),
        1,
        "{:?}",
        got.inventory.services
    );
    assert_eq!(
        got.inventory.identities.len(),
        1,
        "no account admin made up"
    );
    let patches = got.unresolved("patches");
    assert!(
        patches.starts_with("kustomization.yaml:4: the Kustomization's patches is not applied"),
        "{patches}"
    );
    assert!(
        got.findings
            .notes
            .iter()
            .any(|n| n.file.ends_with("use-admin.yaml")
                && n.message
                    .starts_with("read as a patch or input of the Kustomization at")),
        "{:?}",
        got.findings.notes
    );
}

#[tokio::test]
async fn a_placeholder_account_stays_reported_until_its_manifest_is_imported() {
    let (_dir, store) = store().await;
    let dir = tempfile::tempdir().unwrap();
    let binding = write(
        dir.path(),
        "binding.yaml",
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: deploy, namespace: ci}\nroleRef: {kind: ClusterRole, name: edit}\nsubjects: [{kind: ServiceAccount, name: deployer}]\n",
    );
    let options = Options::new(Format::Auto);
    for _ in 0..2 {
        // The second import finds the placeholder the first made, and
        // still says the account is defined nowhere.
        let got = import_into(&store, &binding, &options).await.unwrap();
        assert!(
            got.unresolved("ci/deployer").starts_with(
                "binding.yaml:5: the RoleBinding deploy names the service account ci/deployer"
            ),
            "{:?}",
            got.findings
        );
    }
    let sa = write(
        dir.path(),
        "sa.yaml",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: deployer, namespace: ci}\n",
    );
    let got = import_into(&store, &sa, &options).await.unwrap();
    let deployer = got.identity("k8s:ci/deployer");
    assert_eq!(
        deployer.description,
        "Kubernetes service account ci/deployer."
    );
    assert_eq!(deployer.permissions, ["ClusterRole/edit in ci"], "kept");
    let got = import_into(&store, &binding, &options).await.unwrap();
    assert!(got.findings.is_clean(), "{:?}", got.findings);
}

#[tokio::test]
async fn a_name_an_owner_gave_is_not_replaced_by_a_made_up_one() {
    let (_dir, store) = store().await;
    let dir = tempfile::tempdir().unwrap();
    let k8s = write(
        dir.path(),
        "app.yaml",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: api, namespace: shop}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: shop}\nspec:\n  template:\n    spec: {serviceAccountName: api}\n",
    );
    let catalog = write(
        dir.path(),
        "catalog/c.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: cart}\nspec: {type: service, lifecycle: production, owner: team-a}\n",
    );
    let options = Options::new(Format::Auto);
    import_into(&store, &k8s, &options).await.unwrap();
    import_into(&store, &catalog, &options).await.unwrap();
    // The owner names them in Countersign.
    let mut edited = store.snapshot().await.unwrap();
    for i in &mut edited.identities {
        i.name = "Shop API (prod)".into();
    }
    for s in &mut edited.services {
        s.name = format!("{} — documented", s.id);
    }
    let current = store.snapshot().await.unwrap();
    let changes = countersign::inventory::ChangeSet::diff_into(&current, edited);
    store
        .apply(
            &changes,
            &countersign::store::ChangeContext::new("owner", "test"),
        )
        .await
        .unwrap();
    // Neither file gives a name (no title), so re-importing keeps them.
    for file in [&k8s, &catalog] {
        let report = import::import(&store, file, &options, Apply::Plan, "test", &())
            .await
            .unwrap();
        assert!(report.changes.is_empty(), "{:?}", report.changes);
    }
    let got = store.snapshot().await.unwrap();
    assert_eq!(got.identities[0].name, "Shop API (prod)");
    assert!(
        got.services
            .iter()
            .all(|s| s.name.ends_with("— documented"))
    );
    // A title is stated, so it is the name.
    std::fs::write(
        &catalog,
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: cart, title: Cart}\nspec: {type: service, lifecycle: production, owner: team-a}\n",
    )
    .unwrap();
    let got = import_into(&store, &catalog, &options).await.unwrap();
    assert_eq!(got.service("cart").name, "Cart");
}

#[tokio::test]
async fn a_component_and_a_workload_of_one_id_are_one_service_and_said_so() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "catalog.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: cart, namespace: shop, title: Cart}\nspec: {type: service, lifecycle: production, owner: team-a}\n",
    );
    write(
        dir.path(),
        "deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: cart, namespace: shop}\nspec:\n  template:\n    spec: {serviceAccountName: cart}\n",
    );
    let got = import(dir.path()).await;
    assert_eq!(got.inventory.services.len(), 1);
    assert_eq!(got.service("shop/cart").name, "Cart");
    let note: Vec<_> = got
        .findings
        .notes
        .iter()
        .filter(|n| n.message.contains("have one service id, shop/cart"))
        .collect();
    assert_eq!(note.len(), 1, "{:?}", got.findings.notes);
    assert!(note[0].file.ends_with("deploy.yaml") && note[0].line == Some(3));
    assert!(note[0].message.contains("catalog.yaml:3"), "{:?}", note[0]);
}

#[tokio::test]
async fn namespace_refuses_an_object_of_another_namespace_as_kubectl_apply_n_does() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "m.yaml",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: a\n  namespace: web\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: a}\nroleRef: {kind: ClusterRole, name: view}\nsubjects: [{kind: ServiceAccount, name: a, namespace: web}]\n",
    );
    let (_d, store) = store().await;
    let options = Options {
        namespace: Some("tools".into()),
        ..Options::new(Format::Auto)
    };
    let e = import_into(&store, &file, &options).await.err().unwrap();
    assert!(
        e.to_string().ends_with(
            "m.yaml:5: metadata.namespace: the ServiceAccount a is in its namespace web, not --namespace tools; `kubectl apply -n` refuses it too: import without --namespace, or with --namespace web"
        ),
        "{e}"
    );
    assert!(store.snapshot().await.unwrap().is_empty());
    // The namespace it names is accepted; a cluster-scoped binding has none.
    let options = Options {
        namespace: Some("web".into()),
        ..Options::new(Format::Auto)
    };
    import_into(&store, &file, &options).await.unwrap();

    // Refused beside a problem of another kind: both in one round.
    let bad = write(
        dir.path(),
        "more/bad.yaml",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: b\n  labels: [x]\n",
    );
    std::fs::copy(&file, dir.path().join("more/m.yaml")).unwrap();
    let options = Options {
        namespace: Some("tools".into()),
        ..Options::new(Format::Auto)
    };
    let text = refusals(bad.parent().unwrap(), &options).await;
    assert_eq!(text.len(), 2, "{text:#?}");
    assert!(
        text[0].ends_with("bad.yaml:5: metadata.labels: must be a mapping, not a list"),
        "{text:#?}"
    );
    assert!(
        text[1]
            .contains("m.yaml:5: metadata.namespace: the ServiceAccount a is in its namespace web"),
        "{text:#?}"
    );
}

#[tokio::test]
async fn a_group_grant_counts_accounts_read_after_the_binding() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "m.yaml",
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: all, namespace: jobs}\nroleRef: {kind: ClusterRole, name: view}\nsubjects: [{kind: Group, name: \"system:serviceaccounts:jobs\"}]\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a, namespace: jobs}\n---\napiVersion: batch/v1\nkind: Job\nmetadata: {name: nightly, namespace: jobs}\nspec:\n  template:\n    spec: {containers: []}\n",
    );
    let got = import(&file).await;
    // `a`, and `default`, which the Job read after the binding runs as.
    for id in ["k8s:jobs/a", "k8s:jobs/default"] {
        assert_eq!(
            got.identity(id).permissions,
            ["ClusterRole/view in jobs"],
            "{id}"
        );
    }
    assert!(
        got.findings.notes.iter().any(|n| n
            .message
            .ends_with("every service account in jobs this import or the inventory knows (2)")),
        "{:?}",
        got.findings.notes
    );
}

#[tokio::test]
async fn a_file_beside_a_kustomization_it_does_not_list_is_not_applied() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "kustomization.yaml",
        "namespace: tools\nresources: [sa.yaml]\n",
    );
    write(
        dir.path(),
        "sa.yaml",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: listed}\n",
    );
    write(
        dir.path(),
        "example-not-listed.yaml",
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: x}\nroleRef: {kind: ClusterRole, name: cluster-admin}\nsubjects: [{kind: ServiceAccount, name: listed, namespace: tools}]\n",
    );
    let got = import(dir.path()).await;
    assert!(
        got.identity("k8s:tools/listed").permissions.is_empty(),
        "not granted"
    );
    assert!(
        got.unresolved("not listed by the Kustomization")
            .starts_with("example-not-listed.yaml:0: not listed by the Kustomization"),
    );
}

#[tokio::test]
async fn an_empty_or_comment_only_file_is_noted_not_refused() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "empty.yaml", "");
    write(dir.path(), "comments.yaml", "# nothing yet\n---\n");
    write(
        dir.path(),
        "sa.yaml",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a, namespace: x}\n",
    );
    let got = import(dir.path()).await;
    got.identity("k8s:x/a");
    assert_eq!(
        got.findings
            .notes
            .iter()
            .filter(|n| n.message.starts_with("no document in it"))
            .count(),
        2
    );
}

#[tokio::test]
async fn bindings_reach_accounts_a_previous_import_stored() {
    let (_dir, store) = store().await;
    let dir = tempfile::tempdir().unwrap();
    let sa = write(
        dir.path(),
        "sa.yaml",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: builder, namespace: ci}\n---\napiVersion: batch/v1\nkind: Job\nmetadata: {name: build, namespace: ci}\nspec:\n  template:\n    spec: {serviceAccountName: builder}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: view, namespace: ci}\nroleRef: {kind: ClusterRole, name: view}\nsubjects: [{kind: ServiceAccount, name: builder}]\n",
    );
    import_into(&store, &sa, &Options::new(Format::Auto))
        .await
        .unwrap();
    let more = tempfile::tempdir().unwrap();
    let binding = write(
        more.path(),
        "admin.yaml",
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: builder-admin}\nroleRef: {kind: ClusterRole, name: cluster-admin}\nsubjects: [{kind: ServiceAccount, name: builder, namespace: ci}]\n",
    );
    let got = import_into(&store, &binding, &Options::new(Format::Auto))
        .await
        .unwrap();
    let builder = got.identity("k8s:ci/builder");
    assert_eq!(
        builder.permissions,
        ["ClusterRole/view in ci", "ClusterRole/cluster-admin"],
        "added to, never replaced"
    );
    assert_eq!(builder.used_by[0].access, Some(Access::Admin));
    assert!(got.findings.is_clean(), "{:?}", got.findings);
}

#[tokio::test]
async fn services_imported_under_todays_ids_keep_their_usages() {
    let carry_over = Options {
        carry_over_ids: true,
        ..Options::new(Format::Auto)
    };
    let (_dir, store) = store().await;
    let dir = tempfile::tempdir().unwrap();
    // An inventory as an earlier import left it: a Resource stored under
    // its bare name, with an identity using it and a service depending on it.
    let native = write(
        dir.path(),
        "inventory.yaml",
        "version: 1\nservices:\n  - {id: orders-db, name: orders-db, tier: 1}\n  - {id: checkout, name: checkout, tier: 1, depends_on: [orders-db]}\nidentities:\n  - id: db-password\n    kind: api_key\n    name: DB password\n    environment: production\n    tier: 1\n    used_by: [{service: orders-db, access: write}]\n",
    );
    import_into(&store, &native, &Options::new(Format::Auto))
        .await
        .unwrap();
    let catalog = tempfile::tempdir().unwrap();
    let file = write(
        catalog.path(),
        "catalog-info.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Resource\nmetadata: {name: orders-db, description: Orders}\nspec: {type: database, owner: team-x}\n---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: checkout}\nspec:\n  type: service\n  lifecycle: production\n  owner: team-x\n  dependsOn: [resource:orders-db]\n",
    );
    let got = import_into(&store, &file, &carry_over).await.unwrap();
    assert!(!got.inventory.services.iter().any(|s| s.id == "orders-db"));
    let db = got.service("resource:orders-db");
    assert_eq!((db.tier.get(), db.description.as_str()), (1, "Orders"));
    assert_eq!(got.service("checkout").depends_on, ["resource:orders-db"]);
    assert_eq!(
        got.identity("db-password").used_by[0].service,
        "resource:orders-db"
    );
    assert!(got.findings.notes.iter().any(|n| {
        n.message.contains(
            "the service orders-db (imported before service ids named the Backstage kind)",
        )
    }));
    // And a second import of the same catalog changes nothing.
    let report = import::import(&store, &file, &carry_over, Apply::Nothing, "t", &())
        .await
        .unwrap();
    assert!(report.changes.is_empty(), "{:?}", report.changes);
}

#[tokio::test]
async fn an_api_beside_a_stored_component_of_its_name_never_touches_it() {
    // The API and the Component of one name live in two repositories'
    // catalogs, imported one after the other: two services, nothing
    // removed, no edge to the wrong one.
    let (_dir, store) = store().await;
    let dir = tempfile::tempdir().unwrap();
    let component = write(
        dir.path(),
        "component.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: ledger}\nspec: {type: service, lifecycle: production, owner: team-x}\n---\napiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: team-x}\nspec: {type: team, children: []}\n",
    );
    let usage = write(
        dir.path(),
        "usage.yaml",
        "version: 1\nidentities:\n  - {id: sa-ledger, kind: api_key, name: Ledger key, environment: production, tier: 1, used_by: [{service: ledger}]}\n",
    );
    let options = Options::new(Format::Auto);
    import_into(&store, &component, &options).await.unwrap();
    import_into(&store, &usage, &options).await.unwrap();
    let more = tempfile::tempdir().unwrap();
    let api = write(
        more.path(),
        "api.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata: {name: ledger}\nspec: {type: openapi, lifecycle: production, owner: team-x, definition: x}\n---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: billing}\nspec:\n  type: service\n  lifecycle: production\n  owner: team-x\n  consumesApis: [ledger]\n  dependsOn: [resource:ledger]\n",
    );
    let got = import_into(&store, &api, &options).await.unwrap();
    assert_eq!(got.service("ledger").name, "ledger");
    assert_eq!(got.identity("sa-ledger").used_by[0].service, "ledger");
    assert_eq!(got.service("billing").depends_on, ["api:ledger"]);
    assert!(
        got.unresolved("resource:default/ledger")
            .contains("unknown Resource resource:default/ledger")
    );
    assert!(
        got.findings
            .notes
            .iter()
            .any(|n| n.message.contains("--carry-over-ids"))
    );
}

#[tokio::test]
async fn an_entity_whose_name_changes_case_stays_one() {
    let (_dir, store) = store().await;
    let dir = tempfile::tempdir().unwrap();
    let options = Options::new(Format::Auto);
    let first = write(
        dir.path(),
        "a.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Resource\nmetadata: {name: MetricsStore}\nspec: {type: database, owner: Team-Obs}\n---\napiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: Team-Obs}\nspec: {type: team, children: []}\n",
    );
    import_into(&store, &first, &options).await.unwrap();
    let again = tempfile::tempdir().unwrap();
    let second = write(
        again.path(),
        "b.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Resource\nmetadata: {name: metricsstore}\nspec: {type: database, owner: team-obs}\n---\napiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: team-obs}\nspec: {type: team, children: []}\n",
    );
    let got = import_into(&store, &second, &options).await.unwrap();
    let services: Vec<&str> = got
        .inventory
        .services
        .iter()
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(services, ["resource:MetricsStore"]);
    let owners: Vec<&str> = got.inventory.owners.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(owners, ["Team-Obs"]);
}

#[tokio::test]
async fn references_take_the_referrers_namespace_and_the_relations_default_kind() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "shop.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: cart, namespace: shop}\nspec:\n  type: service\n  lifecycle: production\n  owner: Team-Shop\n  system: store\n  consumesApis: [prices]\n  dependsOn: [Resource:cache]\n---\napiVersion: backstage.io/v1alpha1\nkind: API\nmetadata: {name: prices, namespace: shop}\nspec: {owner: team-shop, type: openapi, lifecycle: production, definition: x}\n---\napiVersion: backstage.io/v1alpha1\nkind: Resource\nmetadata: {name: cache, namespace: shop}\nspec: {owner: team-shop, type: cache}\n",
    );
    // Same names in default: never confused with the shop namespace's.
    write(
        dir.path(),
        "default.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Resource\nmetadata: {name: cache}\nspec: {owner: team-other, type: cache}\n---\napiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: team-shop, namespace: shop}\nspec: {type: team, children: []}\n---\napiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: team-other}\nspec: {type: team, children: []}\n---\napiVersion: backstage.io/v1alpha1\nkind: System\nmetadata: {name: store, namespace: shop}\nspec: {owner: team-shop}\n",
    );
    let got = import(dir.path()).await;
    let cart = got.service("shop/cart");
    assert_eq!(cart.depends_on, ["resource:shop/cache", "api:shop/prices"]);
    assert_eq!(cart.owner.as_deref(), Some("shop/team-shop"));
    assert_eq!(cart.system.as_deref(), Some("shop/store"));
    // Every reference resolves (the System is counted as skipped).
    assert!(got.findings.unresolved.is_empty(), "{:?}", got.findings);
    assert_eq!(got.skipped("System"), 1);
    // Without the System, the reference to it is said.
    let text = std::fs::read_to_string(dir.path().join("shop.yaml")).unwrap();
    let alone = write(dir.path(), "alone/shop.yaml", &text);
    let got = import(&alone).await;
    assert!(
        got.unresolved("unknown System system:shop/store")
            .starts_with("shop.yaml:"),
        "{:?}",
        got.findings
    );
}

#[tokio::test]
async fn each_document_is_read_by_its_api_version() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "mixed.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: api\n  labels: {team: x}\n  annotations: {backstage.io/kubernetes-id: api}\nspec: {type: service, lifecycle: production, owner: user:ann}\n---\napiVersion: backstage.io/v1alpha1\nkind: User\nmetadata: {name: ann}\nspec: {memberOf: []}\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: api, namespace: web}\n---\napiVersion: example.com/v1\nkind: Deployment\nmetadata: {name: not-apps}\nspec: {template: 5}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: d}\n---\nplain: document\n",
    );
    let got = import(&file).await;
    assert_eq!(got.service("api").owner.as_deref(), Some("ann"));
    got.identity("k8s:web/api");
    assert_eq!(
        got.skipped("Deployment (example.com/v1)"),
        1,
        "{:?}",
        got.findings.skipped
    );
    assert_eq!(got.skipped("ConfigMap"), 2);
    assert_eq!(got.skipped("(no apiVersion and kind)"), 1);
}

#[tokio::test]
async fn a_refused_import_lists_every_problem_with_its_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "a.yaml",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: X_1\n  annotations: {countersign.dev/tier: \"9\"}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: b, namespace: n, labels: [x]}\nsubjects:\n  - {kind: ServiceAccount}\n  - {kind: ServiceAccount, name: s, namespace: 7}\n",
    );
    write(
        dir.path(),
        "b.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: c}\nspec:\n  owner: [not, a, string]\n  lifecycle: 7\n  dependsOn: resource:db\n",
    );
    // Neither format can be told, and one does not parse: both listed.
    write(dir.path(), "c.yaml", "hello: world\n");
    write(
        dir.path(),
        "d.json",
        "{\"apiVersion\": \"v1\",\n  \"kind\": [\n",
    );
    let (_d, store) = store().await;
    let e = import_into(&store, dir.path(), &Options::new(Format::Auto))
        .await
        .err()
        .unwrap();
    let ImportError::Refused(problems) = &e else {
        panic!("{e}")
    };
    let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
    // c.yaml, of no format, is counted as skipped in a directory.
    assert_eq!(text.len(), 10, "{text:#?}");
    assert!(
        text[0].contains("a.yaml:4: metadata.name: \"X_1\" is not a DNS subdomain"),
        "{text:#?}"
    );
    let text = &text[1..];
    assert!(
        text[0].ends_with(
            "a.yaml:5: metadata.annotations[\"countersign.dev/tier\"]: tier must be 0, 1, 2 or 3"
        ) || text[0].contains("a.yaml:5: metadata.annotations"),
        "{text:#?}"
    );
    // Every problem of a Kubernetes object too: its metadata, its roleRef
    // and each subject.
    assert!(
        text[1].ends_with("a.yaml:9: metadata.labels: must be a mapping, not a list"),
        "{text:#?}"
    );
    assert!(
        text[2].contains("a.yaml:9: roleRef: a binding needs a roleRef"),
        "{text:#?}"
    );
    assert!(
        text[3].ends_with("a.yaml:11: subjects[0].name: required"),
        "{text:#?}"
    );
    assert!(
        text[4].contains("a.yaml:12: subjects[1].namespace: must be a string, not a number"),
        "{text:#?}"
    );
    // Every problem of one document, as Backstage's schema refuses it.
    assert!(
        text[5].contains("b.yaml:5: spec.owner: must be a string, not a list"),
        "{text:#?}"
    );
    assert!(
        text[6].ends_with(
            "b.yaml:6: spec.lifecycle: must be a string, not a number (write it in quotes)"
        ),
        "{text:#?}"
    );
    assert!(
        text[7].ends_with("b.yaml:7: spec.dependsOn: must be a list, not a string"),
        "{text:#?}"
    );
    assert!(
        text[8].ends_with("d.json:2:11: unclosed bracket '['"),
        "a syntax error at its line and column: {text:#?}"
    );
    assert!(store.snapshot().await.unwrap().is_empty());
    // Named on its own, a file of no format is refused.
    let e = import_into(
        &store,
        &dir.path().join("c.yaml"),
        &Options::new(Format::Auto),
    )
    .await
    .err()
    .unwrap();
    assert!(
        e.to_string().ends_with("c.yaml: cannot tell which format this is (not a Countersign inventory, Backstage catalog or Kubernetes manifest); pass --format"),
        "{e}"
    );
}

#[tokio::test]
async fn groups_of_accounts_are_granted_as_the_authorizer_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "m.yaml",
        "apiVersion: v1\nkind: List\nitems:\n  - {apiVersion: v1, kind: ServiceAccount, metadata: {name: a, namespace: jobs}}\n  - {apiVersion: v1, kind: ServiceAccount, metadata: {name: b, namespace: jobs}}\n  - {apiVersion: v1, kind: ServiceAccount, metadata: {name: c, namespace: web}}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: jobs-edit, namespace: jobs}\nroleRef: {kind: ClusterRole, name: edit}\nsubjects: [{kind: Group, name: \"system:serviceaccounts:jobs\", apiGroup: rbac.authorization.k8s.io}]\n",
    );
    let got = import(&file).await;
    assert_eq!(
        got.identity("k8s:jobs/a").permissions,
        ["ClusterRole/edit in jobs"]
    );
    assert_eq!(
        got.identity("k8s:jobs/b").permissions,
        ["ClusterRole/edit in jobs"]
    );
    assert!(got.identity("k8s:web/c").permissions.is_empty());
}

#[tokio::test]
async fn objects_a_controller_made_are_not_workloads_of_their_own() {
    // What `kubectl get all -o yaml` prints: the Deployment, and the
    // ReplicaSet and Pod it made, each owned by the one before.
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "all.yaml",
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: apps/v1\n  kind: Deployment\n  metadata: {name: web, namespace: shop}\n  spec: {template: {spec: {serviceAccountName: web}}}\n- apiVersion: apps/v1\n  kind: ReplicaSet\n  metadata:\n    name: web-7d9f\n    namespace: shop\n    ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: u1, controller: true}]\n  spec: {template: {spec: {serviceAccountName: web}}}\n- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: web-7d9f-x2x\n    namespace: shop\n    ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-7d9f, uid: u2, controller: true}]\n  spec: {serviceAccountName: web}\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: debug, namespace: shop}\n  spec: {serviceAccountName: web}\n",
    );
    let got = import(&file).await;
    let ids: Vec<&str> = got
        .inventory
        .services
        .iter()
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(ids, ["shop/debug", "shop/web"]);
    assert_eq!(got.skipped("ReplicaSet (made by a Deployment)"), 1);
    assert_eq!(got.skipped("Pod (made by a ReplicaSet)"), 1);
}

#[tokio::test]
async fn no_cap_on_documents_per_file() {
    // The YAML parser's default budget stops at 1,024 documents; a
    // manifest set has no such limit (bench/import-manifests runs 100,000).
    let dir = tempfile::tempdir().unwrap();
    let docs: Vec<String> = (0..3000)
        .map(|i| {
            format!(
                "apiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: a{i}, namespace: n}}\n"
            )
        })
        .collect();
    let file = write(dir.path(), "many.yaml", &docs.join("---\n"));
    let got = import(&file).await;
    assert_eq!(got.inventory.identities.len(), 3000);
}

#[test]
fn the_cli_prints_findings_and_strict_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("inv.db");
    let out = countersign(&db)
        .args(["import", "--json"])
        .arg(case("19-template-entity.yaml"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["findings"]["skipped"][0]["kind"], "Template");
    assert_eq!(report["findings"]["skipped"][0]["first"]["line"], 12);
    assert_eq!(report["findings"]["unresolved"][0]["line"], 9);

    let out = countersign(&db)
        .args(["import", "--dry-run"])
        .arg(case("08b-split-binding"))
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("2 file(s): 2 to create"), "{stdout}");

    let out = countersign(&db)
        .args(["import", "--strict"])
        .arg(case("11-token-secret-orphan.yaml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with("error: --strict: 1 finding(s), nothing was written:\n"),
        "{stderr}"
    );
    assert!(
        stderr.contains("11-token-secret-orphan.yaml:6: the token Secret"),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_user_and_a_group_of_one_name_in_separate_imports_stay_two_owners() {
    use countersign::model::OwnerKind;
    let (_dir, store) = store().await;
    let dir = tempfile::tempdir().unwrap();
    let users = write(
        dir.path(),
        "users.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: User\nmetadata: {name: alice}\nspec: {memberOf: []}\n---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: tool}\nspec: {type: service, lifecycle: production, owner: user:alice}\n",
    );
    let options = Options::new(Format::Auto);
    let got = import_into(&store, &users, &options).await.unwrap();
    assert_eq!(got.owner("alice").kind, OwnerKind::Person);
    assert_eq!(got.service("tool").owner.as_deref(), Some("alice"));

    // A Group named alice arrives later: the person moves to user:alice
    // with what it owns, and the team is a second owner.
    let groups = write(
        dir.path(),
        "groups.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: alice}\nspec: {type: team, children: []}\n---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: pay}\nspec: {type: service, lifecycle: production, owner: alice}\n",
    );
    let got = import_into(&store, &groups, &options).await.unwrap();
    assert_eq!(got.owner("alice").kind, OwnerKind::Team);
    assert_eq!(got.owner("user:alice").kind, OwnerKind::Person);
    assert_eq!(got.service("tool").owner.as_deref(), Some("user:alice"));
    assert_eq!(got.service("pay").owner.as_deref(), Some("alice"));
    assert!(
        got.note("the person is now user:alice")
            .starts_with("groups.yaml:3: the inventory holds a person alice"),
        "{:?}",
        got.findings
    );

    // And the User imported again is still that person, not the team.
    let got = import_into(&store, &users, &options).await.unwrap();
    assert_eq!(got.owner("alice").kind, OwnerKind::Team);
    assert_eq!(got.owner("user:alice").kind, OwnerKind::Person);
    assert_eq!(got.service("tool").owner.as_deref(), Some("user:alice"));
}

#[tokio::test]
async fn an_owner_reference_to_a_group_never_lands_on_a_user_of_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "catalog.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: User\nmetadata: {name: alice}\nspec: {memberOf: []}\n---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: tool}\nspec:\n  type: service\n  lifecycle: production\n  owner: alice\n",
    );
    let got = import(&path).await;
    assert_eq!(got.service("tool").owner, None);
    assert_eq!(
        got.unresolved("group:default/alice"),
        "catalog.yaml:12: spec.owner: unknown Group group:default/alice: it is neither in this import nor in the inventory, and the owner id alice is the User of that name, so no owner is kept; if the User is meant, write user:alice"
    );
}

#[tokio::test]
async fn a_stated_tier_on_an_existing_entry_is_said_and_a_placeholder_takes_it() {
    let (_dir, store) = store().await;
    let dir = tempfile::tempdir().unwrap();
    let options = Options::new(Format::Auto);
    // The binding makes a placeholder account with guessed values.
    let binding = write(
        dir.path(),
        "binding.yaml",
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: deploy, namespace: ci}\nroleRef: {kind: ClusterRole, name: edit}\nsubjects: [{kind: ServiceAccount, name: deployer}]\n",
    );
    let got = import_into(&store, &binding, &options).await.unwrap();
    assert_eq!(got.identity("k8s:ci/deployer").tier.get(), 2);
    // Its manifest states tier 0 and staging: the placeholder takes them.
    let sa = write(
        dir.path(),
        "sa.yaml",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: deployer\n  namespace: ci\n  annotations: {countersign.dev/tier: \"0\", countersign.dev/environment: staging}\n",
    );
    let got = import_into(&store, &sa, &options).await.unwrap();
    let deployer = got.identity("k8s:ci/deployer");
    assert_eq!(deployer.tier.get(), 0);
    assert_eq!(deployer.environment.to_string(), "staging");
    assert!(got.findings.notes.is_empty(), "{:?}", got.findings.notes);
    // A later manifest stating tier 1 does not overwrite it, and says so.
    let sa1 = write(
        dir.path(),
        "sa1.yaml",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: deployer\n  namespace: ci\n  annotations: {countersign.dev/tier: \"1\"}\n",
    );
    let got = import_into(&store, &sa1, &options).await.unwrap();
    assert_eq!(got.identity("k8s:ci/deployer").tier.get(), 0);
    assert!(
        got.note("so tier 0 stays")
            .starts_with("sa1.yaml:4: states tier 1 for k8s:ci/deployer"),
        "{:?}",
        got.findings.notes
    );
    // A Backstage annotation likewise.
    let c = write(
        dir.path(),
        "c.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: pay\n  annotations:\n    countersign.dev/tier: \"0\"\nspec: {type: service, lifecycle: production, owner: user:x}\n",
    );
    import_into(&store, &c, &options).await.unwrap();
    let c3 = write(
        dir.path(),
        "c3.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: pay\n  annotations:\n    countersign.dev/tier: \"3\"\nspec: {type: service, lifecycle: production, owner: user:x}\n",
    );
    let got = import_into(&store, &c3, &options).await.unwrap();
    assert_eq!(got.service("pay").tier.get(), 0);
    assert!(
        got.note("states tier 3 for the service pay")
            .starts_with("c3.yaml:6:"),
        "{:?}",
        got.findings.notes
    );
}

#[tokio::test]
async fn a_component_and_a_workload_in_the_default_namespaces_are_said_to_be_two() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "catalog-info.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: checkout}\nspec: {type: service, lifecycle: production, owner: user:x}\n",
    );
    write(
        dir.path(),
        "deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: checkout, namespace: default}\nspec:\n  template:\n    spec:\n      containers: [{name: c, image: x}]\n",
    );
    let got = import(dir.path()).await;
    got.service("checkout");
    got.service("default/checkout");
    assert!(
        got.note("imported as two services")
            .starts_with("deploy.yaml:3: this workload is the service default/checkout, and the Backstage entity at "),
        "{:?}",
        got.findings.notes
    );
}

#[tokio::test]
async fn an_entity_backstage_refuses_is_not_imported_and_each_reason_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let doc = |api: &str, kind: &str, name: &str, spec: &str| {
        format!("apiVersion: {api}\nkind: {kind}\nmetadata:\n  name: {name}\nspec:\n{spec}")
    };
    let full = "  type: service\n  lifecycle: production\n  owner: user:ann\n";
    let text = [
        doc("backstage.io/v1alpha1", "component", "lower", full),
        doc("backstage.io/v1", "Component", "v1", full),
        doc("acme.backstage.io/v1", "Component", "custom", full),
        doc("backstage.io/v1alpha1", "Component", "partial", "  type: service\n  owner: \"\"\n"),
        doc("backstage.io/v1alpha1", "API", "nodef", "  type: openapi\n  lifecycle: production\n  owner: user:ann\n"),
        doc("backstage.io/v1alpha2", "API", "mcp", "  type: mcp-server\n  lifecycle: production\n  owner: user:ann\n  remotes: [{type: sse, url: http://x}]\n"),
        doc("backstage.io/v1alpha1", "Group", "nochildren", "  type: team\n"),
        doc("backstage.io/v1alpha1", "User", "ann", "  memberOf: []\n"),
        doc("backstage.io/v1beta1", "Component", "\"bad name\"", full),
        doc("backstage.io/v1beta1", "Component", "ok", "  type: service\n  lifecycle: production\n  owner: user:ann\n  dependsOn: [component:lower]\n  consumesApis: [mcp]\n"),
    ]
    .join("---\n");
    let path = write(dir.path(), "catalog.yaml", &text);
    let got = import(&path).await;
    let ids: Vec<&str> = got
        .inventory
        .services
        .iter()
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(ids, ["api:mcp", "ok"]);
    assert_eq!(got.service("ok").depends_on, ["api:mcp"]);
    assert_eq!(
        got.unresolved("component lower is not"),
        "catalog.yaml:2: the component lower is not imported, as Backstage's catalog refuses it: kind: Backstage has no kind \"component\" (kinds are case-sensitive; did you mean Component?) (line 2)"
    );
    assert_eq!(
        got.unresolved("Component v1 is not"),
        "catalog.yaml:10: the Component v1 is not imported, as Backstage's catalog refuses it: apiVersion: Backstage reads a Component only as backstage.io/v1alpha1 or backstage.io/v1beta1, not \"backstage.io/v1\" (line 10)"
    );
    assert!(
        got.unresolved("Component custom is not")
            .contains("not \"acme.backstage.io/v1\"")
    );
    assert_eq!(
        got.unresolved("Component partial is not"),
        "catalog.yaml:32: the Component partial is not imported, as Backstage's catalog refuses it: spec.lifecycle: required (line 32); spec.owner: required (line 34)"
    );
    assert!(
        got.unresolved("API nodef is not")
            .ends_with("spec.definition: required (line 40)")
    );
    assert!(
        got.unresolved("Group nochildren is not")
            .ends_with("spec.children: required (line 59)")
    );
    assert!(
        got.unresolved("Component bad name is not")
            .contains("metadata.name: \"bad name\" is not a Backstage entity name"),
        "{:?}",
        got.findings
    );
    // The relation to a refused entity is as to any missing one.
    assert!(
        got.unresolved("unknown Component component:default/lower")
            .starts_with("catalog.yaml:")
    );
}

#[tokio::test]
async fn location_targets_expand_braces_as_backstages_glob_does() {
    let dir = tempfile::tempdir().unwrap();
    let component = |name: &str| {
        format!(
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {{name: {name}}}\nspec: {{type: service, lifecycle: production, owner: user:ann}}\n"
        )
    };
    write(dir.path(), "teams/a/one.yaml", &component("one"));
    write(dir.path(), "teams/b/two.yaml", &component("two"));
    write(dir.path(), "teams/c/three.yaml", &component("three"));
    let root = write(
        dir.path(),
        "catalog-info.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata: {name: teams}\nspec:\n  type: file\n  targets: [\"./teams/{a,b}/*.yaml\", \"./teams/{a,z}/one.yaml\"]\n---\napiVersion: backstage.io/v1alpha1\nkind: User\nmetadata: {name: ann}\nspec: {memberOf: []}\n",
    );
    let got = import(&root).await;
    let ids: Vec<&str> = got
        .inventory
        .services
        .iter()
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(ids, ["one", "two"], "{:?}", got.findings);
    assert!(got.findings.is_clean(), "{:?}", got.findings);
}

#[tokio::test]
async fn an_overlay_applies_what_its_base_lists_not_every_file_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    let sa =
        |name: &str| format!("apiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: {name}}}\n");
    write(
        dir.path(),
        "base/kustomization.yaml",
        "resources: [sa.yaml]\n",
    );
    write(dir.path(), "base/sa.yaml", &sa("invoicer"));
    write(dir.path(), "base/unused-old-sa.yaml", &sa("invoicer-v0"));
    write(
        dir.path(),
        "overlays/prod/kustomization.yaml",
        "namespace: billing\nresources: [../../base]\n",
    );
    // A directory without a kustomization.yaml is refused by kustomize.
    write(dir.path(), "overlays/prod/extra/sa.yaml", &sa("extra"));
    write(
        dir.path(),
        "overlays/dev/kustomization.yaml",
        "namespace: billing-dev\nresources: [../../base, ../prod/extra]\n",
    );
    let got = import(dir.path()).await;
    let ids: Vec<&str> = got
        .inventory
        .identities
        .iter()
        .map(|i| i.id.as_str())
        .collect();
    assert_eq!(ids, ["k8s:billing-dev/invoicer", "k8s:billing/invoicer"]);
    assert!(
        got.findings
            .unresolved
            .iter()
            .any(|f| f.file.ends_with("base/unused-old-sa.yaml")
                && f.message.contains("not listed by the Kustomization")),
        "{:?}",
        got.findings
    );
    assert!(
        got.unresolved("without a kustomization.yaml")
            .starts_with("kustomization.yaml:2: resource ../prod/extra is a directory without a kustomization.yaml"),
        "{:?}",
        got.findings
    );
}

#[tokio::test]
async fn a_kustomization_in_a_file_of_another_name_does_not_claim_its_directory() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "kustomization.example.yaml",
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [a.yaml]\n",
    );
    write(
        dir.path(),
        "a.yaml",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a}\n",
    );
    write(
        dir.path(),
        "b.yaml",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: b}\n",
    );
    let got = import(dir.path()).await;
    got.identity("k8s:default/a");
    got.identity("k8s:default/b");
    assert!(got.findings.unresolved.is_empty(), "{:?}", got.findings);
}

#[tokio::test]
async fn a_kustomization_namespace_moves_subjects_named_default_as_kustomize_does() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "base/kustomization.yaml",
        "resources: [rbac.yaml, sa.yaml]\n",
    );
    write(
        dir.path(),
        "base/rbac.yaml",
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: agent-view}\nroleRef: {kind: ClusterRole, name: view}\nsubjects:\n  - {kind: ServiceAccount, name: agent, namespace: default}\n  - {kind: ServiceAccount, name: default, namespace: default}\n  - {kind: ServiceAccount, name: other, namespace: default}\n",
    );
    write(
        dir.path(),
        "base/sa.yaml",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: agent}\n",
    );
    write(
        dir.path(),
        "overlay/kustomization.yaml",
        "namespace: agents\nresources: [../base]\n",
    );
    let got = import(dir.path()).await;
    assert_eq!(
        got.identity("k8s:agents/agent").permissions,
        ["ClusterRole/view"]
    );
    assert_eq!(
        got.identity("k8s:agents/default").permissions,
        ["ClusterRole/view"]
    );
    // A subject of another name stays where it was written.
    assert_eq!(
        got.identity("k8s:default/other").permissions,
        ["ClusterRole/view"]
    );
    assert!(
        got.inventory
            .identities
            .iter()
            .all(|i| i.id != "k8s:default/default"),
        "{:?}",
        got.inventory.identities
    );
    assert!(
        got.note("agents/default, the account")
            .contains("the ClusterRoleBinding agent-view grants to agents/default"),
        "{:?}",
        got.findings.notes
    );
}

#[tokio::test]
async fn an_unknown_field_is_reported_with_the_field_meant() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "m.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: pay}\nspec:\n  template:\n    spec:\n      serviceAcountName: api\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: b, namespace: pay}\nroleRef: {kind: ClusterRole, name: view}\nsubject:\n  - {kind: ServiceAccount, name: api}\n",
    );
    let got = import(&file).await;
    assert_eq!(
        got.unresolved("serviceAcountName"),
        "m.yaml:7: the Deployment api: pod spec: unknown field serviceAcountName (did you mean serviceAccountName?); `kubectl apply` refuses an object with a field its type does not have, and this import does not read it"
    );
    assert!(
        got.unresolved("unknown field subject ").starts_with(
            "m.yaml:13: the RoleBinding b: unknown field subject (did you mean subjects?)"
        ),
        "{:?}",
        got.findings
    );
    let refused = strict(&file).await;
    assert!(refused.contains("serviceAcountName"), "{refused}");
}

#[tokio::test]
async fn names_and_labels_the_source_systems_refuse_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "m.yaml",
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: b, namespace: data}\nroleRef: {kind: ClusterRole, name: view}\nsubjects:\n  - {kind: ServiceAccount, name: Etl_Runner}\n---\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: etl\n  namespace: data\n  labels: {team: Data Platform}\nspec:\n  template:\n    spec: {serviceAccountName: \"etl runner\"}\n",
    );
    let text = refusals(dir.path(), &Options::new(Format::Auto)).await;
    assert_eq!(text.len(), 3, "{text:#?}");
    assert!(
        text[0].contains("m.yaml:6: subjects[0].name: \"Etl_Runner\" is not a DNS subdomain"),
        "{text:#?}"
    );
    assert!(
        text[1].contains(
            "m.yaml:13: metadata.labels[\"team\"]: \"Data Platform\" is not a valid label value"
        ),
        "{text:#?}"
    );
    assert!(
        text[2].contains(
            "m.yaml:16: pod spec.serviceAccountName: \"etl runner\" is not a DNS subdomain"
        ),
        "{text:#?}"
    );
    // Backstage: tags, label and annotation keys, fields at the root.
    let catalog = write(
        dir.path(),
        "c/catalog-info.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: a\n  tags: [Java]\n  annotations: {\"countersign.dev/tier \": \"0\"}\nowner: x\nspec: {type: service, lifecycle: production, owner: user:x}\n",
    );
    let got = import(&catalog).await;
    assert!(got.inventory.services.is_empty());
    let reason = got.unresolved("Component a is not imported");
    assert!(
        reason.contains("metadata.tags[0]: \"Java\" is not a Backstage tag"),
        "{reason}"
    );
    assert!(
        reason.contains("metadata.annotations: \"countersign.dev/tier \" is not a valid key"),
        "{reason}"
    );
    assert!(
        reason.contains("owner: not a field of an entity"),
        "{reason}"
    );
}

#[tokio::test]
async fn a_json_patch_a_kustomization_names_is_its_input_not_a_problem() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "kustomization.yaml",
        "resources: [sa.yaml]\npatches:\n  - path: use-other-sa.yaml\n    target: {kind: Deployment, name: api}\n",
    );
    write(
        dir.path(),
        "sa.yaml",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a}\n",
    );
    write(
        dir.path(),
        "use-other-sa.yaml",
        "- op: replace\n  path: /spec/template/spec/serviceAccountName\n  value: other\n",
    );
    let got = import(dir.path()).await;
    got.identity("k8s:default/a");
    assert!(
        got.note("read as a patch or input")
            .starts_with("use-other-sa.yaml:0: read as a patch or input of the Kustomization at "),
        "{:?}",
        got.findings.notes
    );
    // Beside the Kustomization but not listed: `kubectl apply -k` never
    // reads it, so it is noted, not refused.
    write(dir.path(), "stray/notes.yaml", "- op: replace\n");
    let got = import(dir.path()).await;
    assert!(
        got.note("could not be read either")
            .starts_with("notes.yaml:0: not listed by the Kustomization"),
        "{:?}",
        got.findings.notes
    );
    // Anywhere else, in a directory it is skipped and counted; named on
    // its own, refused.
    let other = tempfile::tempdir().unwrap();
    let stray = write(other.path(), "stray/notes.yaml", "- op: replace\n");
    write(other.path(), "mkdocs.yml", "site_name: docs\nnav: []\n");
    let got = import(other.path()).await;
    assert_eq!(
        got.skipped("file of no format Countersign reads"),
        2,
        "{:?}",
        got.findings
    );
    let (_d, store) = store().await;
    let e = import_into(&store, &stray, &Options::new(Format::Auto))
        .await
        .err()
        .unwrap();
    assert!(
        e.to_string()
            .contains("stray/notes.yaml: cannot tell which format"),
        "{e}"
    );
}

#[tokio::test]
async fn a_kubernetes_owner_is_checked_against_the_owners_known() {
    let (_dir, store) = store().await;
    let dir = tempfile::tempdir().unwrap();
    let options = Options::new(Format::Auto);
    let teams = write(
        dir.path(),
        "teams/catalog-info.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: team-payments}\nspec: {type: team, children: []}\n",
    );
    import_into(&store, &teams, &options).await.unwrap();
    let sa = write(
        dir.path(),
        "k/sa.yaml",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: a\n  annotations: {countersign.dev/owner: team-paymnets}\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: b\n  annotations: {countersign.dev/owner: \"group:default/team-payments\"}\n",
    );
    let got = import_into(&store, &sa, &options).await.unwrap();
    assert_eq!(
        got.identity("k8s:default/a").owner.as_deref(),
        Some("team-paymnets")
    );
    assert!(
        got.unresolved("team-paymnets")
            .starts_with("sa.yaml:4: the ServiceAccount a: owner team-paymnets is neither in this import nor in the inventory"),
        "{:?}",
        got.findings
    );
    assert_eq!(
        got.identity("k8s:default/b").owner.as_deref(),
        Some("team-payments")
    );
    assert!(
        got.note("Backstage reference").starts_with("sa.yaml:10:"),
        "{:?}",
        got.findings.notes
    );
}

#[tokio::test]
async fn a_changed_lifecycle_is_noted_when_the_stored_tier_stays() {
    let (_dir, store) = store().await;
    let dir = tempfile::tempdir().unwrap();
    let options = Options::new(Format::Auto);
    let component = |lifecycle: &str| {
        format!(
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {{name: idx}}\nspec:\n  type: service\n  lifecycle: {lifecycle}\n  owner: user:x\n"
        )
    };
    let v1 = write(dir.path(), "v1/c.yaml", &component("experimental"));
    import_into(&store, &v1, &options).await.unwrap();
    let v2 = write(dir.path(), "v2/c.yaml", &component("production"));
    let got = import_into(&store, &v2, &options).await.unwrap();
    assert_eq!(got.service("idx").tier.get(), 3);
    assert!(
        got.note("states tier 1 for the service idx")
            .starts_with("c.yaml:6:"),
        "{:?}",
        got.findings.notes
    );
}

#[tokio::test]
async fn a_depends_on_without_a_kind_fails_the_entity_and_every_bad_annotation_is_listed() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = write(
        dir.path(),
        "c/catalog-info.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: search}\nspec:\n  type: service\n  lifecycle: production\n  owner: user:x\n  dependsOn: [search-index, resource:db]\n",
    );
    let got = import(&catalog).await;
    assert!(got.inventory.services.is_empty());
    assert!(
        got.unresolved("Component search is not imported").contains(
            "spec.dependsOn[0]: search-index names no kind, which Backstage requires here"
        ),
        "{:?}",
        got.findings
    );
    let sa = write(
        dir.path(),
        "k/sa.yaml",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: a\n  annotations:\n    countersign.dev/tier: \"9\"\n    countersign.dev/environment: prod\n",
    );
    let problems = refusals(&sa, &Options::new(Format::Auto)).await;
    assert_eq!(problems.len(), 2, "{problems:#?}");
}

#[tokio::test]
async fn typos_above_the_pod_spec_are_reported_and_namespace_flag_keeps_subjects_moving() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "t.yaml",
        "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: cj, namespace: n}\nspec:\n  schedule: \"* * * * *\"\n  jobTemplates:\n    spec:\n      template:\n        spec: {serviceAccountName: runner}\n",
    );
    let got = import(&file).await;
    assert!(
        got.unresolved("jobTemplates").starts_with(
            "t.yaml:6: the CronJob cj: spec: unknown field jobTemplates (did you mean jobTemplate?)"
        ),
        "{:?}",
        got.findings
    );
    // With -n naming the Kustomization's own namespace, a subject written
    // in `default` still follows the account kustomize moved.
    write(
        dir.path(),
        "k/base/kustomization.yaml",
        "resources: [rbac.yaml, sa.yaml]\n",
    );
    write(
        dir.path(),
        "k/base/rbac.yaml",
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: v}\nroleRef: {kind: ClusterRole, name: view}\nsubjects: [{kind: ServiceAccount, name: agent, namespace: default}]\n",
    );
    write(
        dir.path(),
        "k/base/sa.yaml",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: agent}\n",
    );
    write(
        dir.path(),
        "k/overlay/kustomization.yaml",
        "namespace: agents\nresources: [../base]\n",
    );
    let (_d, store) = store().await;
    let options = Options {
        namespace: Some("agents".into()),
        ..Options::new(Format::Auto)
    };
    let got = import_into(&store, &dir.path().join("k"), &options)
        .await
        .unwrap();
    assert_eq!(
        got.identity("k8s:agents/agent").permissions,
        ["ClusterRole/view"]
    );
    assert_eq!(
        got.inventory.identities.len(),
        1,
        "{:?}",
        got.inventory.identities
    );
}

#[tokio::test]
async fn generator_files_a_capital_kustomization_and_api_descriptions_are_read_as_their_tools_read_them()
 {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "app/kustomization.yaml",
        "namespace: gen\nresources: [sa.yaml]\nconfigMapGenerator:\n  - name: settings\n    files: [conf=settings.json]\nsecretGenerator:\n  - name: creds\n    envs: [creds.env.yaml]\n",
    );
    write(
        dir.path(),
        "app/sa.yaml",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a}\n",
    );
    write(dir.path(), "app/settings.json", "{\"retries\": 3}\n");
    write(dir.path(), "app/creds.env.yaml", "not: [valid\n");
    // kustomize's third entry file name, without an extension.
    write(
        dir.path(),
        "cap/Kustomization",
        "resources: [b.yaml]\nnamespace: capped\n",
    );
    write(
        dir.path(),
        "cap/b.yaml",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: b}\n",
    );
    write(
        dir.path(),
        "apis/openapi.yaml",
        "openapi: 3.0.0\ninfo:\n  title: Payments\n  version: 1.0.0\npaths: {}\n",
    );
    let got = import(dir.path()).await;
    got.identity("k8s:gen/a");
    got.identity("k8s:capped/b");
    assert_eq!(
        got.inventory.identities.len(),
        2,
        "{:?}",
        got.inventory.identities
    );
    for file in ["settings.json", "creds.env.yaml"] {
        assert!(
            got.findings.notes.iter().any(
                |n| n.file.ends_with(file) && n.message.starts_with("read as a patch or input")
            ),
            "{file}: {:?}",
            got.findings.notes
        );
    }
    assert!(
        got.note("an API description")
            .starts_with("openapi.yaml:0:")
    );
    assert!(got.findings.unresolved.is_empty(), "{:?}", got.findings);
}

#[tokio::test]
async fn an_owner_reference_on_a_kubernetes_object_keeps_its_kind() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "org.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: User\nmetadata: {name: oncall}\nspec: {memberOf: []}\n",
    );
    write(
        dir.path(),
        "sa.yaml",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: e\n  annotations: {countersign.dev/owner: \"group:default/oncall\"}\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: f\n  annotations: {countersign.dev/owner: \"user:oncall\"}\n",
    );
    let got = import(dir.path()).await;
    // group:default/oncall is no Group: never the person oncall.
    assert_ne!(
        got.identity("k8s:default/e").owner.as_deref(),
        Some("oncall")
    );
    assert!(
        got.unresolved("group:default/oncall")
            .contains("neither in this import nor in the inventory")
    );
    assert_eq!(
        got.identity("k8s:default/f").owner.as_deref(),
        Some("oncall")
    );
}

#[tokio::test]
async fn what_kustomize_refuses_outright_is_reported_and_other_tools_files_skipped() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "a/kustomization.yaml",
        "namespace: na\nresources: [../b]\n",
    );
    write(
        dir.path(),
        "b/kustomization.yaml",
        "namespace: nb\nresources: [../a, s.yaml]\n",
    );
    write(
        dir.path(),
        "b/s.yaml",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: s}\n",
    );
    write(dir.path(), "c/kustomization.yaml", "resources: [t.yaml]\n");
    write(dir.path(), "c/Kustomization", "resources: [t.yaml]\n");
    write(
        dir.path(),
        "c/t.yaml",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: t}\n",
    );
    write(
        dir.path(),
        "docker-compose.yml",
        "version: \"3\"\nservices:\n  web: {image: nginx}\n",
    );
    let got = import(dir.path()).await;
    assert!(
        got.findings
            .unresolved
            .iter()
            .any(|f| f.file.ends_with("a/kustomization.yaml")
                && f.message.contains("(a cycle), which kustomize refuses")),
        "{:?}",
        got.findings
    );
    assert!(
        got.findings.unresolved.iter().any(|f| f
            .message
            .starts_with("a second kustomization file in one directory")),
        "{:?}",
        got.findings
    );
    assert_eq!(
        got.skipped("file of no format Countersign reads"),
        1,
        "{:?}",
        got.findings
    );
}
