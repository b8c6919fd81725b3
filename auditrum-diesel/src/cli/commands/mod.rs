//! One file per subcommand.

mod history;
mod init_schema;
mod track;
mod untrack;

use crate::cli::args::Command;
use crate::cli::{CliError, Context};

/// Runs one subcommand.
pub(crate) fn run(command: Command, context: &Context) -> Result<(), CliError> {
    match command {
        Command::InitSchema(args) => init_schema::run(args, context),
        Command::Track(args) => track::run(args, context),
        Command::Untrack(args) => untrack::run(args, context),
        Command::History(args) => history::run(args, context),
    }
}
