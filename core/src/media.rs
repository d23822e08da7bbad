//! Photos: made upload-ready on the device, checked on the server.
//!
//! [`prepare`] turns a camera photo into what travels and is kept: the
//! orientation from EXIF applied to the pixels, the long side scaled to
//! about 1600 px, re-encoded as JPEG (which drops every other piece of
//! metadata: GPS, camera serial, time), plus a small thumbnail. Both are
//! addressed by the SHA-256 of their bytes. [`inspect`] is the server's
//! check of an uploaded blob: a real JPEG/PNG/WebP within size limits,
//! refused before decoding when its dimensions announce a decompression
//! bomb.
//!
//! **Decoding memory.** A small file can announce many pixels: a 143 KB
//! PNG of 7,000 × 7,000 decodes to 147 MB. [`prepare`] checks the pixel
//! count from the header first, decodes with [`image::Limits`] (at most
//! [`MAX_DECODE_BYTES`]), and keeps one full-size copy at a time: the
//! decoded buffer is scaled down in its own pixel layout and only the
//! scaled image is converted, oriented and encoded (it used to hold three
//! full-size copies, about 650 MiB for that PNG). [`prepare_cost`] says
//! from the header what a decode will hold at its peak, so a server can
//! bound how many run at once by their memory (`sync-server`'s
//! `limits.rs`).

use std::io::Cursor;

use fast_image_resize::{PixelType, ResizeAlg, ResizeOptions, Resizer, images::Image as FrImage};
use image::{
    ColorType, DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits,
    codecs::jpeg::JpegEncoder,
};
use sha2::{Digest, Sha256};

/// Long side of an upload-ready photo, in pixels.
pub const PHOTO_LONG_SIDE: u32 = 1600;
/// Long side of a thumbnail, in pixels.
pub const THUMB_LONG_SIDE: u32 = 320;
const PHOTO_QUALITY: u8 = 80;
const THUMB_QUALITY: u8 = 70;
/// The most pixels an accepted image may announce (about 50 megapixels).
pub const MAX_PIXELS: u64 = 50_000_000;
/// The largest input file accepted, in bytes.
pub const MAX_INPUT_BYTES: usize = 40 * 1024 * 1024;
/// The most a decoded image may take in memory (4 bytes a pixel at
/// [`MAX_PIXELS`]); a 16-bit image of that many pixels is refused.
pub const MAX_DECODE_BYTES: u64 = MAX_PIXELS * 4;

/// Why a photo was refused.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("the file is not a JPEG, PNG or WebP image")]
    NotAnImage,
    #[error("the image is {width}×{height} pixels, more than the {MAX_PIXELS} pixels allowed")]
    TooManyPixels { width: u32, height: u32 },
    #[error("the file is {0} bytes, more than allowed")]
    TooLarge(usize),
    #[error("the image could not be read: {0}")]
    Corrupt(String),
}

impl MediaError {
    /// A stable code for the UI and HTTP answers.
    pub fn code(&self) -> &'static str {
        match self {
            MediaError::NotAnImage => "not_an_image",
            MediaError::TooManyPixels { .. } => "too_many_pixels",
            MediaError::TooLarge(_) => "too_large",
            MediaError::Corrupt(_) => "corrupt_image",
        }
    }
}

/// An encoded image and its address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    pub bytes: Vec<u8>,
    /// Lowercase hex SHA-256 of `bytes`.
    pub sha256: String,
    pub width: u32,
    pub height: u32,
}

/// A photo ready to store and upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    pub photo: Encoded,
    pub thumbnail: Encoded,
}

/// What [`inspect`] learned of a blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inspected {
    pub format: &'static str,
    pub width: u32,
    pub height: u32,
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A reader over an in-memory file, with the format it was recognised as.
type Reader<'a> = (ImageReader<Cursor<&'a [u8]>>, ImageFormat);

fn reader(bytes: &[u8]) -> Result<Reader<'_>, MediaError> {
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(MediaError::TooLarge(bytes.len()));
    }
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| MediaError::Corrupt(e.to_string()))?;
    match reader.format() {
        Some(f @ (ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP)) => Ok((reader, f)),
        _ => Err(MediaError::NotAnImage),
    }
}

/// Checks a blob is an image Gridwork accepts without decoding its pixels.
pub fn inspect(bytes: &[u8]) -> Result<Inspected, MediaError> {
    let (reader, format) = reader(bytes)?;
    let (width, height) = reader
        .into_dimensions()
        .map_err(|e| MediaError::Corrupt(e.to_string()))?;
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(MediaError::TooManyPixels { width, height });
    }
    let format = match format {
        ImageFormat::Jpeg => "image/jpeg",
        ImageFormat::Png => "image/png",
        _ => "image/webp",
    };
    Ok(Inspected {
        format,
        width,
        height,
    })
}

/// What [`prepare`] will hold in memory at its peak for this file, in
/// bytes, read from the header without decoding: the decoded image (a
/// JPEG decoder may hold its coefficients besides, a WebP its YUV
/// planes), the input, and the scaled copies. Fails as [`inspect`] does.
pub fn prepare_cost(bytes: &[u8]) -> Result<u64, MediaError> {
    let info = inspect(bytes)?;
    let (reader, format) = reader(bytes)?;
    let decoder = reader
        .into_decoder()
        .map_err(|e| MediaError::Corrupt(e.to_string()))?;
    let decoded = decoder.total_bytes();
    let working = match format {
        // A progressive JPEG keeps 16-bit coefficients of every component.
        ImageFormat::Jpeg => decoded * 3,
        ImageFormat::WebP => decoded * 2,
        _ => decoded,
    };
    // Not RGB/RGBA/grey: converted to RGB at full size once.
    let converted = if matches!(
        decoder.color_type(),
        ColorType::Rgb8 | ColorType::Rgba8 | ColorType::L8 | ColorType::La8
    ) {
        0
    } else {
        u64::from(info.width) * u64::from(info.height) * 3
    };
    let scaled = u64::from(PHOTO_LONG_SIDE) * u64::from(PHOTO_LONG_SIDE) * 4 * 2;
    Ok(working + converted + scaled + bytes.len() as u64)
}

/// Makes a camera photo upload-ready: orientation applied, long side about
/// [`PHOTO_LONG_SIDE`], JPEG without metadata, and a thumbnail. Holds one
/// full-size copy of the pixels (see the module doc).
pub fn prepare(bytes: &[u8]) -> Result<Prepared, MediaError> {
    let info = inspect(bytes)?;
    let (reader, _) = reader(bytes)?;
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| MediaError::Corrupt(e.to_string()))?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(info.width);
    limits.max_image_height = Some(info.height);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    // Over a limit (a 16-bit image of many pixels) reads as too many.
    let refused = |e: ImageError| match e {
        ImageError::Limits(_) => MediaError::TooManyPixels {
            width: info.width,
            height: info.height,
        },
        other => MediaError::Corrupt(other.to_string()),
    };
    decoder.set_limits(limits).map_err(refused)?;
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let image = DynamicImage::from_decoder(decoder).map_err(refused)?;
    let mut photo = scale_owned(image, PHOTO_LONG_SIDE)?;
    let mut thumb = scale(&photo, THUMB_LONG_SIDE)?;
    // Orientation last, on the smaller images: the same result, less work.
    photo.apply_orientation(orientation);
    thumb.apply_orientation(orientation);
    Ok(Prepared {
        photo: encode(&photo, PHOTO_QUALITY)?,
        thumbnail: encode(&thumb, THUMB_QUALITY)?,
    })
}

/// The target size of an image of `w` × `h` whose long side becomes
/// `long_side`, or `None` when it is no longer than that already.
fn scaled_size(w: u32, h: u32, long_side: u32) -> Option<(u32, u32)> {
    if w.max(h) <= long_side {
        return None;
    }
    let short =
        |s: u32, l: u32| ((u64::from(s) * u64::from(long_side)) / u64::from(l)).max(1) as u32;
    Some(if w >= h {
        (long_side, short(h, w))
    } else {
        (short(w, h), long_side)
    })
}

/// Scales a decoded image down to `long_side` as RGB, consuming it: the
/// full-size pixels are resized in the layout they were decoded in (RGB,
/// RGBA, grey, grey with alpha) without a converted full-size copy.
fn scale_owned(image: DynamicImage, long_side: u32) -> Result<DynamicImage, MediaError> {
    let (w, h) = (image.width(), image.height());
    let Some((nw, nh)) = scaled_size(w, h, long_side) else {
        return Ok(DynamicImage::ImageRgb8(image.into_rgb8()));
    };
    let (pixels, raw) = match image {
        DynamicImage::ImageRgb8(b) => (PixelType::U8x3, b.into_raw()),
        DynamicImage::ImageRgba8(b) => (PixelType::U8x4, b.into_raw()),
        DynamicImage::ImageLuma8(b) => (PixelType::U8, b.into_raw()),
        DynamicImage::ImageLumaA8(b) => (PixelType::U8x2, b.into_raw()),
        other => (PixelType::U8x3, other.into_rgb8().into_raw()),
    };
    let resized = resize(raw, w, h, nw, nh, pixels)?;
    let small = match pixels {
        PixelType::U8x4 => image::RgbaImage::from_raw(nw, nh, resized).map(DynamicImage::from),
        PixelType::U8 => image::GrayImage::from_raw(nw, nh, resized).map(DynamicImage::from),
        PixelType::U8x2 => image::GrayAlphaImage::from_raw(nw, nh, resized).map(DynamicImage::from),
        _ => image::RgbImage::from_raw(nw, nh, resized).map(DynamicImage::from),
    }
    .ok_or_else(|| MediaError::Corrupt("resize produced a wrong buffer".into()))?;
    Ok(DynamicImage::ImageRgb8(small.into_rgb8()))
}

/// Scales an (already small) RGB image down to `long_side`.
fn scale(image: &DynamicImage, long_side: u32) -> Result<DynamicImage, MediaError> {
    scale_owned(image.clone(), long_side)
}

fn resize(
    raw: Vec<u8>,
    w: u32,
    h: u32,
    nw: u32,
    nh: u32,
    pixels: PixelType,
) -> Result<Vec<u8>, MediaError> {
    let src =
        FrImage::from_vec_u8(w, h, raw, pixels).map_err(|e| MediaError::Corrupt(e.to_string()))?;
    let mut dst = FrImage::new(nw, nh, pixels);
    Resizer::new()
        .resize(
            &src,
            &mut dst,
            &ResizeOptions::new().resize_alg(ResizeAlg::Convolution(
                fast_image_resize::FilterType::Bilinear,
            )),
        )
        .map_err(|e| MediaError::Corrupt(e.to_string()))?;
    Ok(dst.into_vec())
}

fn encode(image: &DynamicImage, quality: u8) -> Result<Encoded, MediaError> {
    let mut bytes = Vec::new();
    JpegEncoder::new_with_quality(&mut bytes, quality)
        .encode_image(image)
        .map_err(|e| MediaError::Corrupt(e.to_string()))?;
    Ok(Encoded {
        sha256: sha256_hex(&bytes),
        width: image.width(),
        height: image.height(),
        bytes,
    })
}

/// A synthetic camera-like photo (gradients and noise, so it compresses
/// like a real one), for tests and the bench.
pub fn synthetic_photo(width: u32, height: u32, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    let img = image::RgbImage::from_fn(width, height, |x, y| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        // Mild sensor noise over smooth shapes, as in a daylight photo.
        let noise = (state & 0x7) as u8;
        let (fx, fy) = (
            x as f32 / width.max(1) as f32,
            y as f32 / height.max(1) as f32,
        );
        let wave = ((fx * 37.0).sin() * (fy * 23.0).cos() * 60.0 + 100.0) as u8;
        image::Rgb([
            ((fx * 200.0) as u8).wrapping_add(noise),
            wave.wrapping_add(noise),
            ((fy * 180.0) as u8 + if (x / 40 + y / 40) % 2 == 0 { 40 } else { 0 })
                .wrapping_add(noise),
        ])
    });
    let mut bytes = Vec::new();
    // Encoding an in-memory RGB buffer as JPEG cannot fail.
    JpegEncoder::new_with_quality(&mut bytes, 92)
        .encode_image(&img)
        .expect("encode synthetic photo");
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_photo_becomes_an_upload_ready_jpeg_and_a_thumbnail() {
        let original = synthetic_photo(2000, 1500, 7);
        let p = prepare(&original).unwrap();
        assert_eq!((p.photo.width, p.photo.height), (1600, 1200));
        assert_eq!(p.thumbnail.width, 320);
        assert_eq!(p.photo.sha256, sha256_hex(&p.photo.bytes));
        assert_eq!(inspect(&p.photo.bytes).unwrap().format, "image/jpeg");
        assert!(p.photo.bytes.len() < 400_000, "{}", p.photo.bytes.len());
        // Same input, same output: the address is stable.
        assert_eq!(prepare(&original).unwrap().photo.sha256, p.photo.sha256);
    }

    #[test]
    fn a_small_photo_keeps_its_size() {
        let p = prepare(&synthetic_photo(800, 600, 1)).unwrap();
        assert_eq!((p.photo.width, p.photo.height), (800, 600));
    }

    #[test]
    fn non_images_and_bombs_are_refused_with_a_clear_error() {
        assert_eq!(
            inspect(b"hello, not an image").unwrap_err().code(),
            "not_an_image"
        );
        assert_eq!(inspect(b"").unwrap_err().code(), "not_an_image");
        // A PNG header announcing 100000×100000 pixels: refused before decoding.
        let mut png = Vec::new();
        image::codecs::png::PngEncoder::new(&mut png)
            .write_image(&[0u8; 3], 1, 1, image::ExtendedColorType::Rgb8)
            .unwrap();
        // IHDR width and height live at bytes 16..24; the CRC is not checked
        // before the dimensions are read.
        png[16..20].copy_from_slice(&100_000u32.to_be_bytes());
        png[20..24].copy_from_slice(&100_000u32.to_be_bytes());
        let err = inspect(&png).unwrap_err();
        assert!(
            matches!(err.code(), "too_many_pixels" | "corrupt_image"),
            "{err}"
        );
        assert!(prepare(&png).is_err());
        let truncated = &synthetic_photo(400, 300, 3)[..200];
        assert!(prepare(truncated).is_err());
    }

    use image::ImageEncoder;
}
