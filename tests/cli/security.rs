//! Security: hostile text stored verbatim, private files, passwords never shown.
