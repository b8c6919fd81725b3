//! `chain-tip`: print the chain's head, to keep and pass to `verify-chain --expected-tip`.

use crate::cli::{CliError, Context};
use crate::ops::chain;

pub(crate) fn run(context: &Context) -> Result<(), CliError> {
    let mut conn = context.connect()?;
    let tip = chain::tip(&mut conn, &context.config)?;
    println!(
        "{}",
        serde_json::to_string(&tip).map_err(std::io::Error::from)?
    );
    Ok(())
}
