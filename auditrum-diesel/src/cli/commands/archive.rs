//! `archive --older-than INTERVAL --to DIR [--keep-partition]`, and the archive half of
//! `verify-chain --archive DIR` (feature `archive`).

use clap::Args;

use crate::cli::args::Format;
use crate::cli::{CliError, Context};
use crate::ops::archive::{self, ArchiveCheck, ArchiveError, ArchiveOptions, ArchiveReader, Store};

/// `archive`.
#[derive(Debug, Args)]
pub struct Archive {
    /// Archive the month partitions that end before now minus this PostgreSQL interval
    /// ('13 months'), in UTC.
    #[arg(long)]
    pub older_than: String,
    /// The archive: a directory, or `s3://bucket/prefix` (credentials, region and endpoint
    /// from the `AWS_*` environment variables).
    #[arg(long)]
    pub to: String,
    /// Only export: keep the partitions (and the chain) in the database.
    #[arg(long)]
    pub keep_partition: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

pub(crate) fn run(args: Archive, context: &Context) -> Result<(), CliError> {
    let store = Store::parse(&args.to).map_err(bad_location)?;
    let mut conn = context.connect()?;
    let options = ArchiveOptions {
        older_than: &args.older_than,
        store: &store,
        keep_partition: args.keep_partition,
    };
    let report = archive::archive(&mut conn, &context.config, &options).map_err(from_archive)?;
    match args.format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(std::io::Error::from)?
        ),
        Format::Text => {
            println!("cutoff {}", report.cutoff.format("%Y-%m-%d %H:%M:%S UTC"));
            for m in &report.months {
                let bytes: u64 = m.files.iter().map(|f| f.bytes).sum();
                let verb = if m.drops_partition {
                    "archived and dropped"
                } else {
                    "exported (kept)"
                };
                println!(
                    "{verb} {} ({}): {} event(s), {} context row(s), {} link(s), {bytes} bytes",
                    m.partition,
                    m.month,
                    m.events.rows,
                    m.contexts.rows,
                    m.chain.as_ref().map_or(0, |c| c.last_seq - c.first_seq + 1),
                );
            }
            if report.months.is_empty() {
                println!("nothing to archive: no month partition ends before the cutoff");
            }
        }
    }
    Ok(())
}

/// `verify-chain --archive LOCATION`: checks the archive; the caller prints the result
/// (one document with the live chain's report).
pub(crate) fn verify(location: &str, context: &Context) -> Result<ArchiveCheck, CliError> {
    let store = Store::parse(location).map_err(bad_location)?;
    let mut conn = context.connect()?;
    archive::verify_archive(&mut conn, &context.config, &store).map_err(from_archive)
}

/// `--archive LOCATION` of `history` and `as-of`: the archive's reader.
pub(crate) fn reader(location: &str, context: &Context) -> Result<ArchiveReader, CliError> {
    let store = Store::parse(location).map_err(bad_location)?;
    ArchiveReader::open(store, &context.config).map_err(from_archive)
}

/// The archive check in words.
pub(crate) fn text(check: &ArchiveCheck) -> String {
    let mut out = format!(
        "archive {}: {} month(s), {} file(s), {} event(s), {} link(s)\n",
        check.location, check.months, check.files, check.events, check.links
    );
    if check.is_intact() {
        out.push_str(
            "archive intact (files match their manifests, links recomputed from the rows)\n",
        );
    }
    for b in &check.breaks {
        out.push_str(&format!("BROKEN {}: {}\n", b.at, b.problem));
    }
    out
}

fn bad_location(e: ArchiveError) -> CliError {
    CliError::BadArgument(e.to_string())
}

fn from_archive(e: ArchiveError) -> CliError {
    match e {
        ArchiveError::Audit(e) => CliError::Audit(e),
        other => CliError::BadArgument(other.to_string()),
    }
}
