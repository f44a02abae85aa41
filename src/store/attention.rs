//! What in the inventory needs an owner's attention, computed on the
//! store's current inventory with the thresholds its settings hold.

use super::{Store, StoreError};
use crate::attention::{Finding, Query, Report, Scan};

impl Store {
    /// Everything in the inventory that needs an owner's attention today.
    pub async fn attention(&self) -> Result<Vec<Finding>, StoreError> {
        Ok(self.attention_report(Query::default()).await?.findings)
    }

    /// Every rule's count and the findings `query` asks for (a page of
    /// each severity, for the app), checked while the inventory is read in
    /// batches: what is held is one batch and the page, never the whole
    /// inventory or every finding.
    pub async fn attention_report(&self, query: Query) -> Result<Report, StoreError> {
        let today = jiff::ZonedDateTime::now().date();
        let mut scan = Scan::new(today, self.attention_thresholds().await?, query).with_observed(
            std::sync::Arc::new(self.observed_index().await?),
            self.observed_stale_days().await?,
        );
        let services: Vec<(String, String, Option<String>)> =
            sqlx::query_as("SELECT id, name, owner FROM services")
                .fetch_all(&self.pool().await)
                .await
                .map_err(|e| self.query_error(e))?;
        // Each service's documented dependencies, for the observed-usage
        // rules (only read when tracing was imported).
        let mut dependencies: std::collections::HashMap<String, Vec<String>> = Default::default();
        if scan.checks_observed() {
            let rows: Vec<(String, String)> =
                sqlx::query_as("SELECT service_id, depends_on FROM service_dependencies")
                    .fetch_all(&self.pool().await)
                    .await
                    .map_err(|e| self.query_error(e))?;
            for (s, d) in rows {
                dependencies.entry(s).or_default().push(d);
            }
        }
        for (id, name, owner) in &services {
            scan.service_row(id, name, owner.as_deref());
            if scan.checks_observed() {
                let deps: Vec<&str> = dependencies
                    .get(id)
                    .map(|d| d.iter().map(String::as_str).collect())
                    .unwrap_or_default();
                scan.service_dependencies(id, name, &deps);
            }
        }
        drop(services);
        self.identities_in_batches(super::read::IDENTITY_BATCH, |batch| {
            for i in &batch {
                scan.identity(i);
            }
            Ok(())
        })
        .await?;
        Ok(scan.finish())
    }

    /// The findings about these identities and services alone, read by
    /// primary key (what a request's view shows beside its blast radius).
    pub async fn attention_on(
        &self,
        identities: &[String],
        services: &[String],
    ) -> Result<Vec<Finding>, StoreError> {
        let today = jiff::ZonedDateTime::now().date();
        let mut scan = Scan::new(today, self.attention_thresholds().await?, Query::default())
            .with_observed(
                std::sync::Arc::new(self.observed_index().await?),
                self.observed_stale_days().await?,
            );
        let part = self.entities(&[], services, identities).await?;
        for s in &part.services {
            scan.service(s);
        }
        for i in &part.identities {
            scan.identity(i);
        }
        Ok(scan.finish().findings)
    }
}
