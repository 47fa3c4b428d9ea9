//! Builds an in-memory `Dataset` row by row through `FileSink`, exactly as a reader would:
//! for hunt tests, property tests and benchmarks.

use crate::enrich::ti::ThreatIntel;
use crate::ingest::sink::{FileSink, SinkOptions};
use crate::model::tables::{DevField, NetField, VmField};
use crate::store::Dataset;

/// Rows pushed so far; `build` turns them into a loaded dataset.
#[derive(Debug, Default)]
pub struct DatasetBuilder {
    sink: FileSink,
    line: u64,
    ti: ThreatIntel,
}

impl DatasetBuilder {
    pub fn new() -> Self {
        DatasetBuilder { sink: FileSink::new(SinkOptions::default()), line: 1, ti: ThreatIntel::default() }
    }

    fn next_line(&mut self) -> u64 {
        self.line += 1;
        self.line
    }

    /// Add a network event from (column, value) pairs; returns false when the sink rejected it.
    /// A later pair for the same column overrides an earlier one, so tests can append overrides
    /// to a list of defaults.
    pub fn net(&mut self, fields: &[(NetField, &str)]) -> bool {
        let mut v = [""; NetField::COUNT];
        for (f, s) in fields {
            v[*f as usize] = s;
        }
        let line = self.next_line();
        self.sink.push_net(&v, line, line)
    }

    /// Add a DeviceInfo row; returns false when the sink rejected it.
    pub fn dev(&mut self, fields: &[(DevField, &str)]) -> bool {
        let mut v = [""; DevField::COUNT];
        for (f, s) in fields {
            v[*f as usize] = s;
        }
        let line = self.next_line();
        self.sink.push_dev(&v, line, line)
    }

    /// Add a VMConnection row; returns false when the sink rejected it.
    pub fn vm(&mut self, fields: &[(VmField, &str)]) -> bool {
        let mut v = [""; VmField::COUNT];
        for (f, s) in fields {
            v[*f as usize] = s;
        }
        let line = self.next_line();
        self.sink.push_vm(&v, line, line)
    }

    /// Add a threat-intel entry (`IP` or `CIDR`, optional count).
    pub fn ti(&mut self, net: &str, count: Option<u32>) -> bool {
        let parsed =
            net.parse::<ipnet::IpNet>().ok().or_else(|| crate::model::ip::parse_ip(net).map(ipnet::IpNet::from));
        match parsed {
            Some(n) => {
                self.ti.insert(n, count);
                true
            }
            None => false,
        }
    }

    /// Rows rejected so far.
    pub fn rejected(&self) -> u64 {
        self.sink.rejected
    }

    /// The loaded dataset (as if from one source).
    pub fn build(mut self) -> Dataset {
        self.sink.finish();
        let mut ds = Dataset::default();
        ds.net.append(std::mem::take(&mut self.sink.net), 0);
        ds.devinfo.append(std::mem::take(&mut self.sink.dev), 0);
        ds.vm.append(std::mem::take(&mut self.sink.vm), 0);
        ds.ti = self.ti;
        ds.finish_load();
        ds
    }
}
