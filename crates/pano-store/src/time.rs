//! Timestamps are RFC 3339 UTC text with milliseconds: readable in the file and ordered
//! correctly by plain string comparison (history by date relies on it).

use std::time::{Duration, SystemTime};

pub fn now_rfc3339() -> String {
    rfc3339(SystemTime::now())
}

pub fn rfc3339(at: SystemTime) -> String {
    humantime::format_rfc3339_millis(at).to_string()
}

/// `now + delay`, for a job's next try.
pub fn in_future(delay: Duration) -> String {
    rfc3339(SystemTime::now() + delay)
}
