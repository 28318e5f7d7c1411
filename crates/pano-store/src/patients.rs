//! Patients: an opaque id (the only thing that leaves this file), a display name and an
//! optional external id from the clinic's own records and an optional date of birth
//! (`YYYY-MM-DD`, checked by the service).

use rusqlite::{params, OptionalExtension, Row};

use crate::{now_rfc3339, Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Patient {
    pub id: String,
    pub display_name: String,
    pub external_id: Option<String>,
    pub birth_date: Option<String>,
    pub created_at: String,
}

#[derive(Debug, Clone)]
pub struct NewPatient {
    pub id: String,
    pub display_name: String,
    pub external_id: Option<String>,
    pub birth_date: Option<String>,
}

pub(crate) const PATIENT_COLUMNS: &str = "id, display_name, external_id, created_at, birth_date";

pub(crate) fn patient(row: &Row) -> rusqlite::Result<Patient> {
    Ok(Patient {
        id: row.get(0)?,
        display_name: row.get(1)?,
        external_id: row.get(2)?,
        created_at: row.get(3)?,
        birth_date: row.get(4)?,
    })
}

impl Store {
    pub fn insert_patient(&self, new: &NewPatient) -> Result<Patient, StoreError> {
        let created_at = now_rfc3339();
        self.conn.execute(
            "INSERT INTO patients (id, display_name, external_id, created_at, birth_date) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![new.id, new.display_name, new.external_id, created_at, new.birth_date],
        )?;
        Ok(Patient {
            id: new.id.clone(),
            display_name: new.display_name.clone(),
            external_id: new.external_id.clone(),
            birth_date: new.birth_date.clone(),
            created_at,
        })
    }

    pub fn patient(&self, id: &str) -> Result<Patient, StoreError> {
        self.conn
            .query_row(
                &format!("SELECT {PATIENT_COLUMNS} FROM patients WHERE id = ?1"),
                [id],
                patient,
            )
            .optional()?
            .ok_or_else(|| StoreError::NoSuchPatient(id.to_string()))
    }

    /// Patients whose name starts with `query` (case-insensitive) or whose external id
    /// equals it; by name.
    pub fn search_patients(&self, query: &str, limit: usize) -> Result<Vec<Patient>, StoreError> {
        // Three indexed lookups joined, rather than one OR that would scan the table.
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {PATIENT_COLUMNS} FROM (
                 SELECT * FROM patients WHERE display_name LIKE ?1 ESCAPE '\\'
                 UNION SELECT * FROM patients WHERE external_id = ?2
                 UNION SELECT * FROM patients WHERE id = ?2)
             ORDER BY display_name COLLATE NOCASE LIMIT ?3"
        ))?;
        let rows = stmt.query_map(
            params![format!("{}%", escape_like(query)), query, limit as i64],
            patient,
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

impl Store {
    /// The patient the newest approved analysis of these image bytes was filed for, other
    /// than `except` (the analysis being reviewed): the same radiograph dropped again.
    pub fn patient_approved_for_image(
        &self,
        image_sha256: &str,
        except: &str,
    ) -> Result<Option<Patient>, StoreError> {
        let columns = PATIENT_COLUMNS
            .split(", ")
            .map(|c| format!("p.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        Ok(self
            .conn
            .query_row(
                &format!(
                    "SELECT {columns} FROM analyses a JOIN patients p ON p.id = a.patient_id
                     WHERE a.image_sha256 = ?1 AND a.status = 'approved' AND a.id <> ?2
                     ORDER BY a.approved_at DESC LIMIT 1"
                ),
                params![image_sha256, except],
                patient,
            )
            .optional()?)
    }
}

pub(crate) fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}
