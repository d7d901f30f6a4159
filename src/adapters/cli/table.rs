//! Tables for people, as kubectl and gh draw them: the columns given, numbers
//! right-aligned, times to the second, and on a terminal no wider than the
//! terminal (long text is shortened with `…`, a row never wraps). Whatever a
//! user typed is escaped, so no control character or bidirectional override
//! reaches the terminal to move the cursor or reorder the screen.

use std::io::IsTerminal;

use comfy_table::{
    presets, CellAlignment, ColumnConstraint, ContentArrangement, Row, Table, Width,
};

use super::record::{Cell, Record};
use crate::domain::text::is_bidi_control;
use crate::domain::Instant;

/// Where a table goes: a terminal of some width, or a pipe or file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Screen {
    /// Borders and fitting happen only on a terminal.
    pub terminal: bool,
    /// The terminal's width in columns, when known.
    pub width: Option<u16>,
}

impl Screen {
    /// Standard output as it is now.
    pub fn stdout() -> Screen {
        let terminal = std::io::stdout().is_terminal();
        let width = terminal
            .then(|| {
                terminal_size::terminal_size()
                    .map(|(w, _)| w.0)
                    .or_else(|| std::env::var("COLUMNS").ok()?.parse().ok())
            })
            .flatten();
        Screen { terminal, width }
    }

    /// Neither a terminal nor a width: plain aligned columns.
    pub fn pipe() -> Screen {
        Screen {
            terminal: false,
            width: None,
        }
    }
}

/// A time as tables show it: RFC 3339 to the second, which is what people
/// compare; scripts get every microsecond from JSON and CSV.
pub fn short_time(at: Instant) -> String {
    at.as_datetime().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The text of a cell in a table: escaped, times without microseconds.
fn shown(cell: &Cell) -> String {
    match cell {
        Cell::Time(t) => short_time(*t),
        Cell::Text(s) => escape(s),
        Cell::List(items) => items
            .iter()
            .map(|r| {
                r.cells()
                    .iter()
                    .map(|(_, c)| shown(c))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect::<Vec<_>>()
            .join("; "),
        other => escape(&other.plain()),
    }
}

/// Control characters and bidirectional controls written as escapes
/// (`\n`, `\t`, `\r`, `\u{202e}`), so a cell is one line of inert text.
pub fn escape(text: &str) -> String {
    if !text.chars().any(needs_escape) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if needs_escape(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

fn needs_escape(c: char) -> bool {
    c.is_control() || is_bidi_control(c)
}

fn new_table(screen: &Screen) -> Table {
    let mut t = Table::new();
    if screen.terminal {
        t.load_preset(presets::UTF8_FULL_CONDENSED);
        if let Some(width) = screen.width {
            t.set_content_arrangement(ContentArrangement::Dynamic)
                .set_width(width)
                .set_truncation_indicator("…");
        }
    } else {
        // Piped or redirected: plain aligned columns, no borders, no styling.
        t.load_preset(presets::NOTHING);
    }
    t
}

/// The fewest characters a shortened text column keeps.
const MIN_TEXT: usize = 6;

/// One line per row, however narrow the terminal: long text is cut short.
fn one_line(cells: Vec<String>) -> Row {
    let mut row = Row::from(cells);
    row.max_height(1);
    row
}

/// A list with the `shown` columns of `columns`, in the list's order.
pub fn list(
    columns: &[&'static str],
    shown_columns: &[&'static str],
    rows: &[Record],
    screen: &Screen,
) -> String {
    let keep: Vec<usize> = (0..columns.len())
        .filter(|&i| shown_columns.contains(&columns[i]))
        .collect();
    let mut t = new_table(screen);
    t.set_header(one_line(
        keep.iter().map(|&i| columns[i].to_owned()).collect(),
    ));
    for row in rows {
        let cells = row.cells();
        t.add_row(one_line(
            keep.iter()
                .map(|&i| cells.get(i).map_or_else(String::new, |(_, c)| shown(c)))
                .collect(),
        ));
    }
    // Ids, numbers and times are never shortened when the terminal has room
    // for them whole: a cut id cannot be copied into the next command, a cut
    // number misleads. Free text gives up the room instead. On a terminal
    // too narrow even for those, every column shrinks, so the table still
    // fits.
    let mut exact_widths = Vec::new();
    for (n, &i) in keep.iter().enumerate() {
        let cells = || rows.iter().filter_map(|r| r.cells().get(i).map(|(_, c)| c));
        let numeric = cells().any(Cell::is_number);
        if numeric {
            if let Some(column) = t.column_mut(n) {
                column.set_cell_alignment(CellAlignment::Right);
            }
        }
        let exact = numeric
            || columns[i] == "id"
            || columns[i].ends_with("_id")
            || cells().any(|c| matches!(c, Cell::Time(_)));
        if exact {
            let widest = cells().map(|c| shown(c).chars().count()).max().unwrap_or(0);
            exact_widths.push((n, widest));
        }
    }
    if let Some(width) = screen.width {
        // Each column takes its padding and a border; a shortened text
        // column keeps at least a few characters.
        let flexible = keep.len() - exact_widths.len();
        let needed: usize =
            exact_widths.iter().map(|(_, w)| w + 3).sum::<usize>() + flexible * (MIN_TEXT + 3) + 1;
        if needed <= usize::from(width) {
            for (n, widest) in exact_widths {
                let widest = u16::try_from(widest + 2).unwrap_or(u16::MAX);
                if let Some(column) = t.column_mut(n) {
                    column.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(widest)));
                }
            }
        }
    }
    finish(t)
}

/// One record as `field  value` rows; an explanation's steps take a row each.
pub fn vertical(record: &Record, screen: &Screen) -> String {
    let mut t = new_table(screen);
    t.set_header(one_line(vec!["field".into(), "value".into()]));
    for (name, cell) in record.cells() {
        match cell {
            Cell::Steps(steps) => {
                for (n, (line, _)) in steps.iter().enumerate() {
                    let label = if n == 0 {
                        name.to_string()
                    } else {
                        String::new()
                    };
                    t.add_row(one_line(vec![label, escape(line)]));
                }
            }
            cell => {
                t.add_row(one_line(vec![name.to_string(), shown(cell)]));
            }
        }
    }
    finish(t)
}

fn finish(t: Table) -> String {
    let mut text = t.trim_fmt();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Money;

    fn product(name: &str) -> Record {
        Record::from_cells(vec![
            ("id", Cell::Text("PROD01".into())),
            ("name", Cell::Text(name.into())),
            ("price", Cell::Money(Money::parse_price("p", "5").unwrap())),
            (
                "created_at",
                Cell::Time(Instant::parse("t", "2025-06-01T12:00:00.123456Z").unwrap()),
            ),
        ])
    }

    const COLUMNS: &[&str] = &["id", "name", "price", "created_at"];

    #[test]
    fn escapes_what_would_move_the_cursor_or_reorder_the_screen() {
        assert_eq!(escape("a\r\nb\tc"), "a\\r\\nb\\tc");
        assert_eq!(
            escape("abc\u{202E}def\u{1b}[2J"),
            "abc\\u{202e}def\\u{1b}[2J"
        );
        let text = list(
            COLUMNS,
            COLUMNS,
            &[product("x\u{202E}y\rz")],
            &Screen::pipe(),
        );
        assert!(text.contains("x\\u{202e}y\\rz"), "{text}");
        assert!(!text.contains('\r') && !text.contains('\u{202E}'));
    }

    #[test]
    fn shows_the_chosen_columns_with_times_to_the_second_and_numbers_right() {
        let rows = [product("Mug"), product("A much longer name")];
        let text = list(
            COLUMNS,
            &["name", "price", "created_at"],
            &rows,
            &Screen::pipe(),
        );
        assert!(!text.contains("PROD01"), "{text}");
        assert!(text.contains("2025-06-01T12:00:00Z"), "{text}");
        assert!(!text.contains(".123456"), "{text}");
        let price_line = text.lines().nth(1).unwrap();
        // Right-aligned: the header "price" ends where "5.00" ends.
        let header = text.lines().next().unwrap();
        assert_eq!(
            header.find("price").unwrap() + "price".len(),
            price_line.find("5.00").unwrap() + "5.00".len(),
            "{text}"
        );
    }

    #[test]
    fn on_a_narrow_terminal_long_text_is_shortened_not_wrapped() {
        let screen = Screen {
            terminal: true,
            width: Some(50),
        };
        let long = "word ".repeat(40);
        let text = list(COLUMNS, COLUMNS, &[product(&long)], &screen);
        for line in text.lines() {
            assert!(line.chars().count() <= 50, "{line:?} in\n{text}");
        }
        let very_narrow = Screen {
            terminal: true,
            width: Some(30),
        };
        let squeezed = list(COLUMNS, COLUMNS, &[product(&long)], &very_narrow);
        for line in squeezed.lines() {
            assert!(line.chars().count() <= 30, "{line:?} in\n{squeezed}");
        }
        // Header, two rules and one row: the row did not wrap.
        assert_eq!(text.lines().count(), 5, "{text}");
        assert!(text.contains('…'), "{text}");
        // The id, the price and the time are whole; the name gave way.
        assert!(text.contains("PROD01") && text.contains("5.00"), "{text}");
        assert!(text.contains("2025-06-01T12:00:00Z"), "{text}");
    }
}
