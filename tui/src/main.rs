//! `vantage`: see the library crate (`vantage_tui`) for everything.

fn main() -> std::process::ExitCode {
    vantage_tui::main()
}
