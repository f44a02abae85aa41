//! What in the inventory needs an owner's attention, computed on the
//! store's current inventory with the threshold its settings hold.

use super::{Store, StoreError};

impl Store {
    /// Everything in the inventory that needs an owner's attention today.
    pub async fn attention(&self) -> Result<Vec<crate::attention::Finding>, StoreError> {
        let inv = self.snapshot().await?;
        let today = jiff::ZonedDateTime::now().date();
        Ok(crate::attention::findings(
            &inv,
            today,
            self.review_stale_days().await?,
        ))
    }
}
