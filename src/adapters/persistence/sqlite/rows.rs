//! SQLite's result rows read through the shared decoders.

use std::borrow::Cow;

use rusqlite::types::{FromSql, ValueRef};
use rusqlite::Row;

use crate::adapters::persistence::decode::Columns;
use crate::app::ports::StoreError;
use crate::domain::Instant;

/// A row of a statement; times are stored as fixed-width RFC 3339 text.
pub struct SqliteRow<'r, 's>(pub &'r Row<'s>);

impl SqliteRow<'_, '_> {
    fn get<T: FromSql>(&self, i: usize) -> Result<T, StoreError> {
        self.0.get(i).map_err(|e| self.unreadable(i, &e))
    }
}

impl Columns for SqliteRow<'_, '_> {
    fn text(&self, i: usize) -> Result<String, StoreError> {
        self.get(i)
    }

    fn text_ref(&self, i: usize) -> Result<Cow<'_, str>, StoreError> {
        self.0
            .get_ref(i)
            .and_then(|v| v.as_str().map_err(Into::into))
            .map(Cow::Borrowed)
            .map_err(|e| self.unreadable(i, &e))
    }

    fn integer(&self, i: usize) -> Result<i64, StoreError> {
        self.get(i)
    }

    /// Read in place: a listing reads two or three times a row.
    fn instant(&self, i: usize) -> Result<Instant, StoreError> {
        let text = self
            .0
            .get_ref(i)
            .and_then(|v| v.as_str().map_err(Into::into))
            .map_err(|e| self.unreadable(i, &e))?;
        Instant::from_stored(text).map_err(|e| self.unreadable(i, &e))
    }

    fn is_null(&self, i: usize) -> Result<bool, StoreError> {
        match self.0.get_ref(i) {
            Ok(value) => Ok(value == ValueRef::Null),
            Err(e) => Err(self.unreadable(i, &e)),
        }
    }

    fn name(&self, i: usize) -> String {
        self.0
            .as_ref()
            .column_name(i)
            .map_or_else(|_| format!("#{i}"), str::to_owned)
    }
}
