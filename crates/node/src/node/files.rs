//! Owner-only files: the data directory (0700) and the files in it that hold private data
//! (the database and its WAL and shared-memory files, API tokens, keys), created 0600 whatever
//! the process umask, and tightened when an older node left them readable by others.

use std::io::Write as _;
use std::path::Path;

/// Mode of private files (Unix).
pub(crate) const PRIVATE_FILE_MODE: u32 = 0o600;
/// Mode of the data directory (Unix).
pub(crate) const PRIVATE_DIR_MODE: u32 = 0o700;

/// Creates the data directory (and its parents) and makes it owner-only.
pub(crate) fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(PRIVATE_DIR_MODE)
            .create(dir)?;
        // An existing directory keeps its mode on create: tighten it.
        restrict(dir, PRIVATE_DIR_MODE)
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir)
}

/// Sets `path`'s mode to `mode` if it is looser (Unix); a missing file is fine.
fn restrict(path: &Path, mode: u32) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        match std::fs::metadata(path) {
            Ok(m) if m.permissions().mode() & 0o777 & !mode != 0 => {
                tracing::info!(path = %path.display(), from = format!("{:o}", m.permissions().mode() & 0o777), to = format!("{mode:o}"), "made owner-only");
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            }
            Ok(_) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (path, mode);
        Ok(())
    }
}

/// Before SQLite opens `db`: creates it empty and owner-only if it does not exist (SQLite
/// creates the `-wal`, `-shm` and `-journal` files with the mode of the database file), and
/// tightens an existing database and those files.
pub(crate) fn prepare_private_db(db: &Path) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(PRIVATE_FILE_MODE);
    }
    drop(opts.open(db)?);
    restrict(db, PRIVATE_FILE_MODE)?;
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        restrict(Path::new(&name), PRIVATE_FILE_MODE)?;
    }
    Ok(())
}

/// Writes `bytes` to `path` atomically (a temporary file, synced, renamed over it), the
/// file owner-only from its creation.
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(".tmp");
    let tmp = Path::new(&tmp_name);
    let _ = std::fs::remove_file(tmp);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(PRIVATE_FILE_MODE);
    }
    let mut f = opts.open(tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(tmp, path)?;
    if let Some(dir) = path.parent() {
        // The rename is durable once the directory is synced.
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// Reads a private file, refusing one that other users could read (Unix mode looser than
/// 0600): its secret may have leaked, so it is not used.
pub(crate) fn read_private(path: &Path) -> std::io::Result<Vec<u8>> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                format!(
                    "{} can be read by other users (mode {mode:o}); it holds a secret: \
                     delete it so that the node makes a new one, or chmod 600 it if no one \
                     else could have read it",
                    path.display()
                ),
            ));
        }
    }
    std::fs::read(path)
}

#[cfg(all(test, unix))]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn private_files_and_directories_are_owner_only() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a/b");
        create_private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        create_private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700, "an existing directory is tightened");

        let file = dir.join("secret");
        write_private(&file, b"one").unwrap();
        assert_eq!(mode(&file), 0o600);
        write_private(&file, b"two").unwrap();
        assert_eq!(read_private(&file).unwrap(), b"two");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = read_private(&file).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::PermissionDenied);

        let db = dir.join("x.sqlite");
        std::fs::write(dir.join("x.sqlite-wal"), b"").unwrap();
        std::fs::set_permissions(
            dir.join("x.sqlite-wal"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        prepare_private_db(&db).unwrap();
        assert_eq!(mode(&db), 0o600);
        assert_eq!(mode(&dir.join("x.sqlite-wal")), 0o600);
    }
}
