//! What every format renders: a record, an ordered list of named cells that
//! keep their kind (money, a percentage, a time), so that each format can
//! show a value its own way — exact decimals in JSON, two decimals in CSV,
//! times to the second in tables.
//!
//! Commands do not build records by hand: they describe what they print as
//! a view (`views`), a serde struct, and [`Record::of`] reads the view's
//! fields, in order, into a record.

use std::fmt;

use serde::ser::{self, Impossible, Serialize, SerializeMap, Serializer};

use crate::domain::{Instant, Money, Percentage};

/// One value of a record.
#[derive(Debug, Clone)]
pub enum Cell {
    Text(String),
    Int(i64),
    Money(Money),
    Percent(Percentage),
    Bool(bool),
    Time(Instant),
    Null,
    /// Nested records (e.g. the migrations in `db status`): an array in JSON,
    /// a compact summary in tables and CSV.
    List(Vec<Record>),
    /// Plain values side by side (the ids a `discount set` replaced): an
    /// array of strings in JSON, separated by spaces in tables and CSV.
    Texts(Vec<String>),
    /// Steps of an explanation: each an object in JSON, a line of text in
    /// tables (one table row per step) and CSV.
    Steps(Vec<(String, Record)>),
}

impl Cell {
    /// Numbers, right-aligned in tables.
    pub fn is_number(&self) -> bool {
        matches!(self, Cell::Int(_) | Cell::Money(_) | Cell::Percent(_))
    }

    /// The form used in CSV: money with two decimals, times in RFC 3339,
    /// null as an empty cell.
    pub fn plain(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Int(n) => n.to_string(),
            Cell::Money(m) => m.to_string(),
            Cell::Percent(p) => p.to_string(),
            Cell::Bool(b) => b.to_string(),
            Cell::Time(t) => t.to_rfc3339(),
            Cell::Null => String::new(),
            Cell::List(items) => items
                .iter()
                .map(|r| {
                    r.0.iter()
                        .map(|(_, c)| c.plain())
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .collect::<Vec<_>>()
                .join("; "),
            Cell::Texts(texts) => texts.join(" "),
            Cell::Steps(steps) => steps
                .iter()
                .map(|(line, _)| line.as_str())
                .collect::<Vec<_>>()
                .join("; "),
        }
    }
}

impl Serialize for Cell {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Cell::Text(t) => s.serialize_str(t),
            Cell::Int(n) => s.serialize_i64(*n),
            // Exact decimals: serde_json's arbitrary-precision numbers print
            // the digits we give them, so 17.49 never becomes 17.489999….
            Cell::Money(m) => exact_number(&m.to_json_decimal()).serialize(s),
            Cell::Percent(p) => exact_number(&p.to_json_decimal()).serialize(s),
            Cell::Bool(b) => s.serialize_bool(*b),
            Cell::Time(t) => s.serialize_str(&t.to_rfc3339()),
            Cell::Null => s.serialize_none(),
            Cell::List(items) => items.serialize(s),
            Cell::Texts(texts) => texts.serialize(s),
            Cell::Steps(steps) => s.collect_seq(steps.iter().map(|(_, r)| r)),
        }
    }
}

fn exact_number(decimal: &str) -> serde_json::Number {
    decimal
        .parse()
        .expect("milly's decimals are valid JSON numbers")
}

/// Named cells in a fixed order: a JSON object, a CSV row, a table row.
#[derive(Debug, Clone, Default)]
pub struct Record(Vec<(&'static str, Cell)>);

impl Record {
    /// The record of a view: its fields in order, each a cell of the kind
    /// its type marks. A view that is not a struct of such fields is a bug
    /// in the view, which its tests show.
    pub fn of(view: &impl Serialize) -> Record {
        match view.serialize(Reader) {
            Ok(Part::Record(record)) => record,
            Ok(_) => panic!("a view is a struct"),
            Err(e) => panic!("not a view: {e}"),
        }
    }

    /// Builds a record from cells already made (a recorded result read back).
    pub fn from_cells(cells: Vec<(&'static str, Cell)>) -> Self {
        Record(cells)
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.0.iter().map(|(n, _)| *n).collect()
    }

    pub fn cells(&self) -> &[(&'static str, Cell)] {
        &self.0
    }
}

impl Serialize for Record {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (name, cell) in &self.0 {
            map.serialize_entry(name, cell)?;
        }
        map.end()
    }
}

/// How a view marks a value whose kind a plain serde value would lose:
/// the value goes through as a newtype struct of one of these names.
pub mod mark {
    /// Money, as whole cents.
    pub const MONEY: &str = "milly::Money";
    /// A percentage, as basis points.
    pub const PERCENT: &str = "milly::Percentage";
    /// An instant, as microseconds since the Unix epoch.
    pub const TIME: &str = "milly::Instant";
    /// An explanation: a sequence of (line of text, step view) pairs.
    pub const STEPS: &str = "milly::Steps";
}

/// A view's value read so far.
enum Part {
    Cell(Cell),
    Record(Record),
    Seq(Vec<Part>),
}

impl Part {
    /// The cell of a field.
    fn into_cell(self) -> Result<Cell, Shape> {
        match self {
            Part::Cell(cell) => Ok(cell),
            Part::Seq(items)
                if !items.is_empty()
                    && items.iter().all(|i| matches!(i, Part::Cell(Cell::Text(_)))) =>
            {
                Ok(Cell::Texts(
                    items
                        .into_iter()
                        .filter_map(|i| match i {
                            Part::Cell(Cell::Text(t)) => Some(t),
                            _ => None,
                        })
                        .collect(),
                ))
            }
            Part::Seq(items) => items
                .into_iter()
                .map(Part::into_record)
                .collect::<Result<_, _>>()
                .map(Cell::List),
            Part::Record(_) => Err(Shape("a struct as a field (lists of them only)".into())),
        }
    }

    fn into_record(self) -> Result<Record, Shape> {
        match self {
            Part::Record(record) => Ok(record),
            _ => Err(Shape("a list item that is not a struct".into())),
        }
    }

    fn into_step(self) -> Result<(String, Record), Shape> {
        if let Part::Seq(pair) = self {
            if let [Part::Cell(Cell::Text(_)), Part::Record(_)] = pair.as_slice() {
                let mut pair = pair.into_iter();
                if let (Some(Part::Cell(Cell::Text(line))), Some(Part::Record(step))) =
                    (pair.next(), pair.next())
                {
                    return Ok((line, step));
                }
            }
        }
        Err(Shape("a step that is not (line, struct)".into()))
    }
}

/// What a view cannot be made of.
#[derive(Debug)]
pub struct Shape(String);

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Shape {}

impl ser::Error for Shape {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Shape(msg.to_string())
    }
}

fn unsupported<T>(what: &str) -> Result<T, Shape> {
    Err(Shape(format!("{what} in a view")))
}

/// Reads a view into parts.
struct Reader;

impl Serializer for Reader {
    type Ok = Part;
    type Error = Shape;
    type SerializeSeq = Items;
    type SerializeTuple = Items;
    type SerializeTupleStruct = Impossible<Part, Shape>;
    type SerializeTupleVariant = Impossible<Part, Shape>;
    type SerializeMap = Impossible<Part, Shape>;
    type SerializeStruct = Fields;
    type SerializeStructVariant = Impossible<Part, Shape>;

    fn serialize_bool(self, v: bool) -> Result<Part, Shape> {
        Ok(Part::Cell(Cell::Bool(v)))
    }
    fn serialize_i8(self, v: i8) -> Result<Part, Shape> {
        self.serialize_i64(v.into())
    }
    fn serialize_i16(self, v: i16) -> Result<Part, Shape> {
        self.serialize_i64(v.into())
    }
    fn serialize_i32(self, v: i32) -> Result<Part, Shape> {
        self.serialize_i64(v.into())
    }
    fn serialize_i64(self, v: i64) -> Result<Part, Shape> {
        Ok(Part::Cell(Cell::Int(v)))
    }
    fn serialize_u8(self, v: u8) -> Result<Part, Shape> {
        self.serialize_i64(v.into())
    }
    fn serialize_u16(self, v: u16) -> Result<Part, Shape> {
        self.serialize_i64(v.into())
    }
    fn serialize_u32(self, v: u32) -> Result<Part, Shape> {
        self.serialize_i64(v.into())
    }
    fn serialize_u64(self, v: u64) -> Result<Part, Shape> {
        i64::try_from(v)
            .map_err(|_| Shape(format!("{v} does not fit a cell")))
            .and_then(|v| self.serialize_i64(v))
    }
    /// Never a float: amounts are money, shown exactly.
    fn serialize_f32(self, _: f32) -> Result<Part, Shape> {
        unsupported("a float")
    }
    fn serialize_f64(self, _: f64) -> Result<Part, Shape> {
        unsupported("a float")
    }
    fn serialize_char(self, v: char) -> Result<Part, Shape> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result<Part, Shape> {
        Ok(Part::Cell(Cell::Text(v.to_owned())))
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<Part, Shape> {
        unsupported("bytes")
    }
    fn serialize_none(self) -> Result<Part, Shape> {
        Ok(Part::Cell(Cell::Null))
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Part, Shape> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Part, Shape> {
        self.serialize_none()
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<Part, Shape> {
        self.serialize_none()
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<Part, Shape> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<Part, Shape> {
        let inner = value.serialize(Reader)?;
        let bad = || Shape(format!("a malformed {name}"));
        let cell = match (name, inner) {
            (mark::MONEY, Part::Cell(Cell::Int(cents))) => {
                Cell::Money(Money::from_cents(cents).map_err(|e| Shape(e.to_string()))?)
            }
            (mark::PERCENT, Part::Cell(Cell::Int(bp))) => {
                Cell::Percent(Percentage::from_basis_points(bp).map_err(|e| Shape(e.to_string()))?)
            }
            (mark::TIME, Part::Cell(Cell::Int(micros))) => Cell::Time(
                chrono::DateTime::from_timestamp_micros(micros)
                    .map(Instant::from_datetime)
                    .ok_or_else(bad)?,
            ),
            (mark::STEPS, Part::Seq(steps)) => Cell::Steps(
                steps
                    .into_iter()
                    .map(Part::into_step)
                    .collect::<Result<_, _>>()?,
            ),
            (mark::MONEY | mark::PERCENT | mark::TIME | mark::STEPS, _) => return Err(bad()),
            // Any other newtype is its value.
            (_, inner) => return Ok(inner),
        };
        Ok(Part::Cell(cell))
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<Part, Shape> {
        unsupported("an enum with data (use an untagged enum)")
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Items, Shape> {
        Ok(Items(Vec::with_capacity(len.unwrap_or(0))))
    }
    fn serialize_tuple(self, len: usize) -> Result<Items, Shape> {
        Ok(Items(Vec::with_capacity(len)))
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Shape> {
        unsupported("a tuple struct")
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Shape> {
        unsupported("an enum with data")
    }
    /// Maps have no fixed field names (and `#[serde(flatten)]` makes one).
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Shape> {
        unsupported("a map")
    }
    fn serialize_struct(self, _: &'static str, len: usize) -> Result<Fields, Shape> {
        Ok(Fields(Vec::with_capacity(len)))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Shape> {
        unsupported("an enum with data")
    }
}

/// The items of a list or a tuple.
struct Items(Vec<Part>);

impl ser::SerializeSeq for Items {
    type Ok = Part;
    type Error = Shape;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Shape> {
        self.0.push(value.serialize(Reader)?);
        Ok(())
    }

    fn end(self) -> Result<Part, Shape> {
        Ok(Part::Seq(self.0))
    }
}

impl ser::SerializeTuple for Items {
    type Ok = Part;
    type Error = Shape;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Shape> {
        ser::SerializeSeq::serialize_element(self, value)
    }

    fn end(self) -> Result<Part, Shape> {
        ser::SerializeSeq::end(self)
    }
}

/// The fields of a struct, in order; a skipped field is left out.
struct Fields(Vec<(&'static str, Cell)>);

impl ser::SerializeStruct for Fields {
    type Ok = Part;
    type Error = Shape;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<(), Shape> {
        let cell = value
            .serialize(Reader)?
            .into_cell()
            .map_err(|e| Shape(format!("{name}: {e}")))?;
        self.0.push((name, cell));
        Ok(())
    }

    fn end(self) -> Result<Part, Shape> {
        Ok(Part::Record(Record(self.0)))
    }
}
