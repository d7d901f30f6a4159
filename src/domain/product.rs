//! Products and their changes.

use super::error::DomainError;
use super::id::ProductId;
use super::money::Money;
use super::text::{Actor, Description, ProductName};
use super::time::Instant;

/// A catalog entry. Its stock lives in the ledger ([`super::stock`]), not here,
/// so that every change to it has a history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub id: ProductId,
    pub name: ProductName,
    pub description: Description,
    pub price: Money,
    pub created_at: Instant,
    pub updated_at: Instant,
    /// When it was archived; archived products are read-only.
    pub archived_at: Option<Instant>,
    /// Who created it; `None` for rows written before actors were recorded.
    pub actor: Option<Actor>,
}

impl Product {
    pub fn is_archived(&self) -> bool {
        self.archived_at.is_some()
    }

    /// The product after `edit`, and the change to record, or `Invalid` when
    /// the edit names no field. A field given with its current value is not
    /// a change and is left out of the record.
    pub fn edited(
        &self,
        edit: ProductEdit,
        at: Instant,
        actor: Option<Actor>,
    ) -> Result<(Product, ProductChange), DomainError> {
        if edit.name.is_none() && edit.description.is_none() && edit.price.is_none() {
            return Err(DomainError::invalid(
                "product update",
                "",
                "at least one of --name, --description or --price",
            ));
        }
        fn diff<T: Clone + PartialEq>(old: &T, new: Option<T>) -> Option<Edit<T>> {
            new.filter(|n| n != old).map(|new| Edit {
                old: Some(old.clone()),
                new,
            })
        }
        let change = ProductChange {
            product_id: self.id.clone(),
            kind: ChangeKind::Updated,
            at,
            actor,
            name: diff(&self.name, edit.name),
            description: diff(&self.description, edit.description),
            price: diff(&self.price, edit.price),
        };
        let mut after = self.clone();
        if let Some(e) = &change.name {
            after.name = e.new.clone();
        }
        if let Some(e) = &change.description {
            after.description = e.new.clone();
        }
        if let Some(e) = &change.price {
            after.price = e.new;
        }
        if change.changes_anything() {
            after.updated_at = at;
        }
        Ok((after, change))
    }
}

/// The fields `product update` may change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductEdit {
    pub name: Option<ProductName>,
    pub description: Option<Description>,
    pub price: Option<Money>,
}

/// A field's value before and after a change; a creation has no before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit<T> {
    pub old: Option<T>,
    pub new: T,
}

/// What happened to a product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Created,
    Updated,
    Archived,
    Unarchived,
}

impl ChangeKind {
    /// Whether a change of this kind archives (`true`) or unarchives
    /// (`false`) its product; `None` for the kinds that do neither.
    pub fn archives(self) -> Option<bool> {
        match self {
            ChangeKind::Archived => Some(true),
            ChangeKind::Unarchived => Some(false),
            ChangeKind::Created | ChangeKind::Updated => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Created => "created",
            ChangeKind::Updated => "updated",
            ChangeKind::Archived => "archived",
            ChangeKind::Unarchived => "unarchived",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            ChangeKind::Created,
            ChangeKind::Updated,
            ChangeKind::Archived,
            ChangeKind::Unarchived,
        ]
        .into_iter()
        .find(|k| k.as_str() == raw)
    }
}

/// One entry of a product's history: the fields it changed (for an update,
/// or every field's first value for a creation) with who and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductChange {
    pub product_id: ProductId,
    pub kind: ChangeKind,
    pub at: Instant,
    pub actor: Option<Actor>,
    pub name: Option<Edit<ProductName>>,
    pub description: Option<Edit<Description>>,
    pub price: Option<Edit<Money>>,
}

impl ProductChange {
    /// Archiving or unarchiving: no field changes.
    pub fn archival(
        product_id: ProductId,
        archive: bool,
        at: Instant,
        actor: Option<Actor>,
    ) -> Self {
        ProductChange {
            product_id,
            kind: if archive {
                ChangeKind::Archived
            } else {
                ChangeKind::Unarchived
            },
            at,
            actor,
            name: None,
            description: None,
            price: None,
        }
    }

    pub fn changes_anything(&self) -> bool {
        self.kind != ChangeKind::Updated
            || self.name.is_some()
            || self.description.is_some()
            || self.price.is_some()
    }
}

/// A product's whole history, oldest first: its creation (with the values it
/// was created with, found from the first change of each field, or the
/// current value when a field never changed), then each recorded change.
pub fn history(product: &Product, changes: Vec<ProductChange>) -> Vec<ProductChange> {
    fn first<T: Clone>(
        changes: &[ProductChange],
        field: impl Fn(&ProductChange) -> Option<&Edit<T>>,
        current: &T,
    ) -> T {
        changes
            .iter()
            .find_map(|c| field(c).and_then(|e| e.old.clone()))
            .unwrap_or_else(|| current.clone())
    }
    let created = ProductChange {
        product_id: product.id.clone(),
        kind: ChangeKind::Created,
        at: product.created_at,
        actor: product.actor.clone(),
        name: Some(Edit {
            old: None,
            new: first(&changes, |c| c.name.as_ref(), &product.name),
        }),
        description: Some(Edit {
            old: None,
            new: first(&changes, |c| c.description.as_ref(), &product.description),
        }),
        price: Some(Edit {
            old: None,
            new: first(&changes, |c| c.price.as_ref(), &product.price),
        }),
    };
    std::iter::once(created).chain(changes).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Instant {
        Instant::parse("at", s).unwrap()
    }

    fn mug() -> Product {
        Product {
            id: ProductId::generate(at("2025-01-01"), 1),
            name: ProductName::parse("n", "Mug").unwrap(),
            description: Description::empty(),
            price: Money::parse_price("p", "10").unwrap(),
            created_at: at("2025-01-01"),
            updated_at: at("2025-01-01"),
            archived_at: None,
            actor: None,
        }
    }

    #[test]
    fn an_edit_records_only_what_changes() {
        let edit = ProductEdit {
            name: Some(ProductName::parse("n", "Mug").unwrap()),
            price: Some(Money::parse_price("p", "12").unwrap()),
            description: None,
        };
        let (after, change) = mug().edited(edit, at("2025-02-01"), None).unwrap();
        assert_eq!(change.name, None);
        assert_eq!(change.price.as_ref().map(|e| e.new.cents()), Some(1200));
        assert_eq!(after.price.cents(), 1200);
        assert_eq!(after.updated_at, at("2025-02-01"));
        assert!(mug()
            .edited(ProductEdit::default(), at("2025-02-01"), None)
            .is_err());
    }

    #[test]
    fn the_creation_entry_shows_the_first_values() {
        let m = mug();
        let edit = ProductEdit {
            price: Some(Money::parse_price("p", "12").unwrap()),
            ..ProductEdit::default()
        };
        let (after, change) = m.edited(edit, at("2025-02-01"), None).unwrap();
        let h = history(&after, vec![change]);
        assert_eq!(h[0].kind, ChangeKind::Created);
        assert_eq!(h[0].price.as_ref().unwrap().new.cents(), 1000);
        assert_eq!(h[1].price.as_ref().unwrap().new.cents(), 1200);
    }
}
