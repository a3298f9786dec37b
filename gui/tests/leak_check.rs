//! The Passwords view's masked leak check on both backends: "Check a password…", a password
//! the demo's leaked set holds and one it does not, the models' answer in the Leak check
//! panel — and the password itself drawn nowhere, neither while typed nor after; then a row's
//! context menu *Check password* on the Passwords table, pre-filled with the attempted password.

#[macro_use]
mod support;

use eframe::egui::{Key, Role};
use egui_kittest::kittest::Queryable;
use vantage_core::passwords::sha1_hex;
use vantage_views::keys::Mode;
use vantage_views::panels::Tab;

use support::{App, Backend, Deployment, click, drawn_containing, loaded_panel, open_tab, shows, until};

on_both_backends!(leak_check: leak_check_sqlite, leak_check_postgres);

/// The passwords the demo's attempts are drawn from (and its leaked set imported from them).
const DEMO_PASSWORDS: &str = include_str!("../../assets/demo/common-passwords.txt");

/// A password no leak holds.
const UNLEAKED: &str = "Vantage-unleaked-7Qx!29";

/// Checks one password through the input window, asserting it is masked while typed and
/// drawn nowhere after; returns the Leak check panel's lines.
fn check(h: &mut App, password: &str) -> Vec<String> {
    click(h, "Check a password…");
    assert_eq!(h.state().session.app.mode, Mode::CheckPassword);
    h.get_by_role_and_label(Role::PasswordInput, "Password").type_text(password);
    let _ = h.run_ok();
    assert_eq!(h.state().session.app.input, password, "typed into the models' input line");
    let field = h.get_by_role_and_label(Role::PasswordInput, "Password").value().unwrap_or_default();
    assert_eq!(field.chars().count(), password.chars().count(), "the field shows one mask per character: {field:?}");
    assert_eq!(drawn_containing(h, password), Vec::<String>::new(), "typed: the password is drawn masked");
    h.key_press(Key::Enter);
    let _ = h.run_ok();
    assert_eq!(h.state().session.app.mode, Mode::Normal);
    assert!(h.state().session.app.input.is_empty(), "the password is not kept in the input line");
    until(h, "the leak check's answer", |h| h.state().session.app.passwords.leak.as_ref().is_some_and(|(_, answer)| answer.is_some()));
    let leak_check = loaded_panel(h, "Leak check");
    let lines = h.state().session.app.text(&leak_check);
    for line in lines.iter().filter(|l| !l.is_empty()) {
        assert!(shows(h, line), "the Leak check panel draws {line:?}");
    }
    assert_eq!(drawn_containing(h, password), Vec::<String>::new(), "checked: the password is drawn nowhere");
    lines
}

/// A leaked and an unleaked password give the models' answers, masked.
fn leak_check(backend: Backend) {
    let d = Deployment::new(backend);
    let mut h = d.demo_app_of(support::LEAKS);
    open_tab(&mut h, Tab::Passwords);
    let leak_check = loaded_panel(&mut h, "Leak check");
    assert!(h.state().session.app.text(&leak_check).iter().any(|l| l.contains("type a password")), "before any check: how to check");
    loaded_panel(&mut h, "Most seen leaked passwords (hashes)");
    // every list of the view has its data (a list arriving later could draw the password
    // chosen below as one of the attempted ones)
    until(&mut h, "every list of the Passwords view", |h| !h.state().session.app.refreshing());
    // a password the demo draws its attempts from, among the most seen leaked ones, and not
    // drawn right now: its count is the one the store answers
    let top = h.state().session.app.passwords.leaked_top.clone().expect("the most seen leaked hashes");
    let (leaked, count) = DEMO_PASSWORDS
        .lines()
        .filter(|p| p.len() >= 6)
        .find_map(|p| {
            let sha1 = sha1_hex(p);
            let count = top.iter().find(|t| t.hash.eq_ignore_ascii_case(&sha1))?.count;
            drawn_containing(&h, p).is_empty().then(|| (p.to_string(), count))
        })
        .expect("a demo password among the most seen leaked ones, out of sight");

    let lines = check(&mut h, &leaked);
    let n = leaked.chars().count();
    assert_eq!(lines[..2], [format!("LEAKED ({n} characters)"), format!("seen {count} times")], "{lines:?}");

    let lines = check(&mut h, UNLEAKED);
    assert_eq!(lines[0], format!("not leaked ({} characters)", UNLEAKED.chars().count()), "{lines:?}");
    assert!(!shows(&h, &format!("LEAKED ({n} characters)")), "the answer before is replaced");

    // the Passwords table's row menu checks the row's password through the same masked window
    let passwords = loaded_panel(&mut h, "Passwords");
    let table = h.state().session.app.visible(&passwords).expect("rows");
    let column = table.header.iter().position(|c| c == "password").expect("a password column");
    let attempted = table.rows.iter().map(|r| r[column].clone()).find(|p| p.len() >= 4 && p.chars().all(|c| c.is_ascii_alphanumeric())).expect("a plain password");
    h.query_all_by_label(&attempted).next().expect("the row is drawn").click_secondary();
    let _ = h.run_ok();
    click(&mut h, "Check password");
    let app = &h.state().session.app;
    assert_eq!((app.tab, app.mode, app.input.as_str()), (Tab::Passwords, Mode::CheckPassword, attempted.as_str()), "pre-filled");
    let field = h.get_by_role_and_label(Role::PasswordInput, "Password").value().unwrap_or_default();
    assert_eq!(field.chars().count(), attempted.chars().count(), "masked: {field:?}");
    h.key_press(Key::Enter);
    let _ = h.run_ok();
    let leak_check = loaded_panel(&mut h, "Leak check");
    let n = attempted.chars().count();
    // the demo's leaked set is imported from its attempts: every attempted password is leaked
    until(&mut h, "the row's password checked", |h| h.state().session.app.text(&leak_check).first() == Some(&format!("LEAKED ({n} characters)")));
}
