//! `pennon eval`: verifies an envelope, then evaluates one flag or all of them and
//! prints the results as pretty JSON (OFREP field names plus `explanation`).

use serde_json::{json, Value as Json};

use super::trust::TrustArgs;
use super::{inputs, print_line, Failure};

/// Arguments of `pennon eval`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["flag", "all"])))]
pub(crate) struct Args {
    /// What to load and whom to trust.
    #[command(flatten)]
    pub(crate) trust: TrustArgs,
    /// The key of the flag to evaluate.
    #[arg(long, value_name = "KEY")]
    pub(crate) flag: Option<String>,
    /// Evaluate every flag; prints `{"flags": [...]}` in key order.
    #[arg(long)]
    pub(crate) all: bool,
    /// The evaluation context: inline JSON, or `@FILE` to read it from a file.
    #[arg(long, value_name = "JSON_OR_@FILE")]
    pub(crate) context: String,
}

/// Loads the envelope and prints the evaluation. An evaluation error such as
/// `FLAG_NOT_FOUND` is a result, not a failure: it exits 0.
pub(crate) fn run(args: &Args) -> Result<(), Failure> {
    let context = inputs::read_context(&args.context)?;
    let (snapshot, now) = args.trust.load(0)?;
    let output = match &args.flag {
        Some(key) => snapshot.evaluate(key, &context, now).to_json(key),
        None => {
            let flags: Vec<Json> =
                snapshot.evaluate_all(&context, now).map(|(key, evaluation)| evaluation.to_json(key)).collect();
            json!({ "flags": flags })
        }
    };
    let text = serde_json::to_string_pretty(&output)
        .map_err(|e| Failure::Usage(format!("cannot format the result as JSON: {e}")))?;
    // Variant names and metadata come from whoever wrote the snapshot.
    print_line(&pennon_server::model::json_escaped(&text))
}
