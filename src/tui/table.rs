//! The one results table behind every hunt tab and every drill-down list: rows of `Cell`s with
//! a sorted, fuzzy-filtered view, marks, a cursor and a selected column. Pure state; the widget
//! that draws it is `view::table`.

use fuzzy_matcher::skim::SkimMatcherV2;
use fuzzy_matcher::FuzzyMatcher;
use rarity::hunt::{Cell, CellKind, ColumnSpec, Pivot};
use std::collections::HashSet;

/// A column of a table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub kind: CellKind,
    /// What the column's values are, when a pivot or a one-key exclusion can start from them.
    pub pivot: Option<Pivot>,
}

impl Column {
    pub fn new(name: impl Into<String>, kind: CellKind) -> Self {
        Column { name: name.into(), kind, pivot: None }
    }

    /// A column whose values a pivot or a one-key exclusion can start from.
    pub fn with_pivot(name: impl Into<String>, kind: CellKind, pivot: Option<Pivot>) -> Self {
        Column { name: name.into(), kind, pivot }
    }

    pub fn from_specs(specs: &[ColumnSpec]) -> Vec<Column> {
        specs.iter().map(|c| Column { name: c.name.to_string(), kind: c.kind, pivot: c.pivot }).collect()
    }
}

/// How a cell reads on screen (sets without JSON brackets, short timestamps).
pub fn display_cell(cell: &Cell) -> String {
    cell.display(rarity::hunt::TimeStyle::Short)
}

/// Sort order of two cells: text case-insensitively (ties by exact text), everything else by
/// `Cell`'s own order (numbers as numbers, times as times, empty first).
pub fn cmp_cells(a: Option<&Cell>, b: Option<&Cell>) -> std::cmp::Ordering {
    match (a, b) {
        (Some(Cell::Text(x)), Some(Cell::Text(y))) => x.to_lowercase().cmp(&y.to_lowercase()).then_with(|| x.cmp(y)),
        _ => a.cmp(&b),
    }
}

/// Cell `c` of `row`, `Empty` past its end (a short row never panics a render).
pub fn cell_at(row: &[Cell], c: usize) -> &Cell {
    row.get(c).unwrap_or(&Cell::Empty)
}

/// Separator between cells in a row's search text.
const SEP: &str = "  ";

/// A row's search text: its cells' display strings joined by `SEP`.
pub fn search_text(row: &[Cell]) -> String {
    row.iter().map(display_cell).collect::<Vec<_>>().join(SEP)
}

/// Where each cell's text starts in `search_text`, in chars.
pub fn cell_char_starts(row: &[Cell]) -> Vec<usize> {
    let mut starts = Vec::with_capacity(row.len());
    let mut pos = 0;
    for c in row {
        starts.push(pos);
        pos += display_cell(c).chars().count() + SEP.chars().count();
    }
    starts
}

/// Rows and the state of their view.
#[derive(Clone, Debug)]
pub struct TableState {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
    /// How many leading columns identify a row across recomputes.
    pub key_cols: usize,
    search: Vec<String>,
    /// Indices into `rows`, filtered and sorted: what is shown, in order.
    pub view: Vec<usize>,
    /// Sort column and whether descending; `None` keeps the engine's order.
    pub sort: Option<(usize, bool)>,
    pub filter: String,
    /// Fuzzy (skim) matching instead of a case-insensitive substring.
    pub fuzzy: bool,
    pub marked: HashSet<usize>,
    /// Cursor position in `view`.
    pub cursor: usize,
    /// First shown position in `view`.
    pub offset: usize,
    /// Selected column (sort key, horizontal scroll).
    pub col: usize,
    /// Show runs of rows sharing the first column as one group: the value is drawn once per
    /// run (a hunt's one-row-per-detail output, grouped per DeviceName like the KQL).
    pub group_first: bool,
    /// Rows left out of the view whatever the filter (findings judged benign, when hidden).
    pub hidden: HashSet<usize>,
}

impl TableState {
    pub fn new(columns: Vec<Column>, rows: Vec<Vec<Cell>>, key_cols: usize) -> Self {
        let search = rows.iter().map(|r| search_text(r)).collect();
        let mut t = TableState {
            key_cols: key_cols.clamp(1, columns.len().max(1)),
            columns,
            rows,
            search,
            view: Vec::new(),
            sort: None,
            filter: String::new(),
            fuzzy: false,
            marked: HashSet::new(),
            cursor: 0,
            offset: 0,
            col: 0,
            group_first: false,
            hidden: HashSet::new(),
        };
        t.rebuild_view();
        t
    }

    /// Group runs of rows by their first column (see `group_first`).
    pub fn grouped(mut self) -> Self {
        self.group_first = true;
        self
    }

    /// Whether the row at view position `pos` continues the group of the row above it.
    pub fn continues_group(&self, pos: usize) -> bool {
        self.group_first
            && pos > 0
            && pos < self.view.len()
            && self.rows[self.view[pos]].first() == self.rows[self.view[pos - 1]].first()
    }

    /// Number of groups (distinct runs of the first column) in the current view.
    pub fn group_count(&self) -> usize {
        (0..self.view.len()).filter(|&p| !self.continues_group(p)).count()
    }

    fn key_of(&self, row: usize) -> Vec<&Cell> {
        self.rows[row].iter().take(self.key_cols).collect()
    }

    /// Replace the rows (a recompute), keeping sort, filter, column, the marks of rows that
    /// still exist and the cursor on the same row when it still exists.
    #[cfg(test)]
    pub fn replace_rows(&mut self, rows: Vec<Vec<Cell>>) {
        self.replace_rows_hiding(rows, HashSet::new());
    }

    /// `replace_rows`, leaving the rows in `hidden` out of the view.
    pub fn replace_rows_hiding(&mut self, rows: Vec<Vec<Cell>>, hidden: HashSet<usize>) {
        let cursor_key: Option<Vec<Cell>> = self.cursor_row().map(|r| self.key_of(r).into_iter().cloned().collect());
        let marked_keys: std::collections::BTreeSet<Vec<Cell>> =
            self.marked.iter().map(|&r| self.key_of(r).into_iter().cloned().collect()).collect();
        let old_cursor = self.cursor;
        self.search = rows.iter().map(|r| search_text(r)).collect();
        self.rows = rows;
        self.hidden = hidden;
        self.marked = (0..self.rows.len())
            .filter(|&r| marked_keys.contains(&self.key_of(r).into_iter().cloned().collect::<Vec<_>>()))
            .collect();
        self.rebuild_view();
        let found = cursor_key.and_then(|k| self.view.iter().position(|&r| self.key_of(r).into_iter().eq(k.iter())));
        self.cursor = found.unwrap_or(old_cursor);
        self.clamp();
    }

    /// Re-apply filter and sort.
    fn rebuild_view(&mut self) {
        self.view = self.filtered_sorted(None);
    }

    /// Rows matching the filter, sorted. `within`: a view known to hold every match (the
    /// matches of a prefix of the filter: a longer pattern only ever matches fewer rows), in
    /// which case it is narrowed and keeps its order.
    fn filtered_sorted(&self, within: Option<&[usize]>) -> Vec<usize> {
        let q = self.query();
        if let Some(view) = within {
            return view.iter().copied().filter(|&i| self.row_matches(i, &q)).collect();
        }
        let shown = (0..self.rows.len()).filter(|i| !self.hidden.contains(i));
        let mut view: Vec<usize> =
            if self.filter.is_empty() { shown.collect() } else { shown.filter(|&i| self.row_matches(i, &q)).collect() };
        if let Some((c, desc)) = self.sort {
            let rows = &self.rows;
            // Stable: ties keep the engine's order, so the result stays reproducible.
            view.sort_by(|&a, &b| {
                let o = cmp_cells(rows[a].get(c), rows[b].get(c));
                if desc {
                    o.reverse()
                } else {
                    o
                }
            });
        }
        view
    }

    fn clamp(&mut self) {
        if self.view.is_empty() {
            self.cursor = 0;
            self.offset = 0;
        } else {
            self.cursor = self.cursor.min(self.view.len() - 1);
            self.offset = self.offset.min(self.cursor);
        }
        self.col = self.col.min(self.columns.len().saturating_sub(1));
    }

    /// Keep the cursor within `height` rows of the first shown row.
    pub fn scroll_into_view(&mut self, height: usize) {
        let h = height.max(1);
        if self.cursor < self.offset {
            self.offset = self.cursor;
        } else if self.cursor >= self.offset + h {
            self.offset = self.cursor + 1 - h;
        }
        let max_offset = self.view.len().saturating_sub(h);
        self.offset = self.offset.min(max_offset);
    }

    /// The filter split into an optional column and the text to find.
    fn query(&self) -> Query {
        let (col, text) = match self.filter.split_once(':') {
            Some((name, rest)) => match self.columns.iter().position(|c| c.name.eq_ignore_ascii_case(name.trim())) {
                Some(c) => (Some(c), rest),
                None => (None, self.filter.as_str()),
            },
            None => (None, self.filter.as_str()),
        };
        Query { col, text: text.to_string(), lower: text.to_lowercase(), fuzzy: self.fuzzy }
    }

    fn row_matches(&self, i: usize, q: &Query) -> bool {
        let cell;
        let hay = match q.col {
            Some(c) => {
                cell = display_cell(cell_at(&self.rows[i], c));
                cell.as_str()
            }
            None => self.search[i].as_str(),
        };
        q.matches(hay)
    }

    /// Switch between substring and fuzzy matching and re-apply the filter.
    pub fn toggle_fuzzy(&mut self) {
        self.fuzzy = !self.fuzzy;
        let f = std::mem::take(&mut self.filter);
        self.set_filter(&f);
    }

    pub fn set_filter(&mut self, filter: &str) {
        let key = self.cursor_row();
        // A longer pattern only ever matches fewer rows, unless it names a column.
        let narrowing = !self.filter.is_empty() && filter.starts_with(self.filter.as_str()) && !filter.contains(':');
        self.filter = filter.to_string();
        if narrowing {
            let view = std::mem::take(&mut self.view);
            self.view = self.filtered_sorted(Some(&view));
        } else {
            self.rebuild_view();
        }
        self.cursor = key.and_then(|k| self.view.iter().position(|&r| r == k)).unwrap_or(0);
        self.clamp();
    }

    /// Sort by the selected column; `desc` for descending. Sorting again the same way restores
    /// the engine's order.
    pub fn sort_by_selected(&mut self, desc: bool) {
        let key = self.cursor_row();
        self.sort = if self.sort == Some((self.col, desc)) { None } else { Some((self.col, desc)) };
        self.rebuild_view();
        self.cursor = key.and_then(|k| self.view.iter().position(|&r| r == k)).unwrap_or(0);
        self.clamp();
    }

    pub fn cursor_row(&self) -> Option<usize> {
        self.view.get(self.cursor).copied()
    }

    pub fn move_by(&mut self, delta: isize) {
        if self.view.is_empty() {
            return;
        }
        let max = self.view.len() as isize - 1;
        self.cursor = (self.cursor as isize + delta).clamp(0, max) as usize;
    }

    pub fn move_to(&mut self, pos: usize) {
        self.cursor = pos;
        self.clamp();
    }

    pub fn move_col(&mut self, delta: isize) {
        let max = self.columns.len() as isize - 1;
        self.col = (self.col as isize + delta).clamp(0, max.max(0)) as usize;
    }

    pub fn toggle_mark(&mut self) {
        if let Some(r) = self.cursor_row() {
            if !self.marked.remove(&r) {
                self.marked.insert(r);
            }
        }
    }

    pub fn mark_all(&mut self) {
        self.marked.extend(self.view.iter().copied());
    }

    pub fn mark_none(&mut self) {
        self.marked.clear();
    }

    /// The rows an export writes: the marked rows (in view order, then marked rows the filter
    /// hides), or every shown row when none is marked.
    pub fn export_rows(&self) -> Vec<&[Cell]> {
        if self.marked.is_empty() {
            return self.view.iter().map(|&r| self.rows[r].as_slice()).collect();
        }
        let shown: HashSet<usize> = self.view.iter().copied().collect();
        let mut hidden: Vec<usize> = self.marked.iter().copied().filter(|r| !shown.contains(r)).collect();
        hidden.sort_unstable();
        self.view
            .iter()
            .copied()
            .filter(|r| self.marked.contains(r))
            .chain(hidden)
            .map(|r| self.rows[r].as_slice())
            .collect()
    }

    /// Char positions of the filter's match in each cell of `row` (for highlighting).
    pub fn match_positions(&self, row: usize) -> Vec<Vec<usize>> {
        let mut per_cell = vec![Vec::new(); self.columns.len()];
        if self.filter.is_empty() {
            return per_cell;
        }
        let q = self.query();
        if !q.fuzzy {
            for (c, cell) in per_cell.iter_mut().enumerate() {
                if q.col.is_some_and(|qc| qc != c) || q.lower.is_empty() {
                    continue;
                }
                *cell = substring_positions(&display_cell(cell_at(&self.rows[row], c)), &q.lower);
            }
            return per_cell;
        }
        let hay = match q.col {
            Some(c) => display_cell(cell_at(&self.rows[row], c)),
            None => self.search[row].clone(),
        };
        let Some((_, idx)) = SkimMatcherV2::default().fuzzy_indices(&hay, &q.text) else {
            return per_cell;
        };
        if let Some(c) = q.col {
            per_cell[c] = idx;
            return per_cell;
        }
        let starts = cell_char_starts(&self.rows[row]);
        for i in idx {
            // The last cell whose start is <= i holds it (separator hits are dropped below).
            let c = starts.partition_point(|&s| s <= i).saturating_sub(1);
            if c < per_cell.len() {
                let within = i - starts[c];
                if within < display_cell(cell_at(&self.rows[row], c)).chars().count() {
                    per_cell[c].push(within);
                }
            }
        }
        per_cell
    }
}

/// A parsed filter: `column:value` or text for every column; substring or fuzzy.
struct Query {
    col: Option<usize>,
    text: String,
    lower: String,
    fuzzy: bool,
}

impl Query {
    fn matches(&self, hay: &str) -> bool {
        if self.fuzzy {
            SkimMatcherV2::default().fuzzy_match(hay, &self.text).is_some()
        } else {
            hay.to_lowercase().contains(&self.lower)
        }
    }
}

/// Char positions of every case-insensitive occurrence of `lower` in `text` (none when
/// lower-casing changes the text's length, which would misplace them).
fn substring_positions(text: &str, lower: &str) -> Vec<usize> {
    let hay = text.to_lowercase();
    if hay.chars().count() != text.chars().count() {
        return Vec::new();
    }
    let n = lower.chars().count();
    let mut out = Vec::new();
    for (b, _) in hay.match_indices(lower) {
        let start = hay[..b].chars().count();
        out.extend(start..start + n);
    }
    out
}

#[cfg(test)]
mod tests {

    #[test]
    fn grouped_rows_share_their_first_column_once() {
        let cols = vec![Column::new("DeviceName", CellKind::Text), Column::new("RemotePort", CellKind::Int)];
        let rows = vec![
            vec![Cell::Text("srv-a".into()), Cell::Int(22)],
            vec![Cell::Text("srv-a".into()), Cell::Int(443)],
            vec![Cell::Text("srv-b".into()), Cell::Int(22)],
        ];
        let t = TableState::new(cols, rows, 2).grouped();
        assert_eq!((0..3).map(|p| t.continues_group(p)).collect::<Vec<_>>(), vec![false, true, false]);
        assert_eq!(t.group_count(), 2);
        let lines = crate::tui::view::table::table_lines(&t, 60, 10, true);
        let text: Vec<String> = lines.iter().map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect()).collect();
        assert!(text[1].contains("srv-a") && !text[2].contains("srv-a") && text[3].contains("srv-b"), "{text:#?}");
    }

    use super::*;

    fn t(v: &[(&str, i64)]) -> TableState {
        TableState::new(
            vec![Column::new("Name", CellKind::Text), Column::new("N", CellKind::Int)],
            v.iter().map(|(s, n)| vec![Cell::Text(s.to_string()), Cell::Int(*n)]).collect(),
            1,
        )
    }

    fn names(t: &TableState) -> Vec<String> {
        t.view.iter().map(|&r| display_cell(&t.rows[r][0])).collect()
    }

    #[test]
    fn sorts_numbers_as_numbers_both_ways_and_back_to_engine_order() {
        let mut x = t(&[("a", 10), ("b", 9), ("c", 100)]);
        x.col = 1;
        x.sort_by_selected(false);
        assert_eq!(names(&x), ["b", "a", "c"]);
        x.sort_by_selected(true);
        assert_eq!(names(&x), ["c", "a", "b"]);
        x.sort_by_selected(true);
        assert_eq!(names(&x), ["a", "b", "c"]);
    }

    #[test]
    fn recompute_keeps_cursor_and_marks_on_the_same_rows() {
        let mut x = t(&[("a", 1), ("b", 2), ("c", 3)]);
        x.move_to(2);
        x.move_to(1);
        x.toggle_mark();
        x.move_to(2);
        x.replace_rows(vec![
            vec![Cell::Text("z".into()), Cell::Int(0)],
            vec![Cell::Text("c".into()), Cell::Int(30)],
            vec![Cell::Text("b".into()), Cell::Int(20)],
        ]);
        assert_eq!(x.cursor_row(), Some(1), "cursor follows row c");
        assert_eq!(x.marked, HashSet::from([2]), "mark follows row b");
        x.replace_rows(vec![vec![Cell::Text("q".into()), Cell::Int(0)]]);
        assert_eq!(x.cursor, 0, "cursor clamps when its row is gone");
        assert!(x.marked.is_empty());
    }

    #[test]
    fn filter_is_a_case_insensitive_substring_unless_fuzzy() {
        let mut x = t(&[("86.128.13.25", 1), ("86.128.213.5", 2), ("Evil.EXE", 25)]);
        x.set_filter("86.128.13.25");
        assert_eq!(names(&x), ["86.128.13.25"]);
        x.set_filter("evil.exe");
        assert_eq!(names(&x), ["Evil.EXE"]);
        assert_eq!(x.match_positions(2)[0], (0..8).collect::<Vec<_>>());
        // `column:value` looks in that column only: 25 is in the first column of row 0 and the
        // second of row 2.
        x.set_filter("25");
        assert_eq!(names(&x), ["86.128.13.25", "Evil.EXE"]);
        let second = x.columns[1].name.clone();
        x.set_filter(&format!("{}:25", second.to_uppercase()));
        assert_eq!(names(&x), ["Evil.EXE"]);
        assert_eq!(x.match_positions(2)[1], vec![0, 1]);
        assert!(x.match_positions(2)[0].is_empty());
        // Fuzzy: the letters in order, anywhere.
        x.set_filter("86.128.13.5");
        assert!(names(&x).is_empty());
        x.toggle_fuzzy();
        assert_eq!(names(&x), ["86.128.13.25", "86.128.213.5"]);
    }

    #[test]
    fn fuzzy_filter_narrows_rows_and_reports_matched_chars_per_cell() {
        let mut x = t(&[("powershell.exe", 1), ("svchost.exe", 2), ("pwsh.exe", 3)]);
        x.toggle_fuzzy();
        x.set_filter("psh");
        assert_eq!(names(&x), ["powershell.exe", "pwsh.exe"]);
        let pos = x.match_positions(2);
        assert_eq!(pos[0], vec![0, 2, 3]);
        assert!(pos[1].is_empty());
        x.set_filter("");
        assert_eq!(x.view.len(), 3);
    }

    #[test]
    fn typing_more_of_a_filter_narrows_the_same_way_as_filtering_from_scratch() {
        let rows: Vec<(String, i64)> = (0..500).map(|i| (format!("proc{i}.exe x{}", i % 7), i)).collect();
        let refs: Vec<(&str, i64)> = rows.iter().map(|(s, n)| (s.as_str(), *n)).collect();
        let mut typed = t(&refs);
        typed.toggle_fuzzy();
        typed.col = 1;
        typed.sort_by_selected(true);
        for (i, _) in "p1.exe x3".char_indices().skip(1) {
            typed.set_filter(&"p1.exe x3"[..i]);
        }
        let mut substring = t(&refs);
        for (i, _) in "proc1".char_indices().skip(1) {
            substring.set_filter(&"proc1"[..i]);
        }
        substring.set_filter("proc1");
        let mut substring_fresh = t(&refs);
        substring_fresh.set_filter("proc1");
        assert_eq!(substring.view.len(), 111);
        assert_eq!(substring.view, substring_fresh.view);
        typed.set_filter("p1.exe x3");
        let mut fresh = t(&refs);
        fresh.toggle_fuzzy();
        fresh.col = 1;
        fresh.sort_by_selected(true);
        fresh.set_filter("p1.exe x3");
        assert!(!fresh.view.is_empty());
        assert_eq!(typed.view, fresh.view);
    }

    #[test]
    fn text_sorts_case_insensitively() {
        let mut x = t(&[("beta", 1), ("Alpha", 2), ("alpha", 3), ("Gamma", 4)]);
        x.sort_by_selected(false);
        assert_eq!(names(&x), ["Alpha", "alpha", "beta", "Gamma"]);
    }

    #[test]
    fn export_takes_marked_rows_or_all_shown_rows() {
        let mut x = t(&[("a", 1), ("b", 2), ("c", 3)]);
        assert_eq!(x.export_rows().len(), 3);
        x.move_to(2);
        x.toggle_mark();
        let rows = x.export_rows();
        assert_eq!(rows, vec![x.rows[2].as_slice()]);
    }

    #[test]
    fn scrolling_keeps_the_cursor_visible() {
        let rows: Vec<(String, i64)> = (0..100_000).map(|i| (format!("p{i}"), i)).collect();
        let refs: Vec<(&str, i64)> = rows.iter().map(|(s, n)| (s.as_str(), *n)).collect();
        let mut x = t(&refs);
        x.move_to(99_999);
        x.scroll_into_view(20);
        assert_eq!(x.offset, 99_980);
        x.move_by(-50);
        x.scroll_into_view(20);
        assert_eq!(x.offset, 99_949);
    }
}
