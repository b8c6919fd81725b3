//! One file per subcommand.

pub(crate) mod add_partitions;
#[cfg(feature = "archive")]
pub(crate) mod archive;
pub(crate) mod as_of;
pub(crate) mod blame;
mod chain_tip;
pub(crate) mod enable_hash_chain;
pub(crate) mod harden;
mod history;
mod init_schema;
pub(crate) mod makemigrations;
pub(crate) mod purge;
pub(crate) mod revert;
mod seal_chain;
#[cfg(feature = "viewer")]
pub(crate) mod serve;
pub(crate) mod status;
pub(crate) mod sync;
mod track;
mod untrack;
pub(crate) mod verify_chain;
pub(crate) mod verify_history;

use crate::cli::args::Command;
use crate::cli::{CliError, Context};

/// Runs one subcommand.
pub(crate) fn run(command: Command, context: &Context) -> Result<(), CliError> {
    match command {
        Command::InitSchema(args) => init_schema::run(args, context),
        Command::Track(args) => track::run(args, context),
        Command::Untrack(args) => untrack::run(args, context),
        Command::History(args) => history::run(args, context),
        Command::Makemigrations(args) => makemigrations::run(args, context),
        Command::Sync(args) => sync::run(args, context),
        Command::AddPartitions(args) => add_partitions::run(args, context),
        Command::Status(args) => status::run(args, context),
        Command::Harden(args) => harden::run(args, context),
        Command::Purge(args) => purge::run(args, context),
        Command::EnableHashChain(args) => enable_hash_chain::run(args, context),
        Command::VerifyChain(args) => verify_chain::run(args, context),
        Command::ChainTip => chain_tip::run(context),
        Command::SealChain => seal_chain::run(context),
        #[cfg(feature = "viewer")]
        Command::Serve(args) => serve::run(args, context),
        Command::AsOf(args) => as_of::run(args, context),
        Command::Blame(args) => blame::run(args, context),
        Command::Revert(args) => revert::run(args, context),
        Command::VerifyHistory(args) => verify_history::run(args, context),
        #[cfg(feature = "archive")]
        Command::Archive(args) => archive::run(args, context),
    }
}
