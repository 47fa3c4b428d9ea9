//! The command line below `main`: arguments, loading, and one file per subcommand.

mod args;
mod cache;
mod case;
mod cockpit;
mod gen;
mod hunts;
mod inspect;
mod kql;
mod load;
mod pivot;
mod run;

pub(crate) use args::*;
pub(crate) use cache::*;
pub(crate) use case::*;
pub(crate) use cockpit::*;
pub(crate) use gen::*;
pub(crate) use hunts::*;
pub(crate) use inspect::*;
pub(crate) use kql::*;
pub(crate) use load::*;
pub(crate) use pivot::*;
pub(crate) use run::*;
