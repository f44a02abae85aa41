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
        let mut scan = Scan::new(today, self.attention_thresholds().await?, query);
        let services: Vec<(String, String, Option<String>)> =
            sqlx::query_as("SELECT id, name, owner FROM services")
                .fetch_all(&self.pool().await)
                .await
                .map_err(|e| self.query_error(e))?;
        for (id, name, owner) in &services {
            scan.service_row(id, name, owner.as_deref());
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
        let mut scan = Scan::new(today, self.attention_thresholds().await?, Query::default());
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
