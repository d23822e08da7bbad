//! A streamed answer: pages of a pull, back to back in one HTTP answer,
//! each a whole [`super::wire`] frame after its length (4 bytes, big
//! endian), labelled [`super::api::PAGES_CONTENT_TYPE`].
//!
//! A device that asks for it ([`super::wire::SyncRequest::pages`]) gets
//! the pages after the first while it stores the first: on a 2G link the
//! round trip and the server's work on each next page no longer stand
//! between two pages. Each page is as a single answer would be, so a
//! device stores each one as it completes, and a cut loses only the page
//! it cut.

use super::wire::{MAX_BODY_BYTES, WireError};

/// Bytes of a page's length.
const LENGTH: usize = 4;

/// `frame` as a streamed answer carries it.
pub fn page(frame: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(frame.len() + LENGTH);
    // A frame is at most MAX_BODY_BYTES, far below 4 GiB.
    out.extend_from_slice(&(frame.len() as u32).to_be_bytes());
    out.extend_from_slice(frame);
    out
}

/// Splits the bytes of a streamed answer into its frames, as they arrive.
#[derive(Debug, Default)]
pub struct PageReader {
    held: Vec<u8>,
}

impl PageReader {
    /// Takes the next bytes of the answer.
    pub fn push(&mut self, bytes: &[u8]) {
        self.held.extend_from_slice(bytes);
    }

    /// The next whole frame, if it has arrived; refuses a page that says it
    /// is longer than any body may be, before its bytes arrive.
    pub fn next_frame(&mut self) -> Result<Option<Vec<u8>>, WireError> {
        let Some(head) = self.held.first_chunk::<LENGTH>() else {
            return Ok(None);
        };
        let len = u32::from_be_bytes(*head) as usize;
        if len > MAX_BODY_BYTES {
            return Err(WireError::TooLarge);
        }
        if self.held.len() < LENGTH + len {
            return Ok(None);
        }
        let frame = self.held[LENGTH..LENGTH + len].to_vec();
        self.held.drain(..LENGTH + len);
        Ok(Some(frame))
    }

    /// The answer has ended: refuses a page it cut short.
    pub fn finish(&self) -> Result<(), WireError> {
        if self.held.is_empty() {
            Ok(())
        } else {
            Err(WireError::Truncated)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_come_out_whole_however_the_bytes_arrive() {
        let frames: Vec<Vec<u8>> = vec![b"GW\x03\x00one".to_vec(), vec![7; 3000], Vec::new()];
        let stream: Vec<u8> = frames.iter().flat_map(|f| page(f)).collect();
        for piece in [1, 3, 4, 5, 1000, stream.len()] {
            let mut reader = PageReader::default();
            let mut out = Vec::new();
            for bytes in stream.chunks(piece) {
                reader.push(bytes);
                while let Some(frame) = reader.next_frame().unwrap() {
                    out.push(frame);
                }
            }
            reader.finish().unwrap();
            assert_eq!(out, frames, "in pieces of {piece}");
        }
    }

    #[test]
    fn a_page_cut_short_or_too_long_is_refused() {
        let stream = page(b"GW\x03\x00a page");
        let mut reader = PageReader::default();
        reader.push(&stream[..stream.len() - 1]);
        assert_eq!(reader.next_frame().unwrap(), None);
        assert!(matches!(reader.finish(), Err(WireError::Truncated)));

        let mut reader = PageReader::default();
        reader.push(&((MAX_BODY_BYTES + 1) as u32).to_be_bytes());
        assert!(matches!(reader.next_frame(), Err(WireError::TooLarge)));
    }
}
