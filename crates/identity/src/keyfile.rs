//! Secret key files: the key's seed as `did:key` public form plus hex seed, written with
//! owner-only permissions (0600 on Unix) so that other local users cannot read it.

use crate::keys::SecretKey;
use std::io::Write;
use std::path::Path;

/// Why a key file could not be written or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyFileError {
    /// The file could not be created, written or read.
    #[error("key file I/O: {0}")]
    Io(#[from] std::io::Error),
    /// The file exists: keys are never overwritten.
    #[error("key file already exists")]
    Exists,
    /// The file does not hold a Vouch key.
    #[error("not a Vouch key file: {0}")]
    Format(&'static str),
    /// The file can be read by other users (Unix mode is not 0600 or stricter).
    #[error("key file permissions are too open (mode {0:o}); expected 0600")]
    Permissions(u32),
}

impl KeyFileError {
    /// The stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            KeyFileError::Io(_) => "keyfile-io",
            KeyFileError::Exists => "keyfile-exists",
            KeyFileError::Format(_) => "keyfile-format",
            KeyFileError::Permissions(_) => "keyfile-permissions",
        }
    }
}

const HEADER: &str = "vouch-secret-key-v1";

/// Writes a new key file. Fails with [`KeyFileError::Exists`] rather than overwrite.
pub fn write_key_file(path: &Path, key: &SecretKey) -> Result<(), KeyFileError> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut file = opts.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            KeyFileError::Exists
        } else {
            KeyFileError::Io(e)
        }
    })?;
    let seed = key.to_seed();
    let mut hex = String::with_capacity(64);
    for b in seed {
        hex.push_str(&format!("{b:02x}"));
    }
    let text = format!("{HEADER}\npublic {}\nseed {hex}\n", key.public_key());
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    Ok(())
}

/// Reads a key file, refusing files that other users could read.
pub fn read_key_file(path: &Path) -> Result<SecretKey, KeyFileError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyFileError::Permissions(mode));
        }
    }
    let text = std::fs::read_to_string(path)?;
    let mut lines = text.lines();
    if lines.next() != Some(HEADER) {
        return Err(KeyFileError::Format("missing header"));
    }
    let mut seed_hex = None;
    let mut public = None;
    for line in lines {
        if let Some(v) = line.strip_prefix("seed ") {
            seed_hex = Some(v.trim());
        } else if let Some(v) = line.strip_prefix("public ") {
            public = Some(v.trim());
        }
    }
    let seed_hex = seed_hex.ok_or(KeyFileError::Format("missing seed"))?;
    if seed_hex.len() != 64 || !seed_hex.is_ascii() {
        return Err(KeyFileError::Format("seed must be 64 hex digits"));
    }
    let mut seed = [0u8; 32];
    for (i, byte) in seed.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&seed_hex[2 * i..2 * i + 2], 16)
            .map_err(|_| KeyFileError::Format("seed must be 64 hex digits"))?;
    }
    let key = SecretKey::from_seed(&seed);
    if let Some(p) = public {
        if p != key.public_key().to_did_key() {
            return Err(KeyFileError::Format("public key does not match seed"));
        }
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_owner_only_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.key");
        let key = SecretKey::from_seed(&[3; 32]);
        write_key_file(&path, &key).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        assert_eq!(read_key_file(&path).unwrap().public_key(), key.public_key());
        assert!(matches!(
            write_key_file(&path, &key),
            Err(KeyFileError::Exists)
        ));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(matches!(
                read_key_file(&path),
                Err(KeyFileError::Permissions(0o644))
            ));
        }
    }
}
