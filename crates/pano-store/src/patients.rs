//! Patients: an opaque id (the only thing that leaves this file), a display name and an
//! optional external id from the clinic's own records.

use rusqlite::{params, OptionalExtension, Row};

use crate::{now_rfc3339, Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Patient {
    pub id: String,
    pub display_name: String,
    pub external_id: Option<String>,
    pub created_at: String,
}

#[derive(Debug, Clone)]
pub struct NewPatient {
    pub id: String,
    pub display_name: String,
    pub external_id: Option<String>,
}

fn patient(row: &Row) -> rusqlite::Result<Patient> {
    Ok(Patient {
        id: row.get(0)?,
        display_name: row.get(1)?,
        external_id: row.get(2)?,
        created_at: row.get(3)?,
    })
}

impl Store {
    pub fn insert_patient(&self, new: &NewPatient) -> Result<Patient, StoreError> {
        let created_at = now_rfc3339();
        self.conn.execute(
            "INSERT INTO patients (id, display_name, external_id, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![new.id, new.display_name, new.external_id, created_at],
        )?;
        Ok(Patient {
            id: new.id.clone(),
            display_name: new.display_name.clone(),
            external_id: new.external_id.clone(),
            created_at,
        })
    }

    pub fn patient(&self, id: &str) -> Result<Patient, StoreError> {
        self.conn
            .query_row(
                "SELECT id, display_name, external_id, created_at FROM patients WHERE id = ?1",
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
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, display_name, external_id, created_at FROM (
                 SELECT * FROM patients WHERE display_name LIKE ?1 ESCAPE '\\'
                 UNION SELECT * FROM patients WHERE external_id = ?2
                 UNION SELECT * FROM patients WHERE id = ?2)
             ORDER BY display_name COLLATE NOCASE LIMIT ?3",
        )?;
        let rows = stmt.query_map(
            params![format!("{}%", escape_like(query)), query, limit as i64],
            patient,
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

pub(crate) fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}
