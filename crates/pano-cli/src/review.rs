//! `pano review`: the clinician's decision on one finding, the same as the app's review,
//! for headless use. One decision per call; the answer lists every decision in force.

use std::process::ExitCode;

use pano_core::{DecisionUpdate, Fdi, FindingKind};
use pano_service::{parse_decision_request, ServiceError};

use crate::context::{open_from, report};
use crate::GlobalArgs;

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("decision").required(true).args(["confirm", "reject", "add", "clear"])))]
pub struct ReviewArgs {
    pub analysis: String,
    /// Agree with an AI finding: FDI:KIND (e.g. 16:caries, 36:RESIDUAL_ROOT).
    #[arg(long, value_name = "FDI:KIND")]
    pub confirm: Option<String>,
    /// Say an AI finding is not there.
    #[arg(long, value_name = "FDI:KIND")]
    pub reject: Option<String>,
    /// Add a finding the AI missed.
    #[arg(long, value_name = "FDI:KIND")]
    pub add: Option<String>,
    /// Remove the decision: the AI's score stands again.
    #[arg(long, value_name = "FDI:KIND")]
    pub clear: Option<String>,
    /// A remark kept with the decision and its audit row.
    #[arg(long)]
    pub note: Option<String>,
    /// The reviewing clinician.
    #[arg(long, env = "PANO_USER")]
    pub by: String,
    #[arg(long)]
    pub json: bool,
}

impl ReviewArgs {
    fn request(&self) -> (&str, &str) {
        match (&self.confirm, &self.reject, &self.add, &self.clear) {
            (Some(t), _, _, _) => (t, "confirmed"),
            (_, Some(t), _, _) => (t, "rejected"),
            (_, _, Some(t), _) => (t, "added"),
            (_, _, _, Some(t)) => (t, "clear"),
            _ => unreachable!("clap requires one decision"),
        }
    }
}

/// `16:caries` -> the tooth, kind and update.
fn target(text: &str, decision: &str) -> Result<(Fdi, FindingKind, DecisionUpdate), ServiceError> {
    let (fdi, kind) = text.split_once(':').ok_or_else(|| {
        ServiceError::InvalidReview(format!("'{text}' is not FDI:KIND (e.g. 16:caries)"))
    })?;
    let fdi: u32 = fdi
        .trim()
        .parse()
        .map_err(|_| ServiceError::InvalidReview(format!("'{fdi}' is not a tooth number")))?;
    parse_decision_request(fdi, kind, decision)
}

pub fn review(global: &GlobalArgs, args: &ReviewArgs) -> ExitCode {
    let (text, decision) = args.request();
    let (fdi, kind, update) = match target(text, decision) {
        Ok(t) => t,
        Err(e) => return report(&e),
    };
    let service = match open_from(global) {
        Ok(s) => s,
        Err(code) => return code,
    };
    match service.decide_finding(
        &args.analysis,
        fdi,
        kind,
        update,
        args.note.as_deref(),
        &args.by,
    ) {
        Ok(decisions) if args.json => {
            println!(
                "{}",
                serde_json::to_string(&decisions).expect("serialisable")
            );
            ExitCode::SUCCESS
        }
        Ok(decisions) => {
            if decisions.is_empty() {
                println!("no decisions: the AI's findings stand");
            }
            for d in decisions {
                println!(
                    "{} {:<24} {:<9} by {}{}",
                    d.fdi,
                    d.finding.label(),
                    d.decision.as_str(),
                    d.decided_by,
                    d.note.map(|n| format!(": {n}")).unwrap_or_default()
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => report(&e),
    }
}
