//! The course as ready-made JSON responses: every document is serialized
//! (and gzip-compressed) once at startup, so a request costs a map lookup
//! and a reference-count increment, not a serialization.

use crate::error::JSON;
use crate::http_util::{accepts_gzip, etag_matches};
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use flate2::{Compression, write::GzEncoder};
use layerlab_core::{Course, Journey};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Write;

/// One JSON document with its encodings and validators.
#[derive(Debug, Clone)]
pub struct JsonDoc {
    body: Bytes,
    etag: HeaderValue,
    gzip: Option<(Bytes, HeaderValue)>,
}

/// Bodies below this size are sent as they are: gzip would save little.
const GZIP_MIN: usize = 1024;

impl JsonDoc {
    /// Serializes `value`, hashes it for the ETag and gzips it if worthwhile.
    pub fn new<T: Serialize + ?Sized>(value: &T) -> Self {
        let body = serde_json::to_vec(value).expect("course types serialize to JSON");
        let digest = Sha256::digest(&body);
        let tag: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
        let etag = HeaderValue::from_str(&format!("\"{tag}\"")).expect("hex is a valid header");
        let gzip = (body.len() >= GZIP_MIN).then(|| {
            let mut enc = GzEncoder::new(Vec::new(), Compression::default());
            enc.write_all(&body).expect("gzip into memory");
            let gz = enc.finish().expect("gzip into memory");
            let etag =
                HeaderValue::from_str(&format!("\"{tag}-gzip\"")).expect("hex is a valid header");
            (Bytes::from(gz), etag)
        });
        Self {
            body: Bytes::from(body),
            etag,
            gzip,
        }
    }

    /// The uncompressed JSON.
    pub fn bytes(&self) -> &Bytes {
        &self.body
    }

    /// A 200 with the best encoding the client accepts, or a 304 when its
    /// cached copy is current. `no-cache`: content changes with the binary,
    /// so clients revalidate, which costs them a 304.
    pub fn respond(&self, req: &HeaderMap) -> Response {
        let (body, etag, gzipped) = match &self.gzip {
            Some((gz, etag)) if accepts_gzip(req) => (gz, etag, true),
            _ => (&self.body, &self.etag, false),
        };
        let unchanged = etag_matches(req, etag.to_str().unwrap_or_default());
        let mut res = if unchanged {
            let mut res = Response::new(Body::empty());
            *res.status_mut() = StatusCode::NOT_MODIFIED;
            res
        } else {
            Response::new(Body::from(body.clone()))
        };
        let h = res.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON));
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        h.insert(header::ETAG, etag.clone());
        if self.gzip.is_some() {
            h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        }
        if gzipped && !unchanged {
            h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        res
    }
}

/// A journey's entry in `GET /api/journeys`.
#[derive(Debug, Serialize)]
struct JourneyEntry<'a> {
    id: &'a str,
    title: &'a str,
    summary: &'a str,
}

/// Every API document the course and journeys yield.
#[derive(Debug)]
pub struct Content {
    /// `GET /api/course`: the outline.
    pub course: JsonDoc,
    /// `GET /api/lessons/{id}`.
    pub lessons: HashMap<String, JsonDoc>,
    /// `GET /api/journeys`: id, title, summary of each.
    pub journey_index: JsonDoc,
    /// `GET /api/journeys/{id}`.
    pub journeys: HashMap<String, JsonDoc>,
}

impl Content {
    /// Serializes everything the API serves from `course` and `journeys`.
    pub fn new(course: &Course, journeys: &[Journey]) -> Self {
        let index: Vec<_> = journeys
            .iter()
            .map(|j| JourneyEntry {
                id: &j.id,
                title: &j.title,
                summary: &j.summary,
            })
            .collect();
        Self {
            course: JsonDoc::new(&course.outline()),
            lessons: course
                .lessons()
                .map(|l| (l.id.clone(), JsonDoc::new(l)))
                .collect(),
            journey_index: JsonDoc::new(&index),
            journeys: journeys
                .iter()
                .map(|j| (j.id.clone(), JsonDoc::new(j)))
                .collect(),
        }
    }
}
