//! An archive in S3-compatible object storage (feature `archive-s3`), through the
//! `object_store` crate: `s3://bucket/prefix`, credentials, region and endpoint from the
//! usual `AWS_*` environment variables (`AWS_ENDPOINT` and `AWS_ALLOW_HTTP=true` for a
//! local S3-compatible server).
//!
//! Files are staged in a local scratch directory, then uploaded in parts of 8 MiB read from
//! disk (memory stays flat); an object appears whole or not at all. Reading downloads an
//! object to the scratch directory in ranges of 8 MiB.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::TryStreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};

use super::error::{io, ArchiveError};

const CHUNK: usize = 8 << 20;

/// An S3 bucket and prefix.
#[derive(Debug)]
pub struct S3Store {
    url: String,
    prefix: String,
    store: AmazonS3,
    runtime: tokio::runtime::Runtime,
    scratch: PathBuf,
}

static SCRATCH: AtomicU64 = AtomicU64::new(0);

impl S3Store {
    /// Connects to `s3://bucket/prefix` (nothing is sent until a file is read or written).
    pub fn open(url: &str) -> Result<S3Store, ArchiveError> {
        let rest = url.strip_prefix("s3://").unwrap_or_default();
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(ArchiveError::BadLocation(format!(
                "{url:?}: write s3://bucket/prefix"
            )));
        }
        let store = AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .build()
            .map_err(|e| ArchiveError::BadLocation(format!("{url}: {e}")))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(io("a tokio runtime"))?;
        let scratch = std::env::temp_dir().join(format!(
            "auditrum-archive-{}-{}",
            std::process::id(),
            SCRATCH.fetch_add(1, Ordering::Relaxed)
        ));
        fs::create_dir_all(&scratch).map_err(io(scratch.display()))?;
        Ok(S3Store {
            url: url.to_owned(),
            prefix: prefix.trim_matches('/').to_owned(),
            store,
            runtime,
            scratch,
        })
    }

    fn key(&self, rel: &str) -> ObjectPath {
        if self.prefix.is_empty() {
            ObjectPath::from(rel)
        } else {
            ObjectPath::from(format!("{}/{rel}", self.prefix))
        }
    }

    fn error(&self, rel: &str) -> impl FnOnce(object_store::Error) -> ArchiveError + '_ {
        let path = format!("{}/{rel}", self.url.trim_end_matches('/'));
        move |e| ArchiveError::Io {
            path,
            source: std::io::Error::other(e.to_string()),
        }
    }

    /// A local scratch path for `rel`.
    pub fn scratch_path(&self, rel: &str) -> PathBuf {
        self.scratch.join(rel.replace('/', "__"))
    }

    /// Uploads the local file `staged` as `rel`, in parts read from disk, then removes it.
    pub fn upload(&self, rel: &str, staged: &Path) -> Result<(), ArchiveError> {
        let key = self.key(rel);
        self.runtime.block_on(async {
            let upload = self
                .store
                .put_multipart(&key)
                .await
                .map_err(self.error(rel))?;
            let mut writer = WriteMultipart::new_with_chunk_size(upload, CHUNK);
            let mut file = File::open(staged).map_err(io(staged.display()))?;
            let mut buf = vec![0u8; CHUNK];
            loop {
                let n = file.read(&mut buf).map_err(io(staged.display()))?;
                if n == 0 {
                    break;
                }
                writer.wait_for_capacity(2).await.map_err(self.error(rel))?;
                writer.write(&buf[..n]);
            }
            writer.finish().await.map_err(self.error(rel))?;
            Ok::<_, ArchiveError>(())
        })?;
        fs::remove_file(staged).map_err(io(staged.display()))
    }

    /// Puts small `bytes` as `rel`.
    pub fn put(&self, rel: &str, bytes: &[u8]) -> Result<(), ArchiveError> {
        let key = self.key(rel);
        self.runtime
            .block_on(self.store.put(&key, PutPayload::from(bytes.to_vec())))
            .map_err(self.error(rel))?;
        Ok(())
    }

    /// Downloads `rel` to a scratch file, in ranges; `None` when there is no such object.
    pub fn download(&self, rel: &str) -> Result<Option<PathBuf>, ArchiveError> {
        let key = self.key(rel);
        let path = self.scratch_path(rel);
        self.runtime.block_on(async {
            let meta = match self.store.head(&key).await {
                Ok(meta) => meta,
                Err(object_store::Error::NotFound { .. }) => return Ok(None),
                Err(e) => return Err(self.error(rel)(e)),
            };
            let mut file = File::create(&path).map_err(io(path.display()))?;
            let mut at = 0u64;
            while at < meta.size {
                let end = (at + CHUNK as u64).min(meta.size);
                let bytes = self
                    .store
                    .get_range(&key, at..end)
                    .await
                    .map_err(self.error(rel))?;
                file.write_all(&bytes).map_err(io(path.display()))?;
                at = end;
            }
            Ok(Some(path.clone()))
        })
    }

    /// Every object under the prefix, relative to it.
    pub fn list(&self) -> Result<Vec<String>, ArchiveError> {
        let prefix = (!self.prefix.is_empty()).then(|| ObjectPath::from(self.prefix.as_str()));
        let metas: Vec<_> = self
            .runtime
            .block_on(self.store.list(prefix.as_ref()).try_collect::<Vec<_>>())
            .map_err(self.error(""))?;
        let strip = if self.prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", self.prefix)
        };
        let mut found: Vec<String> = metas
            .into_iter()
            .map(|m| m.location.to_string())
            .map(|p| p.strip_prefix(&strip).map(str::to_owned).unwrap_or(p))
            .collect();
        found.sort();
        Ok(found)
    }

    /// The URL.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for S3Store {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.scratch);
    }
}
