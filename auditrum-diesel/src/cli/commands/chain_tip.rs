//! `chain-tip [--append FILE]`: print the chain's head, anchor and purges, to keep and pass
//! to `verify-chain --expected-tip`, or append it to a witness file.

use std::path::PathBuf;

use clap::Args;

use crate::cli::{CliError, Context};
use crate::ops::chain::{self, witness};

/// `chain-tip`.
#[derive(Debug, Args)]
pub struct ChainTipArgs {
    /// Also append the tip as one JSON line to this witness file (created if missing), for
    /// `verify-chain --witness`. Ship the file where the database's superuser cannot write.
    #[arg(long, value_name = "FILE")]
    pub append: Option<PathBuf>,
}

pub(crate) fn run(args: ChainTipArgs, context: &Context) -> Result<(), CliError> {
    let mut conn = context.connect()?;
    let tip = chain::tip(&mut conn, &context.config)?;
    if let Some(path) = &args.append {
        witness::append(path, &tip).map_err(|e| CliError::BadArgument(e.to_string()))?;
    }
    println!(
        "{}",
        serde_json::to_string(&tip).map_err(std::io::Error::from)?
    );
    Ok(())
}
