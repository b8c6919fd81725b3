//! Where an archive lives: a directory, or (feature `archive-s3`) S3-compatible object
//! storage.
//!
//! Files are first written to a staging path, synced, then put in place under their final
//! name in one step (a rename), so a reader never sees half a file under a final name.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::error::{io, ArchiveError};

/// The archive's root.
#[derive(Debug, Clone)]
pub enum Store {
    /// A local (or mounted) directory.
    Dir(PathBuf),
    /// `s3://bucket/prefix`.
    #[cfg(feature = "archive-s3")]
    S3(std::sync::Arc<super::s3::S3Store>),
}

impl Store {
    /// Parses `--to` / `--archive`: a directory path, or a URL of a supported scheme.
    pub fn parse(location: &str) -> Result<Store, ArchiveError> {
        #[cfg(feature = "archive-s3")]
        if location.starts_with("s3://") {
            return Ok(Store::S3(std::sync::Arc::new(super::s3::S3Store::open(
                location,
            )?)));
        }
        if let Some((scheme, _)) = location.split_once("://") {
            return Err(ArchiveError::BadLocation(format!(
                "{location:?}: {scheme}:// archives are not supported by this build; give a directory"
            )));
        }
        if location.is_empty() {
            return Err(ArchiveError::BadLocation(
                "the archive location is empty: give a directory".into(),
            ));
        }
        Ok(Store::Dir(PathBuf::from(location)))
    }

    /// Where to write `rel` before [`Store::commit`] puts it in place.
    pub fn staging_path(&self, rel: &str) -> Result<PathBuf, ArchiveError> {
        match self {
            Store::Dir(root) => {
                let target = root.join(rel);
                let dir = target.parent().expect("a file path has a parent");
                fs::create_dir_all(dir).map_err(io(dir.display()))?;
                let name = target.file_name().expect("a file name").to_string_lossy();
                // A leading `.`: engines skip hidden files, so a staged file is never read.
                Ok(dir.join(format!(".{name}.tmp")))
            }
            #[cfg(feature = "archive-s3")]
            Store::S3(s3) => Ok(s3.scratch_path(rel)),
        }
    }

    /// Syncs the staged file and puts it in place as `rel` (replacing an older copy).
    pub fn commit(&self, rel: &str, staged: &Path) -> Result<(), ArchiveError> {
        match self {
            Store::Dir(root) => {
                File::open(staged)
                    .and_then(|f| f.sync_all())
                    .map_err(io(staged.display()))?;
                let target = root.join(rel);
                fs::rename(staged, &target).map_err(io(target.display()))?;
                let dir = target.parent().expect("a file path has a parent");
                // The rename is durable once the directory is synced.
                File::open(dir)
                    .and_then(|d| d.sync_all())
                    .map_err(io(dir.display()))
            }
            #[cfg(feature = "archive-s3")]
            Store::S3(s3) => s3.upload(rel, staged),
        }
    }

    /// Writes small `bytes` (a manifest) as `rel`, durably and in one step.
    pub fn write_bytes(&self, rel: &str, bytes: &[u8]) -> Result<(), ArchiveError> {
        #[cfg(feature = "archive-s3")]
        if let Store::S3(s3) = self {
            return s3.put(rel, bytes);
        }
        let staged = self.staging_path(rel)?;
        let mut file = File::create(&staged).map_err(io(staged.display()))?;
        file.write_all(bytes).map_err(io(staged.display()))?;
        drop(file);
        self.commit(rel, &staged)
    }

    /// A local path to read `rel` from, or `None` when the archive has no such file.
    pub fn local_path(&self, rel: &str) -> Result<Option<PathBuf>, ArchiveError> {
        match self {
            Store::Dir(root) => {
                let path = root.join(rel);
                Ok(path.is_file().then_some(path))
            }
            #[cfg(feature = "archive-s3")]
            Store::S3(s3) => s3.download(rel),
        }
    }

    /// The bytes of `rel`, or `None` when there is no such file.
    pub fn read_bytes(&self, rel: &str) -> Result<Option<Vec<u8>>, ArchiveError> {
        match self.local_path(rel)? {
            None => Ok(None),
            Some(path) => fs::read(&path).map(Some).map_err(io(path.display())),
        }
    }

    /// Every file under the root, as `/`-separated relative paths, sorted.
    pub fn list(&self) -> Result<Vec<String>, ArchiveError> {
        match self {
            Store::Dir(root) => {
                let mut found = Vec::new();
                if root.is_dir() {
                    walk(root, root, &mut found)?;
                }
                found.sort();
                Ok(found)
            }
            #[cfg(feature = "archive-s3")]
            Store::S3(s3) => s3.list(),
        }
    }

    /// Removes staged files left by an interrupted run under `prefix`.
    pub fn remove_staged(&self, prefix: &str) -> Result<(), ArchiveError> {
        #[cfg(feature = "archive-s3")]
        if let Store::S3(_) = self {
            return Ok(()); // staged in a scratch directory of this process only
        }
        for rel in self.list()? {
            let name = rel.rsplit('/').next().unwrap_or_default();
            if rel.starts_with(prefix) && name.starts_with('.') && name.ends_with(".tmp") {
                match self {
                    Store::Dir(root) => {
                        let path = root.join(&rel);
                        fs::remove_file(&path).map_err(io(path.display()))?;
                    }
                    #[cfg(feature = "archive-s3")]
                    Store::S3(_) => {}
                }
            }
        }
        Ok(())
    }

    /// The location, for messages.
    pub fn describe(&self) -> String {
        match self {
            Store::Dir(root) => root.display().to_string(),
            #[cfg(feature = "archive-s3")]
            Store::S3(s3) => s3.url().to_owned(),
        }
    }
}

fn walk(root: &Path, dir: &Path, found: &mut Vec<String>) -> Result<(), ArchiveError> {
    for entry in fs::read_dir(dir).map_err(io(dir.display()))? {
        let path = entry.map_err(io(dir.display()))?.path();
        if path.is_dir() {
            walk(root, &path, found)?;
        } else {
            let rel = path.strip_prefix(root).expect("under the root");
            let parts: Vec<_> = rel.iter().map(|p| p.to_string_lossy()).collect();
            found.push(parts.join("/"));
        }
    }
    Ok(())
}
