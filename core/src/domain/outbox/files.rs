//! Files the user attaches to an e-mail batch in the composer (a practice leaflet as PDF, a
//! map as PNG). A file is stored once with its batch and uploaded once to the relay, which
//! attaches it to every e-mail of the batch (`wire::Attachment::file`, by SHA-256).
//!
//! Only PDF, PNG and JPEG are accepted, recognised by their content, not by the name; the
//! total is limited so that every e-mail stays below common provider limits (base64 makes
//! an attachment a third larger on the wire).

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::domain::ImageKind;
use crate::wire::Attachment;

/// The most files one batch may carry.
pub const MAX_FILES: usize = 5;
/// The most bytes all files of a batch may have together (10 MiB; about 13.7 MB in base64).
pub const MAX_TOTAL_BYTES: u64 = 10 * 1024 * 1024;

/// A file attached to every e-mail of a batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchFile {
    /// File name as the recipient sees it (no path).
    pub name: String,
    pub content_type: String,
    /// Lower-case hex SHA-256 of the content: its id on the relay.
    pub sha256: String,
    pub size: u64,
    /// The content, standard base64.
    pub data_base64: String,
}

/// Why a file cannot be attached (text in the app's catalogue).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileError {
    /// Not a PDF, PNG or JPEG.
    Kind {
        name: String,
    },
    Empty {
        name: String,
    },
    /// The same content is attached already.
    Duplicate {
        name: String,
    },
    TooMany {
        max: usize,
    },
    /// All files together would be larger than [`MAX_TOTAL_BYTES`].
    TooLarge {
        name: String,
        total: u64,
        max: u64,
    },
}

/// The MIME type of an allowed file, by its content.
pub fn sniff_file(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"%PDF-") {
        return Some("application/pdf");
    }
    match ImageKind::sniff(bytes)? {
        ImageKind::Png => Some("image/png"),
        ImageKind::Jpeg => Some("image/jpeg"),
    }
}

/// The name without any directory part and without control characters, at most 100
/// characters; "Anhang" when nothing is left.
pub fn clean_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let clean: String = base
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .take(100)
        .collect();
    let clean = clean.trim();
    if clean.is_empty() {
        "Anhang".into()
    } else {
        clean.into()
    }
}

/// Checks one more file against the ones attached already and makes its [`BatchFile`].
pub fn attach_file(
    attached: &[BatchFile],
    name: &str,
    bytes: &[u8],
) -> Result<BatchFile, FileError> {
    let name = clean_name(name);
    if bytes.is_empty() {
        return Err(FileError::Empty { name });
    }
    let Some(content_type) = sniff_file(bytes) else {
        return Err(FileError::Kind { name });
    };
    if attached.len() >= MAX_FILES {
        return Err(FileError::TooMany { max: MAX_FILES });
    }
    let total = total_bytes(attached) + bytes.len() as u64;
    if total > MAX_TOTAL_BYTES {
        return Err(FileError::TooLarge {
            name,
            total,
            max: MAX_TOTAL_BYTES,
        });
    }
    let sha256 = hex(&Sha256::digest(bytes));
    if attached.iter().any(|f| f.sha256 == sha256) {
        return Err(FileError::Duplicate { name });
    }
    Ok(BatchFile {
        name,
        content_type: content_type.into(),
        sha256,
        size: bytes.len() as u64,
        data_base64: base64::engine::general_purpose::STANDARD.encode(bytes),
    })
}

/// All files' bytes together.
pub fn total_bytes(files: &[BatchFile]) -> u64 {
    files.iter().map(|f| f.size).sum()
}

impl BatchFile {
    /// The wire attachment that refers to the uploaded file.
    pub fn reference(&self) -> Attachment {
        Attachment {
            filename: self.name.clone(),
            content_type: self.content_type.clone(),
            data_base64: String::new(),
            file: Some(self.sha256.clone()),
        }
    }

    /// The content.
    pub fn bytes(&self) -> Vec<u8> {
        base64::engine::general_purpose::STANDARD
            .decode(self.data_base64.as_bytes())
            .unwrap_or_default()
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PDF: &[u8] = b"%PDF-1.4\n%%EOF\n";
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    #[test]
    fn accepts_pdf_png_jpeg_by_content_and_refuses_the_rest() {
        let pdf = attach_file(&[], "C:\\Praxis\\Flyer.pdf", PDF).unwrap();
        assert_eq!(pdf.name, "Flyer.pdf");
        assert_eq!(pdf.content_type, "application/pdf");
        assert_eq!(pdf.size, PDF.len() as u64);
        assert_eq!(pdf.bytes(), PDF);
        // sha256("%PDF-1.4\n%%EOF\n"), independently: the relay checks uploads against it.
        assert!(crate::wire::is_file_id(&pdf.sha256));
        assert_eq!(
            attach_file(&[], "karte.pdf", PNG).unwrap().content_type,
            "image/png"
        );
        assert_eq!(
            attach_file(&[], "foto", &[0xFF, 0xD8, 0xFF, 0xE0])
                .unwrap()
                .content_type,
            "image/jpeg"
        );
        for (name, bytes) in [
            ("brief.docx", &b"PK\x03\x04"[..]),
            ("logo.svg", b"<svg/>"),
            ("a.pdf", b"not a pdf"),
        ] {
            assert_eq!(
                attach_file(&[], name, bytes),
                Err(FileError::Kind { name: name.into() })
            );
        }
        assert_eq!(
            attach_file(&[], "/tmp/", b""),
            Err(FileError::Empty {
                name: "Anhang".into()
            })
        );
    }

    #[test]
    fn limits_count_total_and_duplicates() {
        let first = attach_file(&[], "a.pdf", PDF).unwrap();
        assert_eq!(
            attach_file(std::slice::from_ref(&first), "b.pdf", PDF),
            Err(FileError::Duplicate {
                name: "b.pdf".into()
            })
        );
        let mut files = vec![first];
        for i in 1..MAX_FILES {
            let mut pdf = PDF.to_vec();
            pdf.push(i as u8);
            files.push(attach_file(&files, &format!("{i}.pdf"), &pdf).unwrap());
        }
        assert_eq!(
            attach_file(&files, "x.png", PNG),
            Err(FileError::TooMany { max: MAX_FILES })
        );
        let mut big = b"%PDF-".to_vec();
        big.resize(MAX_TOTAL_BYTES as usize - PDF.len() + 1, b' ');
        let one = attach_file(&[], "a.pdf", PDF).unwrap();
        assert_eq!(
            attach_file(std::slice::from_ref(&one), "gross.pdf", &big),
            Err(FileError::TooLarge {
                name: "gross.pdf".into(),
                total: MAX_TOTAL_BYTES + 1,
                max: MAX_TOTAL_BYTES
            })
        );
        big.pop();
        assert!(attach_file(&[one], "gross.pdf", &big).is_ok());
    }

    #[test]
    fn the_reference_names_the_file_by_its_hash() {
        let f = attach_file(&[], "Flyer \"neu\".pdf", PDF).unwrap();
        let r = f.reference();
        assert_eq!(r.filename, "Flyer neu.pdf");
        assert_eq!(r.file.as_deref(), Some(f.sha256.as_str()));
        assert!(r.data_base64.is_empty());
    }
}
