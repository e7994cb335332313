//! `Snapshot::changed_flags`: what hosts report as `flagsChanged`.

mod common;

use common::{boolean_flag, snapshot};
use serde_json::json;

#[test]
fn edits_segments_prerequisites_additions_and_removals_are_reported() {
    let in_beta = json!({"rules": [{"id": "r", "conditions": [{"op": "in_segment", "value": "beta"}], "serve": {"variant": "on"}}]});
    let before = snapshot(
        json!({
            "untouched": boolean_flag(json!({})),
            "edited": boolean_flag(json!({})),
            "uses-segment": boolean_flag(in_beta.clone()),
            "needs-edited": boolean_flag(json!({"prerequisites": [{"flag": "edited", "variant": "on"}]})),
            "removed": boolean_flag(json!({})),
        }),
        json!({"beta": {"included": ["ann"]}, "staff": {"included": ["bob"]}}),
    );
    let after = snapshot(
        json!({
            "untouched": boolean_flag(json!({})),
            "edited": boolean_flag(json!({"enabled": false})),
            "uses-segment": boolean_flag(in_beta),
            "needs-edited": boolean_flag(json!({"prerequisites": [{"flag": "edited", "variant": "on"}]})),
            "added": boolean_flag(json!({})),
        }),
        json!({"beta": {"included": ["ann", "cy"]}, "staff": {"included": ["bob"]}}),
    );
    assert_eq!(after.changed_flags(&before), ["added", "edited", "needs-edited", "removed", "uses-segment"]);
    assert!(after.changed_flags(&after).is_empty());
}
