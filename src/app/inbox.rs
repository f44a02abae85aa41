//! The owner's inbox: the requests the backend offers for a decision,
//! each beside the decision signed here, and how many still await one.
//! Kept here, under both the desktop and the CLI, so the list and its
//! count are computed once.

use std::collections::HashSet;

use serde::{Serialize, Serializer};

use crate::store::DecisionRow;

/// A request exactly as the backend sent it. The JSON is kept whole: a
/// decision signs its digest (`request_digest`), so nothing is re-encoded.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    id: String,
    raw: serde_json::Value,
}

impl Received {
    /// `None` when the JSON has no string `id`: such a request cannot be
    /// decided, named or listed.
    pub fn from_json(raw: serde_json::Value) -> Option<Self> {
        let id = raw.get("id")?.as_str()?.to_owned();
        Some(Received { id, raw })
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// The JSON as the backend sent it.
    pub fn raw(&self) -> &serde_json::Value {
        &self.raw
    }

    /// A desktop notification's title and body for a new request, from
    /// what the backend sent (`?` where a field is missing: a notification
    /// is a nudge, the request view shows the request).
    pub fn announcement(&self) -> (String, String) {
        let text = |path: &[&str]| {
            path.iter()
                .try_fold(&self.raw, |v, p| v.get(*p))
                .and_then(serde_json::Value::as_str)
                .unwrap_or("?")
                .to_owned()
        };
        let target = self.raw["target"]["display_name"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| text(&["target", "external_id"]));
        let title = format!(
            "Approval needed: {} on {target}",
            text(&["action"]).replace('_', " ")
        );
        let body = format!(
            "{} severity · {} · requested by {}",
            text(&["severity"]),
            text(&["evidence", "signal"]).replace('_', " "),
            text(&["requested_by", "id"])
        );
        (title, body)
    }
}

/// Serialised as the backend's JSON, unchanged.
impl Serialize for Received {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.raw.serialize(s)
    }
}

/// One line of the inbox.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct InboxItem {
    /// Typed for the window as the request it is; sent as received.
    #[ts(as = "crate::approval::ContainmentRequest")]
    pub request: Received,
    /// Your decision on it, if you gave one, and its delivery state.
    pub decision: Option<DecisionRow>,
}

/// The inbox as an owner sees it: the requests the backend offers, each
/// with the decision signed here (if any), then the requests decided here
/// that the backend no longer offers, newest first and at most
/// `max_decided` of them (they stay listed with their delivery state).
/// `decisions` is newest first, as the store lists them. Decisions given
/// in a drill are listed only while that drill (`drill_run`) runs.
pub fn items(
    offered: &[Received],
    decisions: &[DecisionRow],
    max_decided: usize,
    drill_run: Option<&str>,
) -> Vec<InboxItem> {
    let mut items: Vec<InboxItem> = offered
        .iter()
        .map(|r| InboxItem {
            request: r.clone(),
            decision: decisions.iter().find(|d| d.request_id == r.id).cloned(),
        })
        .collect();
    let mut shown: HashSet<String> = offered.iter().map(|r| r.id.clone()).collect();
    // A rehearsal's decisions are listed only while its drill runs; after
    // it they live in the drill's report, not among real work.
    let decided = decisions
        .iter()
        .filter(|d| d.drill_run.is_none() || d.drill_run.as_deref() == drill_run);
    for d in decided.take(max_decided) {
        if shown.insert(d.request_id.clone())
            && let Some(request) = serde_json::from_str(&d.request_json)
                .ok()
                .and_then(Received::from_json)
        {
            items.push(InboxItem {
                request,
                decision: Some(d.clone()),
            });
        }
    }
    items
}

/// How many offered requests await your decision: those you have not
/// decided. The window title, the tray and the inbox all show this count.
pub fn awaiting(offered: &[Received], decisions: &[DecisionRow]) -> usize {
    let decided: HashSet<&str> = decisions.iter().map(|d| d.request_id.as_str()).collect();
    offered
        .iter()
        .filter(|r| !decided.contains(r.id.as_str()))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(id: &str) -> Received {
        Received::from_json(serde_json::json!({"id": id, "action": "rotate_secret"})).unwrap()
    }

    fn decided(id: &str) -> DecisionRow {
        DecisionRow {
            jti: format!("jti-{id}"),
            request_id: id.to_owned(),
            request_json: serde_json::json!({"id": id}).to_string(),
            decision: "deny".into(),
            approver: "alice".into(),
            jws: String::new(),
            created_at: String::new(),
            drill_run: None,
            destination: None,
            attempts: None,
            delivered_at: None,
            last_error: None,
            receipt: None,
            receipt_reason: None,
        }
    }

    #[test]
    fn a_drills_decisions_are_listed_only_while_it_runs() {
        let real = decided("req-real");
        let rehearsed = DecisionRow {
            drill_run: Some("drill-1".into()),
            ..decided("drill-1-kafka")
        };
        let earlier = DecisionRow {
            drill_run: Some("drill-0".into()),
            ..decided("drill-0-kafka")
        };
        let decisions = [rehearsed, real, earlier];
        let ids = |drill| -> Vec<String> {
            items(&[], &decisions, 10, drill)
                .into_iter()
                .map(|i| i.request.id)
                .collect()
        };
        assert_eq!(ids(None), ["req-real"]);
        assert_eq!(ids(Some("drill-1")), ["drill-1-kafka", "req-real"]);
    }

    #[test]
    fn the_list_and_its_count_come_from_one_place() {
        let offered = [request("a"), request("b")];
        // Newest first: c (no longer offered), then a.
        let decisions = [decided("c"), decided("a"), decided("old")];
        let list = items(&offered, &decisions, 2, None);
        let ids: Vec<&str> = list.iter().map(|i| i.request.id()).collect();
        assert_eq!(ids, ["a", "b", "c"], "at most 2 decided rows looked at");
        assert!(list[0].decision.is_some() && list[1].decision.is_none());
        assert_eq!(awaiting(&offered, &decisions), 1);
        assert_eq!(
            serde_json::to_value(&list[1].request).unwrap(),
            serde_json::json!({"id": "b", "action": "rotate_secret"}),
            "the backend's JSON, unchanged"
        );
        assert!(Received::from_json(serde_json::json!({"id": 7})).is_none());
    }

    #[test]
    fn a_new_request_is_announced_by_action_target_and_requester() {
        let r = Received::from_json(serde_json::json!({
            "id": "r", "action": "rotate_secret", "severity": "high",
            "target": {"external_id": "vault:kafka"},
            "evidence": {"signal": "secret_in_public_repository"},
            "requested_by": {"id": "soar"}
        }))
        .unwrap();
        let (title, body) = r.announcement();
        assert_eq!(title, "Approval needed: rotate secret on vault:kafka");
        assert_eq!(
            body,
            "high severity · secret in public repository · requested by soar"
        );
        let (title, _) = request("x").announcement();
        assert_eq!(title, "Approval needed: rotate secret on ?");
    }
}
