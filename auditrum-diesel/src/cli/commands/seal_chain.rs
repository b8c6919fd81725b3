//! `seal-chain`: link every transaction that has ended since the last seal (for cron).

use crate::cli::{CliError, Context};
use crate::ops::chain;

pub(crate) fn run(context: &Context) -> Result<(), CliError> {
    let mut conn = context.connect()?;
    let sealed = chain::seal(&mut conn, &context.config)?;
    println!("sealed {sealed} transaction(s)");
    Ok(())
}
