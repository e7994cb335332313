//! `EvaluationContext` conversion: every field type, faithfully (spec 3.1.1, 3.1.2).

use std::collections::{BTreeMap, HashMap};

use open_feature::provider::FeatureProvider;
use open_feature::{
    EvaluationContext, EvaluationContextFieldValue as Field, EvaluationErrorCode, StructValue, Value as OfValue,
};
use pennon_core::{AttributeValue, Attributes, Context, Value, ValueRef};
use pennon_provider::{convert_context, ContextAttributes};
use serde_json::json;
use time::macros::datetime;

use crate::common::{builder, key, payload, sign};

fn object(members: &[(&str, Value)]) -> Value {
    Value::Object(members.iter().map(|(k, v)| ((*k).into(), v.clone())).collect())
}

/// Spec 3.1.1 (targeting key) and 3.1.2 (custom fields of type boolean, string, number,
/// datetime and structure): each arrives in Pennon's context as the same value.
#[test]
fn every_field_type_converts_faithfully() {
    let of_struct = StructValue {
        fields: HashMap::from([
            ("country".to_owned(), OfValue::String("NZ".into())),
            ("ids".to_owned(), OfValue::Array(vec![OfValue::Int(1), OfValue::Float(1.5)])),
        ]),
    };
    let field_map = HashMap::from([
        ("tier".to_owned(), Field::Int(2)),
        ("since".to_owned(), Field::DateTime(datetime!(2026-01-02 03:04:05.5 UTC))),
    ]);
    let ctx = EvaluationContext::default()
        .with_targeting_key("user-1")
        .with_custom_field("beta", true)
        .with_custom_field("age", 42)
        .with_custom_field("score", 0.75)
        .with_custom_field("email", "ann@acme.com")
        .with_custom_field("signup", datetime!(2026-03-04 05:06:07 +01:00))
        .with_custom_field("address", Field::new_struct(of_struct))
        .with_custom_field("value", Field::new_struct(OfValue::Array(vec![OfValue::Bool(false)])))
        .with_custom_field("json", Field::new_struct(json!({"a": null, "big": 18446744073709551615u64})))
        .with_custom_field("core", Field::new_struct(Value::Int(-1)))
        .with_custom_field("fields", Field::new_struct(field_map))
        .with_custom_field("sorted", Field::new_struct(BTreeMap::from([("x".to_owned(), Field::Bool(true))])))
        .with_custom_field("items", Field::new_struct(vec![Field::String("a".into()), Field::Float(2.0)]));

    let expected = Context::new(Some("user-1"))
        .with("beta", Value::Bool(true))
        .with("age", Value::Int(42))
        .with("score", Value::Float(0.75))
        .with("email", Value::String("ann@acme.com".into()))
        .with("signup", Value::String("2026-03-04T04:06:07.000Z".into()))
        .with(
            "address",
            object(&[
                ("country", Value::String("NZ".into())),
                ("ids", Value::List(vec![Value::Int(1), Value::Float(1.5)])),
            ]),
        )
        .with("value", Value::List(vec![Value::Bool(false)]))
        .with("json", object(&[("a", Value::Null), ("big", Value::Float(18446744073709551615.0))]))
        .with("core", Value::Int(-1))
        .with("fields", object(&[("tier", Value::Int(2)), ("since", Value::String("2026-01-02T03:04:05.500Z".into()))]))
        .with("sorted", object(&[("x", Value::Bool(true))]))
        .with("items", Value::List(vec![Value::String("a".into()), Value::Float(2.0)]));
    assert_eq!(convert_context(&ctx).unwrap(), expected);
}

#[test]
fn the_targeting_key_field_wins_over_a_custom_targeting_key() {
    let both = EvaluationContext::default().with_targeting_key("real").with_custom_field("targetingKey", 5);
    assert_eq!(convert_context(&both).unwrap(), Context::new(Some("real")));
    let custom = EvaluationContext::default().with_custom_field("targetingKey", "from-field");
    assert_eq!(convert_context(&custom).unwrap().targeting_key(), Some("from-field"));
    let malformed = EvaluationContext::default().with_custom_field("targetingKey", 5);
    assert!(convert_context(&malformed).unwrap().problem().is_some(), "a non-string key is PARSE_ERROR later");
}

/// The converted values drive real rules: a DateTime against `after`, a nested struct
/// through a dotted path, a list with `in`.
#[tokio::test]
async fn converted_fields_drive_rules() {
    let rule = |id: &str, attribute: &str, op: &str, value: serde_json::Value| {
        json!({"type": "boolean", "enabled": true, "variants": {"on": true, "off": false}, "off_variant": "off",
               "fallthrough": {"variant": "off"},
               "rules": [{"id": id, "serve": {"variant": "on"},
                          "conditions": [{"attribute": attribute, "op": op, "value": value}]}]})
    };
    let flags = json!({
        "late-signup": rule("late", "signup", "after", json!("2026-03-04T04:00:00Z")),
        "kiwi": rule("nz", "user.address.country", "equals", json!("NZ")),
        "tagged": rule("tag", "tags", "in", json!(["beta"])),
    });
    let mut provider =
        builder().inline(sign(&payload("test", 1, "2099-01-01T00:00:00Z", flags), &[&key(1)])).build().unwrap();
    provider.initialize(&EvaluationContext::default()).await;
    let user = StructValue {
        fields: HashMap::from([(
            "address".to_owned(),
            OfValue::Struct(StructValue {
                fields: HashMap::from([("country".to_owned(), OfValue::String("NZ".into()))]),
            }),
        )]),
    };
    let ctx = EvaluationContext::default()
        .with_targeting_key("u")
        .with_custom_field("signup", datetime!(2026-03-04 05:06:07 +01:00)) // 04:06:07Z, after 04:00Z
        .with_custom_field("user", Field::new_struct(user))
        .with_custom_field(
            "tags",
            Field::new_struct(vec![Field::String("alpha".into()), Field::String("beta".into())]),
        );
    for flag in ["late-signup", "kiwi", "tagged"] {
        let details = provider.resolve_bool_value(flag, &ctx).await.unwrap();
        assert!(details.value, "{flag} matched through the converted context");
    }
}

/// Evaluation reads the context in place: the views give the values the conversion
/// copies, date-times as RFC 3339 text (UTC, milliseconds) and nested fields through
/// dotted members.
#[test]
fn in_place_views_read_as_the_conversion_does() {
    let fields = HashMap::from([("since".to_owned(), Field::DateTime(datetime!(2026-01-02 03:04:05.5 UTC)))]);
    let ctx = EvaluationContext::default()
        .with_custom_field("signup", datetime!(2026-03-04 05:06:07 +01:00))
        .with_custom_field("fields", Field::new_struct(fields))
        .with_custom_field("targetingKey", "from-field");
    let attributes = ContextAttributes::new(&ctx).unwrap();
    let signup = attributes.attribute("signup");
    assert_eq!(signup.as_ref().map(AttributeValue::view), Some(ValueRef::String("2026-03-04T04:06:07.000Z")));
    let since = attributes.attribute("fields").and_then(|fields| fields.member("since"));
    assert_eq!(since.as_ref().map(AttributeValue::view), Some(ValueRef::String("2026-01-02T03:04:05.500Z")));
    let key = attributes.targeting_key();
    assert_eq!(key.as_ref().map(AttributeValue::view), Some(ValueRef::String("from-field")));
    assert_eq!(attributes.problem(), None);

    // The npm providers' forms, so the same call reads the same everywhere: a `Date` is
    // `toISOString()` (sub-millisecond digits dropped), and NaN and the infinities are
    // null, as in JSON.
    let js = EvaluationContext::default()
        .with_custom_field("at", datetime!(1999-12-31 23:59:59.123_456_789 -02:30))
        .with_custom_field("nan", f64::NAN)
        .with_custom_field("inf", f64::NEG_INFINITY);
    let attributes = ContextAttributes::new(&js).unwrap();
    let view = |name: &str| attributes.attribute(name).as_ref().map(|value| format!("{:?}", value.view()));
    assert_eq!(view("at").as_deref(), Some(r#"String("2000-01-01T02:29:59.123Z")"#));
    assert_eq!((view("nan").as_deref(), view("inf").as_deref()), (Some("Null"), Some("Null")));
    let beyond = EvaluationContext::default().with_custom_field("at", datetime!(9999-12-31 23:00 -02:00));
    let error = ContextAttributes::new(&beyond).unwrap_err();
    assert_eq!(error.message.as_deref(), Some("context field `at`: the date-time is outside years 0 to 9999 in UTC"));

    let malformed = EvaluationContext::default().with_custom_field("targetingKey", 5);
    let problem = ContextAttributes::new(&malformed).unwrap().problem().map(str::to_owned);
    assert_eq!(problem, convert_context(&malformed).unwrap().problem().map(str::to_owned));
}

/// A field that cannot be read is `INVALID_CONTEXT` naming where it sits, even nested and
/// even when no rule reads it, as the conversion reports it.
#[test]
fn unreadable_nested_fields_are_refused_up_front() {
    let nested = HashMap::from([("opaque".to_owned(), Field::new_struct(3u8))]);
    let ctx = EvaluationContext::default().with_custom_field("fields", Field::new_struct(nested));
    let error = ContextAttributes::new(&ctx).unwrap_err();
    assert_eq!(error.code, EvaluationErrorCode::InvalidContext);
    assert!(error.message.as_deref().unwrap().contains("`fields.opaque`"), "{error:?}");
    assert_eq!(convert_context(&ctx).unwrap_err(), error);
}
