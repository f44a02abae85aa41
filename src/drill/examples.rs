//! The example scenarios shipped in assets/drills, built into the binary
//! so the app can offer them without a file dialog.

pub struct Example {
    /// The file name without `.yaml`.
    pub id: &'static str,
    pub scenario: &'static str,
    /// Scripted participants for an unattended run, where one is shipped.
    pub participants: Option<&'static str>,
}

pub const EXAMPLES: &[Example] = &[
    Example {
        id: "leaked-deploy-key",
        scenario: include_str!("../../assets/drills/leaked-deploy-key.yaml"),
        participants: Some(include_str!(
            "../../assets/drills/leaked-deploy-key.participants.yaml"
        )),
    },
    Example {
        id: "shared-kafka-credential",
        scenario: include_str!("../../assets/drills/shared-kafka-credential.yaml"),
        participants: None,
    },
    Example {
        id: "rogue-ai-agent",
        scenario: include_str!("../../assets/drills/rogue-ai-agent.yaml"),
        participants: None,
    },
];

pub fn example(id: &str) -> Option<&'static Example> {
    EXAMPLES.iter().find(|e| e.id == id)
}
