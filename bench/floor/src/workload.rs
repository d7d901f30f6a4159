//! The four per-command workloads and their arguments.

pub enum Workload {
    /// `product show ID --user USER`.
    Show { id: String, user: String },
    /// `product list` page: `LIMIT` products after position `OFFSET`.
    List { offset: i64, limit: i64 },
    /// `product list --name TERM`, first page of `LIMIT`.
    Name { term: String, limit: i64 },
    /// `stock adjust ID --change CHANGE`.
    Adjust { id: String, change: i64 },
}

impl Workload {
    pub fn parse(args: &[String]) -> Result<Self, String> {
        let int = |s: &str| s.parse::<i64>().map_err(|_| format!("not an integer: {s}"));
        match args {
            [w, id, user] if w == "show" => Ok(Workload::Show {
                id: id.clone(),
                user: user.clone(),
            }),
            [w, offset, limit] if w == "list" => Ok(Workload::List {
                offset: int(offset)?,
                limit: int(limit)?,
            }),
            // milly matches the case-folded term against name_folded.
            [w, term, limit] if w == "name" => Ok(Workload::Name {
                term: term.to_lowercase(),
                limit: int(limit)?,
            }),
            [w, id, change] if w == "adjust" => Ok(Workload::Adjust {
                id: id.clone(),
                change: int(change.trim_start_matches('+'))?,
            }),
            _ => Err(
                "workloads: show ID USER | list OFFSET LIMIT | name TERM LIMIT | adjust ID CHANGE"
                    .into(),
            ),
        }
    }
}
