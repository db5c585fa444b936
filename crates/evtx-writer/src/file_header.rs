//! The 4 KiB file header block: `ElfFile\0`, chunk numbers, next record id, version 3.1,
//! chunk count, flags and the CRC32 of its first 120 bytes; zeroes to 4096.

/// Size of the header block; the first chunk starts here.
pub const FILE_HEADER_SIZE: usize = 4096;

/// The header block for a file of `chunk_count` chunks whose next record id is
/// `next_record_id`.
pub(crate) fn file_header(chunk_count: u16, next_record_id: u64) -> Vec<u8> {
    let mut b = vec![0u8; FILE_HEADER_SIZE];
    b[..8].copy_from_slice(b"ElfFile\0");
    b[8..16].copy_from_slice(&0u64.to_le_bytes()); // first chunk number
    let last = u64::from(chunk_count.saturating_sub(1));
    b[16..24].copy_from_slice(&last.to_le_bytes());
    b[24..32].copy_from_slice(&next_record_id.to_le_bytes());
    b[32..36].copy_from_slice(&128u32.to_le_bytes()); // header size
    b[36..38].copy_from_slice(&1u16.to_le_bytes()); // minor version
    b[38..40].copy_from_slice(&3u16.to_le_bytes()); // major version
    b[40..42].copy_from_slice(&(FILE_HEADER_SIZE as u16).to_le_bytes());
    b[42..44].copy_from_slice(&chunk_count.to_le_bytes());
    b[120..124].copy_from_slice(&0u32.to_le_bytes()); // flags: clean, not full
    let crc = crc32fast::hash(&b[..120]);
    b[124..128].copy_from_slice(&crc.to_le_bytes());
    b
}
