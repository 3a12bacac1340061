//! CAR v1 files (IPFS content-addressable archives): a varint-framed DAG-CBOR header
//! `{roots: [CID], version: 1}`, then sections `varint(len) ‖ CID ‖ block`. `vouch export`
//! writes every Vouch object as one DAG-CBOR block; `vouch import` reads them back and checks
//! each block against its CID. Reading and writing are synchronous and bounded: a header or a
//! section longer than its limit is an error, never an allocation.
//!
//! The framing is small enough to keep here; CBOR and CIDs come from `serde_ipld_dagcbor` and
//! `cid`. `tests/interop-car/` checks it against `@ipld/car` (JavaScript) in both directions.

use std::io::{Read, Write};

use cid::Cid;
use serde::{Deserialize, Serialize};
use vouch_reputation::ObjectId;

/// Largest header accepted (its `roots` list).
pub const MAX_HEADER_BYTES: u64 = 4 * 1024 * 1024;
/// Largest section (CID + block) accepted. Vouch objects are at most 64 KiB; IPFS blocks of
/// files from elsewhere are at most 2 MiB in practice.
pub const MAX_SECTION_BYTES: u64 = 4 * 1024 * 1024;
/// Most roots `vouch export` names in a header: a whole store is exported with the first
/// ones only, so that the header stays small (every block is an object either way).
pub const MAX_EXPORT_ROOTS: usize = 1024;

/// A CAR failure. Every variant has a stable [`code`](CarError::code).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CarError {
    /// Reading or writing failed.
    #[error("car i/o: {0}")]
    Io(#[from] std::io::Error),
    /// The file ends inside the header or a section.
    #[error("car file is truncated")]
    Truncated,
    /// A length prefix is not a valid varint.
    #[error("car length prefix is not a valid varint")]
    BadVarint,
    /// The header is not `{roots: [CID], version: uint}` in DAG-CBOR.
    #[error("car header is not valid: {0}")]
    BadHeader(String),
    /// The header's version is not 1 (a CAR v2 file says 2).
    #[error("car version {0} is not supported (only CAR v1)")]
    UnsupportedVersion(u64),
    /// A header or section is longer than the limits above.
    #[error("car header or section of {0} bytes is over the limit")]
    TooLarge(u64),
    /// A section does not start with a valid CID.
    #[error("car section does not start with a valid CID: {0}")]
    Cid(String),
}

impl CarError {
    /// The stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            CarError::Io(_) => "car-io",
            CarError::Truncated => "car-truncated",
            CarError::BadVarint => "car-bad-varint",
            CarError::BadHeader(_) => "car-bad-header",
            CarError::UnsupportedVersion(_) => "car-unsupported-version",
            CarError::TooLarge(_) => "car-too-large",
            CarError::Cid(_) => "car-bad-cid",
        }
    }
}

/// Why a block is not a Vouch object's block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BlockError {
    /// The CID is not CIDv1 dag-cbor sha2-256 (the only form of a Vouch object id).
    #[error("the block's CID is not a Vouch object id (CIDv1 dag-cbor sha2-256)")]
    NotObjectCid,
    /// The block's bytes do not hash to its CID.
    #[error("the block's bytes do not match its CID")]
    CidMismatch,
}

impl BlockError {
    /// The stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            BlockError::NotObjectCid => "car-not-object-cid",
            BlockError::CidMismatch => "car-cid-mismatch",
        }
    }
}

/// Checks that `data` is the block `cid` names and that `cid` can name a Vouch object.
pub fn check_block(cid: &Cid, data: &[u8]) -> Result<ObjectId, BlockError> {
    let id = ObjectId::from_cid(cid).ok_or(BlockError::NotObjectCid)?;
    if ObjectId::of_bytes(data) != id {
        return Err(BlockError::CidMismatch);
    }
    Ok(id)
}

// Field order is the DAG-CBOR order (shorter key first), which is also how it is encoded.
#[derive(Debug, Serialize, Deserialize)]
struct Header {
    roots: Vec<Cid>,
    version: u64,
}

/// Reads a CAR v1 file block by block.
#[derive(Debug)]
pub struct CarReader<R> {
    reader: R,
    roots: Vec<Cid>,
}

impl<R: Read> CarReader<R> {
    /// Reads and checks the header.
    pub fn new(mut reader: R) -> Result<Self, CarError> {
        let len = read_varint(&mut reader)?.ok_or(CarError::Truncated)?;
        if len > MAX_HEADER_BYTES {
            return Err(CarError::TooLarge(len));
        }
        let bytes = read_exactly(&mut reader, len)?;
        let header: Header = serde_ipld_dagcbor::from_slice(&bytes)
            .map_err(|e| CarError::BadHeader(e.to_string()))?;
        if header.version != 1 {
            return Err(CarError::UnsupportedVersion(header.version));
        }
        Ok(CarReader {
            reader,
            roots: header.roots,
        })
    }

    /// The header's roots.
    pub fn roots(&self) -> &[Cid] {
        &self.roots
    }

    /// The next block, or `None` at the end of the file.
    pub fn next_block(&mut self) -> Result<Option<(Cid, Vec<u8>)>, CarError> {
        let Some(len) = read_varint(&mut self.reader)? else {
            return Ok(None);
        };
        if len > MAX_SECTION_BYTES {
            return Err(CarError::TooLarge(len));
        }
        let section = read_exactly(&mut self.reader, len)?;
        let mut cursor = std::io::Cursor::new(section.as_slice());
        let cid = Cid::read_bytes(&mut cursor).map_err(|e| CarError::Cid(e.to_string()))?;
        let start = usize::try_from(cursor.position()).map_err(|_| CarError::TooLarge(len))?;
        Ok(Some((cid, section[start..].to_vec())))
    }
}

/// Writes a CAR v1 file.
#[derive(Debug)]
pub struct CarWriter<W: Write> {
    writer: W,
}

impl<W: Write> CarWriter<W> {
    /// Writes the header naming `roots`.
    pub fn new(mut writer: W, roots: &[Cid]) -> Result<Self, CarError> {
        let header = serde_ipld_dagcbor::to_vec(&Header {
            roots: roots.to_vec(),
            version: 1,
        })
        .map_err(|e| CarError::BadHeader(e.to_string()))?;
        write_varint(&mut writer, header.len() as u64)?;
        writer.write_all(&header)?;
        Ok(CarWriter { writer })
    }

    /// Appends one block.
    pub fn write_block(&mut self, cid: &Cid, data: &[u8]) -> Result<(), CarError> {
        let cid_bytes = cid.to_bytes();
        write_varint(&mut self.writer, (cid_bytes.len() + data.len()) as u64)?;
        self.writer.write_all(&cid_bytes)?;
        self.writer.write_all(data)?;
        Ok(())
    }

    /// Flushes and returns the writer.
    pub fn finish(mut self) -> Result<W, CarError> {
        self.writer.flush()?;
        Ok(self.writer)
    }
}

/// Reads an unsigned LEB128 varint (at most 9 bytes, as multiformats' unsigned-varint
/// allows). `None` at a clean end of input.
fn read_varint(r: &mut impl Read) -> Result<Option<u64>, CarError> {
    let mut value: u64 = 0;
    for i in 0..9 {
        let mut byte = [0u8; 1];
        if r.read(&mut byte)? == 0 {
            return if i == 0 {
                Ok(None)
            } else {
                Err(CarError::Truncated)
            };
        }
        value |= u64::from(byte[0] & 0x7f) << (7 * i);
        if byte[0] & 0x80 == 0 {
            if byte[0] == 0 && i > 0 {
                // Not minimal: a trailing zero byte.
                return Err(CarError::BadVarint);
            }
            return Ok(Some(value));
        }
    }
    Err(CarError::BadVarint)
}

fn write_varint(w: &mut impl Write, mut value: u64) -> Result<(), CarError> {
    let mut buf = [0u8; 10];
    let mut n = 0;
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            buf[n] = byte;
            n += 1;
            break;
        }
        buf[n] = byte | 0x80;
        n += 1;
    }
    w.write_all(&buf[..n])?;
    Ok(())
}

fn read_exactly(r: &mut impl Read, len: u64) -> Result<Vec<u8>, CarError> {
    let mut buf = Vec::new();
    r.take(len).read_to_end(&mut buf)?;
    if (buf.len() as u64) < len {
        return Err(CarError::Truncated);
    }
    Ok(buf)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn cid_of(data: &[u8]) -> Cid {
        ObjectId::of_bytes(data).to_cid()
    }

    #[test]
    fn varints_round_trip_and_reject_bad_forms() {
        for v in [
            0u64,
            1,
            127,
            128,
            300,
            16_383,
            16_384,
            u64::from(u32::MAX),
            1 << 62,
        ] {
            let mut buf = Vec::new();
            write_varint(&mut buf, v).unwrap();
            assert_eq!(read_varint(&mut buf.as_slice()).unwrap(), Some(v));
        }
        // The spec's examples: 1 = 0x01, 127 = 0x7f, 128 = 0x80 0x01, 255 = 0xff 0x01,
        // 300 = 0xac 0x02, 16384 = 0x80 0x80 0x01.
        for (v, bytes) in [
            (1u64, vec![0x01]),
            (127, vec![0x7f]),
            (128, vec![0x80, 0x01]),
            (255, vec![0xff, 0x01]),
            (300, vec![0xac, 0x02]),
            (16_384, vec![0x80, 0x80, 0x01]),
        ] {
            let mut buf = Vec::new();
            write_varint(&mut buf, v).unwrap();
            assert_eq!(buf, bytes);
        }
        assert_eq!(read_varint(&mut [].as_slice()).unwrap(), None);
        assert!(matches!(
            read_varint(&mut [0x80].as_slice()),
            Err(CarError::Truncated)
        ));
        assert!(matches!(
            read_varint(&mut [0x81, 0x00].as_slice()),
            Err(CarError::BadVarint)
        ));
        assert!(matches!(
            read_varint(&mut [0xff; 10].as_slice()),
            Err(CarError::BadVarint)
        ));
    }

    #[test]
    fn blocks_round_trip_with_roots() {
        let blocks: Vec<Vec<u8>> = vec![vec![0xa0], vec![0x80], b"\x63abc".to_vec()];
        let roots = vec![cid_of(&blocks[0])];
        let mut w = CarWriter::new(Vec::new(), &roots).unwrap();
        for b in &blocks {
            w.write_block(&cid_of(b), b).unwrap();
        }
        let bytes = w.finish().unwrap();
        // Header: {roots: [cid], version: 1} = a2 65 "roots" 81 d8 2a ... 67 "version" 01.
        assert_eq!(bytes[1], 0xa2);
        assert_eq!(&bytes[2..8], b"\x65roots");

        let mut r = CarReader::new(bytes.as_slice()).unwrap();
        assert_eq!(r.roots(), roots.as_slice());
        let mut read = Vec::new();
        while let Some((cid, data)) = r.next_block().unwrap() {
            assert_eq!(check_block(&cid, &data).unwrap(), ObjectId::of_bytes(&data));
            read.push(data);
        }
        assert_eq!(read, blocks);
    }

    #[test]
    fn damaged_files_give_their_codes() {
        let data = vec![0xa0];
        let mut w = CarWriter::new(Vec::new(), &[]).unwrap();
        w.write_block(&cid_of(&data), &data).unwrap();
        let bytes = w.finish().unwrap();

        // Cut inside the last section.
        let mut r = CarReader::new(&bytes[..bytes.len() - 1]).unwrap();
        assert_eq!(r.next_block().unwrap_err().code(), "car-truncated");
        // Cut inside the header.
        assert_eq!(
            CarReader::new(&bytes[..3]).unwrap_err().code(),
            "car-truncated"
        );
        // A CAR v2 pragma decodes as a header with version 2.
        let v2 = serde_ipld_dagcbor::to_vec(&Header {
            roots: vec![],
            version: 2,
        })
        .unwrap();
        let mut file = vec![v2.len() as u8];
        file.extend_from_slice(&v2);
        assert_eq!(
            CarReader::new(file.as_slice()).unwrap_err().code(),
            "car-unsupported-version"
        );
        // Not a header at all.
        assert_eq!(
            CarReader::new([0x01, 0x01].as_slice()).unwrap_err().code(),
            "car-bad-header"
        );
        // A section length over the limit is refused before reading it.
        let mut big = CarWriter::new(Vec::new(), &[]).unwrap().finish().unwrap();
        write_varint(&mut big, MAX_SECTION_BYTES + 1).unwrap();
        let mut r = CarReader::new(big.as_slice()).unwrap();
        assert_eq!(r.next_block().unwrap_err().code(), "car-too-large");
        // A block whose bytes do not match its CID, and a CID of another codec.
        assert_eq!(
            check_block(&cid_of(b"x"), b"y").unwrap_err().code(),
            "car-cid-mismatch"
        );
        let raw = Cid::new_v1(0x55, *cid_of(&data).hash());
        assert_eq!(
            check_block(&raw, &data).unwrap_err().code(),
            "car-not-object-cid"
        );
    }
}
