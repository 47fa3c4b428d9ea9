//! The `rarity` command line: `tui` (default), `inspect`, `run`, `hunts`, `gen`.

#[allow(dead_code)]
mod tui;

fn main() {
    println!("rarity");
}
