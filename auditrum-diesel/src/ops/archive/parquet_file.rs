//! Writing rows streamed from PostgreSQL to a Parquet file, and reading them back, a batch
//! at a time: memory stays flat whatever the partition's size.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use diesel::pg::{Pg, PgRowByRowLoadingMode};
use diesel::query_builder::SqlQuery;
use diesel::{PgConnection, QueryableByName, RunQueryDsl};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use sha2::{Digest, Sha256};

use super::error::{io, parquet, ArchiveError};
use super::rows::ArchivedRow;

/// Rows per Arrow batch, both ways.
pub const BATCH_ROWS: usize = 8192;
/// Rows per Parquet row group: the writer buffers one row group, so this bounds memory.
const ROW_GROUP_ROWS: usize = 65_536;

/// Streams the rows of `query` (row by row from the server) into a zstd Parquet file at
/// `path`, calling `each` for every row; returns how many rows were written.
pub fn write<R>(
    conn: &mut PgConnection,
    query: SqlQuery,
    path: &Path,
    mut each: impl FnMut(&R),
) -> Result<i64, ArchiveError>
where
    R: ArchivedRow + QueryableByName<Pg> + 'static,
{
    let file = File::create(path).map_err(io(path.display()))?;
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(
            ZstdLevel::try_new(3).expect("a valid level"),
        ))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .build();
    let mut writer =
        ArrowWriter::try_new(file, R::schema(), Some(props)).map_err(parquet(path.display()))?;
    let mut batch = Vec::with_capacity(BATCH_ROWS);
    let mut rows = 0i64;
    for row in query.load_iter::<R, PgRowByRowLoadingMode>(conn)? {
        let row = row?;
        each(&row);
        batch.push(row);
        if batch.len() == BATCH_ROWS {
            rows += flush(&mut writer, &mut batch, path)?;
        }
    }
    rows += flush(&mut writer, &mut batch, path)?;
    writer.close().map_err(parquet(path.display()))?;
    Ok(rows)
}

fn flush<R: ArchivedRow>(
    writer: &mut ArrowWriter<File>,
    batch: &mut Vec<R>,
    path: &Path,
) -> Result<i64, ArchiveError> {
    if batch.is_empty() {
        return Ok(0);
    }
    writer
        .write(&R::to_batch(batch))
        .map_err(parquet(path.display()))?;
    let n = batch.len() as i64;
    batch.clear();
    Ok(n)
}

/// Reads every row of the Parquet file at `path`, a batch at a time, calling `each`.
pub fn read<R: ArchivedRow>(
    path: &Path,
    mut each: impl FnMut(R) -> Result<(), ArchiveError>,
) -> Result<i64, ArchiveError> {
    let file = File::open(path).map_err(io(path.display()))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(parquet(path.display()))?
        .with_batch_size(BATCH_ROWS)
        .build()
        .map_err(parquet(path.display()))?;
    let mut rows = 0;
    for batch in reader {
        let batch = batch.map_err(|e| ArchiveError::Parquet {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        let decoded = R::from_batch(&batch).ok_or_else(|| ArchiveError::Parquet {
            path: path.display().to_string(),
            reason: format!("its columns are not those of {:?} files", R::KIND),
        })?;
        for row in decoded {
            rows += 1;
            each(row)?;
        }
    }
    Ok(rows)
}

/// Lowercase hex SHA-256 and size of the file at `path`, read in chunks.
pub fn sha256(path: &Path) -> Result<(String, u64), ArchiveError> {
    let mut file = BufReader::new(File::open(path).map_err(io(path.display()))?);
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf).map_err(io(path.display()))?;
        if n == 0 {
            break;
        }
        size += n as u64;
        hasher.update(&buf[..n]);
    }
    Ok((hex::encode(hasher.finalize()), size))
}
