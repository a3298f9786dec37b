//! The detail views a row opens (attacker, password, ASN, capture, any resource): their
//! titles and actions; their panels come from the models like a tab's.

use vantage_views::keys::Action;
use vantage_views::panels::Detail;

/// The heading of a detail view.
pub fn title(detail: &Detail) -> String {
    match detail {
        Detail::Attacker { ip } => format!("Attacker {ip}"),
        Detail::Password { password } => format!("Password {}", password.escape_debug()),
        Detail::EventsAsn { asn } => format!("AS{asn}"),
        Detail::Capture { id } => format!("Capture {}", &id[..id.len().min(12)]),
        Detail::Resource { name, .. } => (*name).to_string(),
        Detail::Dossier { target } => format!("Dossier of {target}"),
    }
}

/// A detail view's own actions.
pub fn actions(detail: &Detail) -> &'static [(&'static str, Action)] {
    match detail {
        Detail::Attacker { .. } => &[("Request a capture for this IP…", Action::NewCapture), ("Open its dossier", Action::Dossier)],
        Detail::Dossier { .. } => &[
            ("Request a capture…", Action::NewCapture),
            ("Score its flows", Action::StartScoring),
            ("Open its storyboard", Action::EditStoryboard),
            ("Save the report…", Action::CopyReport),
        ],
        Detail::Capture { .. } => &[("Save capture…", Action::SaveCapture), ("Cancel job", Action::CancelWork)],
        _ => &[],
    }
}
