//! Workshops (`layerlab serve --workshop FILE --data DIR`): one server, many
//! learners. The instructor's file names the title, chapters, labs, opening
//! hours and join code; learners join from `/join` with the code and a
//! display name (no accounts) and get a signed, HttpOnly, SameSite=Strict
//! session cookie; the instructor signs in with the token printed at start.
//!
//! Who a request is for is decided here, once, from its cookie (or the
//! instructor's bearer token) — never from a path or body — so one
//! learner's requests can only ever name their own sandboxes and progress.

use crate::error::{ApiError, shorten};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use hmac::{Hmac, Mac};
use layerlab_core::Course;
use layerlab_core::lab::Lab;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Name of the session cookie (learners and the instructor alike).
pub const SESSION_COOKIE: &str = "layerlab_session";

/// Longest a session cookie is valid, whatever the workshop's hours.
const SESSION_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// Longest display name, in characters.
const NAME_LIMIT: usize = 40;

/// Why a workshop could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum WorkshopError {
    /// The workshop file could not be read.
    #[error("cannot read the workshop file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The workshop file is not valid.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the line where the parser knows it.
        message: String,
    },
    /// The workshop's database could not be opened.
    #[error(transparent)]
    Gradebook(#[from] crate::gradebook::GradebookError),
    /// The data folder could not be used.
    #[error("workshop data folder {path}: {source}")]
    Data {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// The instructor's workshop file (TOML), as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanFile {
    title: String,
    #[serde(default)]
    chapters: Vec<String>,
    #[serde(default)]
    labs: Vec<String>,
    #[serde(default)]
    opens: Option<String>,
    #[serde(default)]
    closes: Option<String>,
    #[serde(default)]
    join_code: Option<String>,
    #[serde(default)]
    idle_minutes: Option<u64>,
    #[serde(default)]
    max_learners: Option<usize>,
}

/// A workshop as the server runs it.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Shown on the join page.
    pub title: String,
    /// Chapter ids learners see (all when the file names none).
    pub chapters: Vec<String>,
    /// Lab ids learners may run.
    pub labs: Vec<String>,
    /// Joining opens at (unix seconds), if set.
    pub opens: Option<u64>,
    /// Joining and lab runs end at (unix seconds), if set.
    pub closes: Option<u64>,
    /// What learners type to join.
    pub join_code: String,
    /// An idle sandbox is removed after this long without use.
    pub idle: Duration,
    /// Most learners who may join.
    pub max_learners: usize,
}

impl Plan {
    /// Reads and checks a workshop file against the course and labs.
    pub fn load(path: &Path, course: &Course, labs: &[Lab]) -> Result<Plan, WorkshopError> {
        let text = std::fs::read_to_string(path).map_err(|source| WorkshopError::Read {
            path: path.into(),
            source,
        })?;
        Self::parse(&text, course, labs).map_err(|message| WorkshopError::Invalid {
            path: path.into(),
            message,
        })
    }

    /// Parses a workshop file's text; errors name the line or the unknown id.
    pub fn parse(text: &str, course: &Course, labs: &[Lab]) -> Result<Plan, String> {
        let file: PlanFile = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            match line {
                Some(l) => format!("line {l}: {}", e.message()),
                None => e.message().to_string(),
            }
        })?;
        if file.title.trim().is_empty() {
            return Err("`title` is empty".into());
        }
        let known: Vec<&str> = course.chapters.iter().map(|c| c.id.as_str()).collect();
        for c in &file.chapters {
            if !known.contains(&c.as_str()) {
                return Err(format!(
                    "no chapter `{c}` in the course; chapters are {}",
                    known.join(", ")
                ));
            }
        }
        let chapters = if file.chapters.is_empty() {
            known.iter().map(|s| s.to_string()).collect()
        } else {
            file.chapters
        };
        for l in &file.labs {
            if !labs.iter().any(|lab| &lab.id == l) {
                return Err(format!(
                    "no lab `{l}`; `layerlab lab list` shows the labs there are"
                ));
            }
        }
        let labs = if file.labs.is_empty() {
            labs.iter()
                .filter(|l| chapters.contains(&l.chapter))
                .map(|l| l.id.clone())
                .collect()
        } else {
            file.labs
        };
        let time = |field: &str, v: &Option<String>| -> Result<Option<u64>, String> {
            v.as_deref()
                .map(|s| {
                    s.parse::<jiff::Timestamp>()
                        .map(|t| t.as_second().max(0) as u64)
                        .map_err(|e| {
                            format!("`{field}` = {s:?} is not an RFC 3339 time (2026-12-06T09:00:00Z): {e}")
                        })
                })
                .transpose()
        };
        let (opens, closes) = (time("opens", &file.opens)?, time("closes", &file.closes)?);
        if let (Some(o), Some(c)) = (opens, closes)
            && c <= o
        {
            return Err("`closes` is not after `opens`".into());
        }
        let join_code = match file.join_code {
            Some(code) => {
                let code = code.trim().to_string();
                if code.chars().count() < 8 {
                    return Err(
                        "`join_code` is shorter than 8 characters: too easy to guess; leave it out and the server makes one"
                            .into(),
                    );
                }
                code
            }
            None => random_join_code(),
        };
        Ok(Plan {
            title: file.title.trim().to_string(),
            chapters,
            labs,
            opens,
            closes,
            join_code,
            idle: Duration::from_secs(60 * file.idle_minutes.unwrap_or(30).clamp(1, 24 * 60)),
            max_learners: file.max_learners.unwrap_or(200).clamp(1, 10_000),
        })
    }

    /// The course with only this workshop's chapters.
    pub fn course(&self, course: &Course) -> Course {
        Course {
            chapters: course
                .chapters
                .iter()
                .filter(|c| self.chapters.contains(&c.id))
                .cloned()
                .collect(),
            glossary: course.glossary.clone(),
        }
    }

    /// Whether learners may run this lab here.
    pub fn has_lab(&self, id: &str) -> bool {
        self.labs.iter().any(|l| l == id)
    }

    /// Why the workshop is not open at `now` (unix seconds), if it is not.
    pub fn closed_at(&self, now: u64) -> Option<String> {
        let show = |t: u64| {
            jiff::Timestamp::from_second(t as i64).map_or_else(|_| t.to_string(), |t| t.to_string())
        };
        match (self.opens, self.closes) {
            (Some(o), _) if now < o => Some(format!("the workshop opens at {}", show(o))),
            (_, Some(c)) if now >= c => Some(format!("the workshop closed at {}", show(c))),
            _ => None,
        }
    }
}

/// A join code of 10 letters and digits (about 50 bits), grouped for reading
/// aloud; no 0/O or 1/I/L to confuse.
fn random_join_code() -> String {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
    let bytes = random_bytes::<10>();
    let chars: String = bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect();
    format!("{}-{}", &chars[..5], &chars[5..])
}

/// Bytes from the operating system's random source.
fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    // The OS source failing means the machine cannot make secrets at all.
    getrandom::fill(&mut b).expect("the operating system's random source works");
    b
}

/// Unix seconds now.
pub fn unix_now() -> u64 {
    layerlab_labs::runner::epoch_ms() / 1000
}

/// Who a request is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// The single user of a server without `--workshop`.
    Local,
    /// A joined learner (their id, never their display name).
    Learner(String),
    /// The workshop's instructor.
    Instructor,
}

impl Caller {
    /// The sandbox owner this caller acts as (`None`: the single user).
    pub fn learner(&self) -> Option<&str> {
        match self {
            Caller::Local => None,
            Caller::Learner(id) => Some(id),
            // The instructor tries labs in a sandbox of their own.
            Caller::Instructor => Some("instructor"),
        }
    }
}

/// One joined learner.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Member {
    /// Server-made id (`l-` and 12 hex digits): sandbox keys, files.
    pub id: String,
    /// What they typed when joining.
    pub name: String,
    /// When they joined (unix seconds).
    pub joined: u64,
}

/// A running workshop: its plan, the roster, sessions and the join limiter.
pub struct Workshop {
    /// The instructor's plan.
    pub plan: Plan,
    /// Where the database, the session key and learners' progress live.
    pub data: PathBuf,
    /// The roster and every check result, on disk (`DATA/workshop.db`).
    pub book: std::sync::Arc<crate::gradebook::Gradebook>,
    key: [u8; 32],
    instructor_token: String,
    roster: Mutex<Vec<Member>>,
    joins: JoinLimiter,
}

impl std::fmt::Debug for Workshop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workshop")
            .field("title", &self.plan.title)
            .field("data", &self.data)
            .finish_non_exhaustive()
    }
}

type HmacSha256 = Hmac<Sha256>;

impl Workshop {
    /// Opens the workshop's data folder: the session key (made once, so
    /// learners stay signed in across restarts), the instructor token and
    /// the database with the roster.
    pub fn open(plan: Plan, data: &Path) -> Result<Workshop, WorkshopError> {
        let err = |path: &Path| {
            let path = path.to_path_buf();
            move |source| WorkshopError::Data { path, source }
        };
        std::fs::create_dir_all(data).map_err(err(data))?;
        restrict(data, 0o700).map_err(err(data))?;
        let key_file = data.join("session.key");
        let key = match std::fs::read(&key_file) {
            Ok(k) if k.len() == 32 => k.try_into().expect("32 bytes"),
            Ok(_) => {
                return Err(WorkshopError::Data {
                    path: key_file,
                    source: std::io::Error::other(
                        "not a session key (32 bytes); remove it to make a new one (signs everyone out)",
                    ),
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let k = random_bytes::<32>();
                write_secret(&key_file, &k).map_err(err(&key_file))?;
                k
            }
            Err(e) => return Err(err(&key_file)(e)),
        };
        let token_file = data.join("instructor.token");
        let instructor_token = match std::fs::read_to_string(&token_file) {
            Ok(t) if t.trim().len() >= 32 => t.trim().to_string(),
            Ok(_) | Err(_) => {
                let t = data_encoding::BASE64URL_NOPAD.encode(&random_bytes::<24>());
                write_secret(&token_file, t.as_bytes()).map_err(err(&token_file))?;
                t
            }
        };
        let book =
            crate::gradebook::Gradebook::open(&crate::gradebook::Gradebook::in_data_dir(data))?;
        let roster = book.members()?;
        Ok(Workshop {
            book: std::sync::Arc::new(book),
            plan,
            data: data.to_path_buf(),
            key,
            instructor_token,
            roster: Mutex::new(roster),
            joins: JoinLimiter::default(),
        })
    }

    /// The token the instructor signs in with (printed at start).
    pub fn instructor_token(&self) -> &str {
        &self.instructor_token
    }

    /// Where learners' progress files live.
    pub fn progress_dir(&self) -> PathBuf {
        self.data.join("progress")
    }

    /// Everyone who joined.
    pub fn roster(&self) -> Vec<Member> {
        self.roster
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// A joined learner by id.
    pub fn member(&self, id: &str) -> Option<Member> {
        self.roster
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(|m| m.id == id)
            .cloned()
    }

    /// Joins a learner: the code must match (compared in constant time,
    /// after the caller's address passed the rate limit), the workshop be
    /// open and not full. Answers the new member and their cookie.
    pub fn join(
        &self,
        from: Option<IpAddr>,
        code: &str,
        name: &str,
    ) -> Result<(Member, HeaderValue), ApiError> {
        self.joins.admit(from)?;
        let now = unix_now();
        if let Some(why) = self.plan.closed_at(now) {
            return Err(ApiError::new(StatusCode::FORBIDDEN, why));
        }
        let given = normalize_code(code);
        let wanted = normalize_code(&self.plan.join_code);
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("any key length");
        mac.update(given.as_bytes());
        // Comparing MACs of both keeps the comparison constant-time.
        let mut other = HmacSha256::new_from_slice(&self.key).expect("any key length");
        other.update(wanted.as_bytes());
        if mac.verify_slice(&other.finalize().into_bytes()).is_err() {
            self.joins.failed(from);
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "that is not this workshop's join code",
            ));
        }
        let name = display_name(name)?;
        let member = {
            let mut roster = self.roster.lock().unwrap_or_else(|e| e.into_inner());
            if roster.len() >= self.plan.max_learners {
                return Err(ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!(
                        "the workshop is full ({} learners); ask the instructor",
                        self.plan.max_learners
                    ),
                ));
            }
            let id = format!("l-{}", data_encoding::HEXLOWER.encode(&random_bytes::<6>()));
            let member = Member {
                id,
                name,
                joined: now,
            };
            // On disk before the learner hears they are in.
            if let Err(e) = self.book.add_member(&member) {
                tracing::error!(error = %e, "cannot save the roster");
                return Err(ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the server could not record your joining; try again",
                ));
            }
            roster.push(member.clone());
            member
        };
        tracing::info!(learner = %member.id, name = %member.name, "learner joined");
        let cookie = self.cookie(&format!("l:{}", member.id), now);
        Ok((member, cookie))
    }

    /// The instructor's cookie, if `token` is theirs.
    pub fn instructor_sign_in(&self, token: &str) -> Result<HeaderValue, ApiError> {
        if self.is_instructor_token(token) {
            Ok(self.cookie("i:instructor", unix_now()))
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "that is not the instructor token (the server printed it when it started)",
            ))
        }
    }

    fn is_instructor_token(&self, token: &str) -> bool {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("any key length");
        mac.update(token.trim().as_bytes());
        let mut want = HmacSha256::new_from_slice(&self.key).expect("any key length");
        want.update(self.instructor_token.as_bytes());
        mac.verify_slice(&want.finalize().into_bytes()).is_ok()
    }

    /// A signed `Set-Cookie` for `subject`, valid until the workshop closes
    /// or a day passes, whichever is first.
    fn cookie(&self, subject: &str, now: u64) -> HeaderValue {
        let mut expires = now + SESSION_LIFETIME.as_secs();
        if let Some(c) = self.plan.closes {
            expires = expires.min(c + 3600);
        }
        let value = self.sign(subject, expires);
        HeaderValue::from_str(&format!(
            "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
            expires.saturating_sub(now)
        ))
        .expect("cookie is ASCII")
    }

    fn sign(&self, subject: &str, expires: u64) -> String {
        let payload = format!("{subject}.{expires}");
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("any key length");
        mac.update(payload.as_bytes());
        let tag = data_encoding::BASE64URL_NOPAD.encode(&mac.finalize().into_bytes());
        format!("{payload}.{tag}")
    }

    /// Who sent these headers: a valid session cookie or the instructor's
    /// bearer token; `None` for anyone else (a forged, altered or expired
    /// cookie included).
    pub fn caller(&self, headers: &HeaderMap) -> Option<Caller> {
        if let Some(token) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
        {
            return self
                .is_instructor_token(token)
                .then_some(Caller::Instructor);
        }
        let value = cookie_value(headers, SESSION_COOKIE)?;
        self.verify(value, unix_now())
    }

    fn verify(&self, value: &str, now: u64) -> Option<Caller> {
        let (payload, tag) = value.rsplit_once('.')?;
        let tag = data_encoding::BASE64URL_NOPAD.decode(tag.as_bytes()).ok()?;
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("any key length");
        mac.update(payload.as_bytes());
        mac.verify_slice(&tag).ok()?;
        let (subject, expires) = payload.rsplit_once('.')?;
        if expires.parse::<u64>().ok()? <= now {
            return None;
        }
        match subject.split_once(':')? {
            ("i", "instructor") => Some(Caller::Instructor),
            ("l", id) if self.member(id).is_some() => Some(Caller::Learner(id.to_string())),
            _ => None,
        }
    }
}

/// A cookie's value from the request's `Cookie` headers.
fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Join codes compare without case, spaces or dashes (read aloud, typed on phones).
fn normalize_code(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect()
}

/// A display name as shown to the instructor: trimmed, 1 to 40 printable
/// characters.
fn display_name(name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    let count = name.chars().count();
    if count == 0 || count > NAME_LIMIT || name.chars().any(char::is_control) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "a display name is 1 to {NAME_LIMIT} characters with no control characters, not {:?}",
                shorten(name)
            ),
        ));
    }
    Ok(name.to_string())
}

/// Writes a secret file readable by the server's user only.
fn write_secret(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

fn restrict(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

/// Wrong join codes allowed in a burst, per address.
const JOIN_BURST: f64 = 5.0;
/// Then one more every this many seconds.
const JOIN_REFILL_SECS: f64 = 10.0;
/// Addresses tracked at once; beyond, the fullest buckets are forgotten.
const JOIN_TRACKED: usize = 10_000;

/// Rate limit on joining: a token bucket per client address (IPv6 per /64)
/// spent by wrong codes, so guessing a 50-bit code takes ages while a
/// classroom behind one NAT address still joins (right codes cost nothing).
#[derive(Debug, Default)]
struct JoinLimiter {
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
}

impl JoinLimiter {
    fn key(ip: Option<IpAddr>) -> IpAddr {
        match ip {
            Some(IpAddr::V6(v6)) => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
            Some(ip) => ip,
            None => IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
        }
    }

    fn level(tokens: f64, since: Instant) -> f64 {
        (tokens + since.elapsed().as_secs_f64() / JOIN_REFILL_SECS).min(JOIN_BURST)
    }

    /// A 429 when this address has spent its wrong guesses.
    fn admit(&self, ip: Option<IpAddr>) -> Result<(), ApiError> {
        let buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((tokens, since)) = buckets.get(&Self::key(ip))
            && Self::level(*tokens, *since) < 1.0
        {
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "too many wrong join codes from your address; wait {JOIN_REFILL_SECS:.0} seconds and check the code with your instructor"
                ),
            ));
        }
        Ok(())
    }

    fn failed(&self, ip: Option<IpAddr>) {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= JOIN_TRACKED {
            buckets.retain(|_, (t, s)| Self::level(*t, *s) < JOIN_BURST);
        }
        let entry = buckets
            .entry(Self::key(ip))
            .or_insert((JOIN_BURST, Instant::now()));
        let level = Self::level(entry.0, entry.1);
        *entry = ((level - 1.0).max(0.0), Instant::now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn course() -> &'static Course {
        layerlab_lessons::course()
    }

    fn plan(text: &str) -> Result<Plan, String> {
        Plan::parse(text, course(), layerlab_labs::labs())
    }

    #[test]
    fn a_plan_names_its_line_and_unknown_ids() {
        let e = plan("title = \"x\"\nchapters = [\"nope\"]\n").unwrap_err();
        assert!(
            e.contains("no chapter `nope`") && e.contains("linux"),
            "{e}"
        );
        let e = plan("title = \"x\"\nlabs = [\"nope\"]\n").unwrap_err();
        assert!(e.contains("no lab `nope`"), "{e}");
        let e = plan("title = \"x\"\n\nlabz = 3\n").unwrap_err();
        assert!(e.starts_with("line 3:"), "{e}");
        let e = plan("title = \"x\"\njoin_code = \"abc\"\n").unwrap_err();
        assert!(e.contains("shorter than 8"), "{e}");
        let e = plan("title = \"x\"\nopens = \"tomorrow\"\n").unwrap_err();
        assert!(e.contains("RFC 3339"), "{e}");
    }

    #[test]
    fn a_plan_takes_the_labs_of_its_chapters() {
        let p = plan("title = \"Linux day\"\nchapters = [\"linux\"]\n").unwrap();
        assert!(p.has_lab("router") && !p.has_lab("k8s-pod-network"));
        assert_eq!(p.course(course()).chapters.len(), 1);
        assert_eq!(normalize_code(&p.join_code).len(), 10);
    }

    #[test]
    fn hours_close_the_workshop() {
        let p = plan(
            "title = \"x\"\nopens = \"2026-01-01T09:00:00Z\"\ncloses = \"2026-01-01T17:00:00Z\"\n",
        )
        .unwrap();
        let nine = 1_767_258_000;
        assert!(p.closed_at(nine - 1).unwrap().contains("opens"));
        assert!(p.closed_at(nine).is_none());
        assert!(p.closed_at(nine + 8 * 3600).unwrap().contains("closed"));
    }

    fn workshop(dir: &Path) -> Workshop {
        let p = plan("title = \"x\"\njoin_code = \"blue-otter-42\"\n").unwrap();
        Workshop::open(p, dir).unwrap()
    }

    #[test]
    fn cookies_name_their_learner_and_resist_forgery() {
        let dir = tempfile::tempdir().unwrap();
        let w = workshop(dir.path());
        let (ada, cookie) = w.join(None, "BLUE OTTER 42", "Ada").unwrap();
        let value = cookie.to_str().unwrap();
        assert!(value.contains("HttpOnly") && value.contains("SameSite=Strict"));
        let v = value.split(';').next().unwrap().split_once('=').unwrap().1;
        assert_eq!(
            w.verify(v, unix_now()),
            Some(Caller::Learner(ada.id.clone()))
        );
        // Another learner's id in an otherwise valid cookie: the MAC breaks.
        let (bob, _) = w.join(None, "blue-otter-42", "Bob").unwrap();
        let forged = v.replace(&ada.id, &bob.id);
        assert_eq!(w.verify(&forged, unix_now()), None);
        // Expired: signed correctly, but in the past.
        let old = w.sign(&format!("l:{}", ada.id), unix_now() - 1);
        assert_eq!(w.verify(&old, unix_now()), None);
        // Signed with another server's key.
        let other = workshop(tempfile::tempdir().unwrap().path());
        let theirs = other.sign(&format!("l:{}", ada.id), unix_now() + 60);
        assert_eq!(w.verify(&theirs, unix_now()), None);
        // The instructor's subject cannot be claimed without the key.
        assert_eq!(w.verify("i:instructor.99999999999.AAAA", unix_now()), None);
        // The roster survives a restart, and so do sessions.
        let again = workshop(dir.path());
        assert_eq!(again.roster().len(), 2);
        assert_eq!(again.verify(v, unix_now()), Some(Caller::Learner(ada.id)));
    }

    #[test]
    fn wrong_codes_are_rate_limited_per_address() {
        let dir = tempfile::tempdir().unwrap();
        let w = workshop(dir.path());
        let mallory: IpAddr = "192.0.2.7".parse().unwrap();
        let mut refused = 0;
        for i in 0..1000 {
            match w.join(Some(mallory), &format!("guess-{i:05}"), "m") {
                Err(e) if e.status == StatusCode::TOO_MANY_REQUESTS => refused += 1,
                Err(e) => assert_eq!(e.status, StatusCode::FORBIDDEN),
                Ok(_) => panic!("a wrong code joined"),
            }
        }
        assert_eq!(refused, 1000 - JOIN_BURST as usize);
        // Even the right code waits now from that address...
        assert!(w.join(Some(mallory), "blue-otter-42", "m").is_err());
        // ...while a learner elsewhere joins at once.
        let ada: IpAddr = "198.51.100.1".parse().unwrap();
        assert!(w.join(Some(ada), "blue-otter-42", "Ada").is_ok());
    }

    #[test]
    fn display_names_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let w = workshop(dir.path());
        for bad in ["", "   ", "a\u{7}b", &"x".repeat(41)] {
            let e = w.join(None, "blue-otter-42", bad).unwrap_err();
            assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
        }
        assert!(w.roster().is_empty());
    }
}
