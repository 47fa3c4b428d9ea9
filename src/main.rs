//! The `rarity` command line: `tui` (default), `inspect`, `run`, `hunts`, `gen`.

fn main() {
    println!("rarity");
}
