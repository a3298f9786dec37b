//! What is typed in the desktop's own editors (not the models' input line), kept between
//! frames: the Flows view's storyboard ([`crate::widgets::storyboard`]).

use std::net::IpAddr;

use chrono::NaiveDate;

/// The title and text being edited, and whose storyboard they are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Draft {
    /// The day and address.
    pub of: Option<(NaiveDate, IpAddr)>,
    /// The title typed.
    pub title: String,
    /// The text typed.
    pub text: String,
}
