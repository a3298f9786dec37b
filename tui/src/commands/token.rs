//! `vantage token add|list|remove`: the API tokens of `vantage serve` (`[serve] tokens_file`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use vantage_core::config::Config;
use vantage_core::http::tokens::{self, ServeSettings, Tokens};

use crate::cli::{TokenCommand, TokenFileArgs};

/// The file named by `--file`, else `[serve] tokens_file`.
fn tokens_file(config: &Config, args: &TokenFileArgs) -> anyhow::Result<PathBuf> {
    match &args.file {
        Some(f) => Ok(f.clone()),
        None => ServeSettings::from_config(config)?.tokens_file.context("no tokens file: set [serve] tokens_file in the configuration, or pass --file PATH"),
    }
}

/// Runs `vantage token …`.
pub fn run(config: &Config, command: TokenCommand) -> anyhow::Result<ExitCode> {
    match command {
        TokenCommand::Add(args) => {
            let path = tokens_file(config, &args.file)?;
            let mut lines = tokens::read_lines(&path)?;
            if lines.iter().any(|l| l.split_whitespace().next() == Some(args.name.as_str())) {
                anyhow::bail!("{}: a token named `{}` exists already (vantage token remove {0} first)", path.display(), args.name);
            }
            let (token, line) = tokens::new_token(&args.name)?;
            lines.push(line);
            tokens::write_file(&path, &lines)?;
            eprintln!("added `{}` to {} (only its SHA-256 is kept: copy the token now; restart serve to use it)", args.name, path.display());
            println!("{token}");
        }
        TokenCommand::List(args) => {
            let path = tokens_file(config, &args)?;
            for name in Tokens::load(&path)?.names() {
                println!("{name}");
            }
        }
        TokenCommand::Remove(args) => {
            let path = tokens_file(config, &args.file)?;
            let lines = tokens::read_lines(&path)?;
            let kept: Vec<String> = lines.iter().filter(|l| l.split_whitespace().next() != Some(args.name.as_str())).cloned().collect();
            if kept.len() == lines.len() {
                anyhow::bail!("{}: no token is named `{}`", path.display(), args.name);
            }
            tokens::write_file(&path, &kept)?;
            eprintln!("removed `{}` from {} (restart serve to refuse it)", args.name, path.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}
