//! What in the inventory needs an owner's attention, computed on the
//! store's current inventory with the thresholds its settings hold.

use super::{Store, StoreError};
use crate::attention::{CampaignFacts, ChangesNeeded, Finding, OverdueItem, Query, Report, Scan};

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
        let mut scan = Scan::new(today, self.attention_thresholds().await?, query)
            .with_observed(
                std::sync::Arc::new(self.observed_index().await?),
                self.observed_stale_days().await?,
            )
            .with_campaigns(std::sync::Arc::new(self.campaign_facts(today).await?));
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
            )
            .with_campaigns(std::sync::Arc::new(self.campaign_facts(today).await?));
        let part = self.entities(&[], services, identities).await?;
        for s in &part.services {
            scan.service(s);
        }
        for i in &part.identities {
            scan.identity(i);
        }
        Ok(scan.finish().findings)
    }

    /// What review campaigns say of identities on `today`: items waiting
    /// past their campaign's due date, and each identity's latest
    /// attestation when it says changes are needed.
    pub async fn campaign_facts(
        &self,
        today: jiff::civil::Date,
    ) -> Result<CampaignFacts, StoreError> {
        let mut facts = CampaignFacts::default();
        // Each identity's latest attestation, whatever its verdict: a
        // later confirmation supersedes an earlier "changes needed".
        let mut latest: std::collections::HashMap<String, (String, super::CampaignItem)> =
            Default::default();
        // When each campaign started, read with it (for the overdue items
        // a later attestation supersedes, below).
        let mut started: std::collections::HashMap<String, Option<jiff::Timestamp>> =
            Default::default();
        for c in self.campaigns().await? {
            let Some((campaign, items)) = self.campaign(&c.id).await? else {
                continue;
            };
            started.insert(campaign.id.clone(), campaign.started_at.parse().ok());
            // A closed campaign's pending items are no longer due.
            let due = campaign
                .due_on
                .parse::<jiff::civil::Date>()
                .ok()
                .filter(|_| campaign.closed.is_none());
            for item in items {
                if item.attested_at.is_none() {
                    if let Some(due) = due.filter(|d| *d < today) {
                        facts
                            .overdue
                            .entry(item.identity.clone())
                            .or_default()
                            .push(OverdueItem {
                                campaign: campaign.id.clone(),
                                due_on: due,
                                reviewer: item.reviewer.clone(),
                            });
                    }
                    continue;
                }
                let at = |i: &super::CampaignItem| {
                    i.attested_at
                        .as_deref()
                        .and_then(|t| t.parse::<jiff::Timestamp>().ok())
                };
                let newer = latest
                    .get(&item.identity)
                    .is_none_or(|(_, l)| at(l) < at(&item));
                if newer {
                    latest.insert(item.identity.clone(), (campaign.id.clone(), item));
                }
            }
        }
        // An identity attested in any campaign after an overdue one started
        // has been reviewed since: that campaign's item is not overdue.
        facts.overdue.retain(|identity, items| {
            let last = latest.get(identity).and_then(|(_, l)| {
                l.attested_at
                    .as_deref()
                    .and_then(|t| t.parse::<jiff::Timestamp>().ok())
            });
            items.retain(|o| {
                let since = started.get(&o.campaign).copied().flatten();
                !matches!((last, since), (Some(last), Some(since)) if last > since)
            });
            !items.is_empty()
        });
        for (identity, (campaign, item)) in latest {
            if item.verdict.as_deref() != Some("changes_needed") {
                continue;
            }
            let answered_no = item
                .answers
                .as_ref()
                .and_then(|a| a.as_object())
                .map(|a| {
                    a.iter()
                        .filter(|(_, v)| v.as_bool() == Some(false))
                        .map(|(k, _)| k.clone())
                        .collect()
                })
                .unwrap_or_default();
            facts.changes_needed.insert(
                identity,
                ChangesNeeded {
                    campaign,
                    attested_by: item.attested_by.unwrap_or_default(),
                    attested_at: item.attested_at.unwrap_or_default(),
                    answered_no,
                    comment: item.comment,
                    record: item.record.unwrap_or_default(),
                },
            );
        }
        Ok(facts)
    }
}
