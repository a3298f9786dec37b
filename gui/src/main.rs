//! `vantage-gui`: see the library crate (`vantage_gui`) for everything.

fn main() -> std::process::ExitCode {
    vantage_gui::main()
}
