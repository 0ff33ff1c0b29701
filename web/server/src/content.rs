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
use layerlab_core::lab::{Lab, LabView, Needs};
use layerlab_core::{Course, Journey, Question};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Write;

/// One API document, serialized once as JSON (for everyone) and as
/// postcard (for the browser app, which asks with `?format=postcard`, so
/// the page's `<link rel=preload>` fetches the very same response; `Accept:
/// application/postcard` works too): decoding postcard needs far less
/// WebAssembly than decoding JSON. Each has its gzip copy and validators.
#[derive(Debug, Clone)]
pub struct JsonDoc {
    json: Encoded,
    postcard: Encoded,
}

/// One encoding of a document.
#[derive(Debug, Clone)]
struct Encoded {
    body: Bytes,
    etag: HeaderValue,
    gzip: Option<(Bytes, HeaderValue)>,
    mime: &'static str,
}

/// Media type of the app's binary encoding.
pub const POSTCARD: &str = "application/postcard";

/// Bodies below this size are sent as they are: gzip would save little.
const GZIP_MIN: usize = 1024;

impl Encoded {
    fn new(body: Vec<u8>, mime: &'static str, suffix: &str) -> Self {
        let digest = Sha256::digest(&body);
        let tag: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
        let etag =
            HeaderValue::from_str(&format!("\"{tag}{suffix}\"")).expect("hex is a valid header");
        let gzip = (body.len() >= GZIP_MIN).then(|| {
            let mut enc = GzEncoder::new(Vec::new(), Compression::default());
            enc.write_all(&body).expect("gzip into memory");
            let gz = enc.finish().expect("gzip into memory");
            let etag = HeaderValue::from_str(&format!("\"{tag}{suffix}-gzip\""))
                .expect("hex is a valid header");
            (Bytes::from(gz), etag)
        });
        Self {
            body: Bytes::from(body),
            etag,
            gzip,
            mime,
        }
    }
}

impl JsonDoc {
    /// Serializes `value` both ways, hashes each for its ETag and gzips
    /// them if worthwhile.
    pub fn new<T: Serialize + ?Sized>(value: &T) -> Self {
        let json = serde_json::to_vec(value).expect("course types serialize to JSON");
        let postcard = postcard::to_stdvec(value).expect("course types serialize to postcard");
        Self {
            json: Encoded::new(json, JSON, ""),
            postcard: Encoded::new(postcard, POSTCARD, "-pc"),
        }
    }

    /// The uncompressed JSON.
    pub fn bytes(&self) -> &Bytes {
        &self.json.body
    }

    /// A 200 with the encoding the client asks for (JSON unless the query
    /// is `format=postcard` or `Accept` names postcard) in the best
    /// compression it accepts, or a 304 when its cached copy is current.
    /// `no-cache`: content changes with the binary, so clients revalidate,
    /// which costs them a 304.
    pub fn respond(&self, req: &HeaderMap, query: Option<&str>) -> Response {
        let wants_postcard = query.is_some_and(|q| q.split('&').any(|kv| kv == "format=postcard"))
            || req
                .get_all(header::ACCEPT)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .any(|v| v.contains(POSTCARD));
        let doc = if wants_postcard {
            &self.postcard
        } else {
            &self.json
        };
        let (body, etag, gzipped) = match &doc.gzip {
            Some((gz, etag)) if accepts_gzip(req) => (gz, etag, true),
            _ => (&doc.body, &doc.etag, false),
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
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(doc.mime));
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        h.insert(header::ETAG, etag.clone());
        h.insert(
            header::VARY,
            HeaderValue::from_static("accept, accept-encoding"),
        );
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

/// A lab's entry in `GET /api/labs`.
#[derive(Debug, Serialize)]
struct LabEntry<'a> {
    id: &'a str,
    title: &'a str,
    chapter: &'a str,
    needs: Needs,
    summary: &'a str,
    steps: usize,
}

/// Every API document the course, journeys and labs yield.
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
    /// `GET /api/labs`: id, title, chapter, needs, summary, step count.
    pub lab_index: JsonDoc,
    /// `GET /api/labs/{id}`: the learner's view (no expected answers).
    pub labs: HashMap<String, JsonDoc>,
    /// Each served lesson's quiz, for grading answers on the server.
    pub quizzes: HashMap<String, Vec<Question>>,
}

impl Content {
    /// Serializes everything the API serves from `course`, `journeys` and `labs`.
    pub fn new(course: &Course, journeys: &[Journey], labs: &[Lab]) -> Self {
        let lab_index: Vec<_> = labs
            .iter()
            .map(|l| LabEntry {
                id: &l.id,
                title: &l.title,
                chapter: &l.chapter,
                needs: l.needs,
                summary: &l.summary,
                steps: l.steps.len(),
            })
            .collect();
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
            lab_index: JsonDoc::new(&lab_index),
            labs: labs
                .iter()
                .map(|l| (l.id.clone(), JsonDoc::new(&LabView::of(l))))
                .collect(),
            quizzes: course
                .lessons()
                .map(|l| (l.id.clone(), l.quiz.clone()))
                .collect(),
        }
    }
}
