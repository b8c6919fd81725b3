//! Progress of a long archive: a bar on a terminal, `tracing` events otherwise.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

/// Reports rows archived for one partition.
#[derive(Debug)]
pub struct Progress {
    bar: Option<ProgressBar>,
    partition: String,
    total: u64,
    done: u64,
}

/// How often, in rows, a `tracing` event reports progress when there is no terminal.
const TRACE_EVERY: u64 = 100_000;

impl Progress {
    /// Starts reporting on `total` rows of `partition`.
    pub fn start(partition: &str, total: u64) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template(
                    "{msg} [{bar:40}] {pos}/{len} events ({per_sec}, {eta})",
                )
                .expect("a valid template")
                .progress_chars("=> "),
            );
            bar.set_message(partition.to_owned());
            bar
        });
        tracing::info!(partition, events = total, "archiving partition");
        Progress {
            bar,
            partition: partition.to_owned(),
            total,
            done: 0,
        }
    }

    /// One more row written.
    pub fn inc(&mut self) {
        self.done += 1;
        match &self.bar {
            Some(bar) => bar.inc(1),
            None if self.done.is_multiple_of(TRACE_EVERY) => {
                tracing::info!(partition = %self.partition, done = self.done, total = self.total, "archiving");
            }
            None => {}
        }
    }

    /// Done with this partition.
    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}
