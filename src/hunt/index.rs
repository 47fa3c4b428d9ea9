//! The hunt engine: per-dataset precomputation (case-folded dictionaries, time-ordered candidate
//! events per hunt, server lists) built once, so re-running a hunt after a parameter change only
//! filters compact arrays.

use super::{registry, HuntError, HuntIndex, HuntOutput, HuntParams};
use crate::model::dict::Dict;
use crate::model::Nanos;
use crate::store::Dataset;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// Case-folded names (device names, process names): one id per lower-cased string.
#[derive(Default, Debug)]
pub(crate) struct Folded {
    pub names: Vec<String>,
    ids: HashMap<String, u32>,
}

impl Folded {
    pub fn intern(&mut self, s: &str) -> u32 {
        let l = s.to_lowercase();
        if let Some(&id) = self.ids.get(&l) {
            return id;
        }
        let id = self.names.len() as u32;
        self.ids.insert(l.clone(), id);
        self.names.push(l);
        id
    }

    pub fn lookup(&self, s: &str) -> Option<u32> {
        self.ids.get(&s.to_lowercase()).copied()
    }

    /// Fold every code of `dict`: `out[code]` = folded id.
    pub fn fold_dict(&mut self, dict: &Dict) -> Vec<u32> {
        dict.iter().map(|(_, s)| self.intern(s)).collect()
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }
}

/// `mask[code]` = the value equals one of `names`, ignoring case.
pub(crate) fn mask_any(dict: &Dict, names: &[&str]) -> Vec<bool> {
    let lows: Vec<String> = names.iter().map(|n| n.to_lowercase()).collect();
    dict.mask(|v| {
        let l = v.to_lowercase();
        lows.contains(&l)
    })
}

/// Keep the rows of `order` (a time order) that pass `keep`, still in time order.
pub(crate) fn filter_order(order: &[u32], keep: impl Fn(usize) -> bool + Sync) -> Vec<u32> {
    use rayon::prelude::*;
    order.par_iter().copied().filter(|&r| keep(r as usize)).collect()
}

/// Time order of rows: indices sorted by (timestamp, row), so ties keep load order.
pub(crate) fn time_order(ts: &[Nanos], keep: impl Fn(usize) -> bool + Sync) -> Vec<u32> {
    use rayon::prelude::*;
    let mut rows: Vec<u32> = (0..ts.len() as u32).into_par_iter().filter(|&r| keep(r as usize)).collect();
    rows.par_sort_unstable_by_key(|&r| (ts[r as usize], r));
    rows
}

/// Index of the first element with `key > bound` in a sequence sorted by key.
pub(crate) fn first_after<T>(v: &[T], bound: Nanos, key: impl Fn(&T) -> Nanos) -> usize {
    v.partition_point(|e| key(e) <= bound)
}

/// Index of the first element with `key >= bound`.
pub(crate) fn first_at_or_after<T>(v: &[T], bound: Nanos, key: impl Fn(&T) -> Nanos) -> usize {
    v.partition_point(|e| key(e) < bound)
}

/// Sorted distinct non-empty strings.
pub(crate) fn text_set<'a>(it: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut v: Vec<String> = it.into_iter().filter(|s| !s.is_empty()).map(str::to_string).collect();
    v.sort();
    v.dedup();
    v
}

/// Sorted distinct ports (no-port excluded).
pub(crate) fn port_set(it: impl IntoIterator<Item = u32>) -> Vec<i64> {
    let mut v: Vec<i64> = it.into_iter().filter(|&p| p != crate::model::NO_PORT).map(i64::from).collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// The enabled `excluded_nets` entries of a hunt's parameters.
pub(crate) fn excluded_nets(p: &HuntParams) -> Vec<ipnet::IpNet> {
    p.enabled("excluded_nets").iter().filter_map(|s| s.parse().ok()).collect()
}

/// The RemoteIP codes of the network events inside an enabled entry of the hunt's
/// `excluded_nets` (code 0, no address, never is). Each entry is a range search in the
/// address-ordered codes, so the cost follows the excluded addresses, not every address.
pub(crate) fn excluded_ips(eng: &Engine, p: &HuntParams) -> ExcludedIps {
    ExcludedIps { codes: eng.common.codes_in(&eng.ds, &excluded_nets(p)) }
}

/// RemoteIP codes a hunt's `excluded_nets` drops (sorted).
#[derive(Debug, Default)]
pub(crate) struct ExcludedIps {
    codes: Vec<u32>,
}

impl ExcludedIps {
    pub fn contains(&self, code: u32) -> bool {
        !self.codes.is_empty() && self.codes.binary_search(&code).is_ok()
    }

    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }
}

/// Items grouped by a dense bucket id (compressed rows): `get(b)` is bucket `b`'s items in the
/// order they were given.
#[derive(Debug)]
pub(crate) struct Buckets<T> {
    offsets: Vec<usize>,
    items: Vec<T>,
}

impl<T> Default for Buckets<T> {
    fn default() -> Self {
        Buckets { offsets: vec![0], items: Vec::new() }
    }
}

impl<T: Copy> Buckets<T> {
    /// `buckets` buckets filled from `(bucket, item)` pairs (every bucket below `buckets`).
    pub fn build(buckets: usize, pairs: impl IntoIterator<Item = (u32, T)>) -> Buckets<T> {
        let pairs: Vec<(u32, T)> = pairs.into_iter().collect();
        let mut offsets = vec![0usize; buckets + 1];
        for (b, _) in &pairs {
            offsets[*b as usize + 1] += 1;
        }
        for b in 0..buckets {
            offsets[b + 1] += offsets[b];
        }
        let mut fill = offsets.clone();
        let mut items: Vec<Option<T>> = vec![None; pairs.len()];
        for (b, t) in pairs {
            items[fill[b as usize]] = Some(t);
            fill[b as usize] += 1;
        }
        Buckets { offsets, items: items.into_iter().flatten().collect() }
    }

    /// Bucket `b`'s items (empty past the last bucket).
    pub fn get(&self, b: usize) -> &[T] {
        match (self.offsets.get(b), self.offsets.get(b + 1)) {
            (Some(&lo), Some(&hi)) => &self.items[lo..hi],
            _ => &[],
        }
    }

    /// The number of buckets.
    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    pub fn heap_bytes(&self) -> usize {
        self.offsets.capacity() * 8 + self.items.capacity() * std::mem::size_of::<T>()
    }
}

/// The class of each of a sequence of events (in time order), with each class's count before
/// every `every`-th event: the per-class counts of the events from any position on cost one
/// copy of a snapshot and a walk over at most `every / 2` events, whatever their number.
#[derive(Debug, Default)]
pub(crate) struct CountsByTime {
    class: Vec<u32>,
    classes: usize,
    every: usize,
    /// `snaps[s * classes + k]`: events of class `k` among the first `s * every`.
    snaps: Vec<u32>,
    totals: Vec<u32>,
}

impl CountsByTime {
    /// Snapshot memory stays under about 4 MB whatever the number of classes.
    const SNAPSHOT_CELLS: usize = 1 << 20;

    /// From the class of every event, in time order; every class below `classes`.
    pub fn build(classes: usize, class: Vec<u32>) -> CountsByTime {
        let snapshots = (class.len() / 1024 + 1).min(Self::SNAPSHOT_CELLS / classes.max(1)).max(1);
        let every = class.len().div_ceil(snapshots).max(1);
        let mut snaps = Vec::with_capacity((class.len() / every + 1) * classes);
        let mut running = vec![0u32; classes];
        for (i, &k) in class.iter().enumerate() {
            if i % every == 0 {
                snaps.extend_from_slice(&running);
            }
            running[k as usize] += 1;
        }
        if class.len() % every == 0 {
            snaps.extend_from_slice(&running);
        }
        CountsByTime { class, classes, every, snaps, totals: running }
    }

    /// The snapshot nearest to position `at` and the events between them.
    fn nearest(&self, at: usize) -> (usize, std::ops::Range<usize>, bool) {
        let last = self.snaps.len() / self.classes.max(1) - 1;
        let s = ((at + self.every / 2) / self.every).min(last);
        let from = s * self.every;
        if from <= at {
            (s, from..at, true)
        } else {
            (s, at..from, false)
        }
    }

    /// Per class: the events from position `at` on.
    pub fn after(&self, at: usize) -> Vec<u32> {
        if self.classes == 0 {
            return Vec::new();
        }
        let (s, between, add) = self.nearest(at.min(self.class.len()));
        let mut before = self.snaps[s * self.classes..(s + 1) * self.classes].to_vec();
        for &k in &self.class[between] {
            if add {
                before[k as usize] += 1;
            } else {
                before[k as usize] -= 1;
            }
        }
        self.totals.iter().zip(before).map(|(t, b)| t - b).collect()
    }

    /// The events from position `at` on of each class in `classes` (`out[i]` is class
    /// `classes.start + i`).
    pub fn after_range(&self, at: usize, classes: std::ops::Range<usize>) -> Vec<u32> {
        let classes = classes.start.min(self.classes)..classes.end.min(self.classes);
        if classes.is_empty() {
            return Vec::new();
        }
        let (s, between, add) = self.nearest(at.min(self.class.len()));
        let mut before = self.snaps[s * self.classes..(s + 1) * self.classes][classes.clone()].to_vec();
        for &k in &self.class[between] {
            if let Some(b) = (k as usize).checked_sub(classes.start).and_then(|i| before.get_mut(i)) {
                if add {
                    *b += 1;
                } else {
                    *b -= 1;
                }
            }
        }
        self.totals[classes].iter().zip(before).map(|(t, b)| t - b).collect()
    }

    pub fn heap_bytes(&self) -> usize {
        (self.class.capacity() + self.snaps.capacity() + self.totals.capacity()) * 4
    }
}

/// A count parameter as `u32` for comparisons against feed levels.
pub(crate) fn clamp_u32(v: i64) -> u32 {
    v.clamp(0, u32::MAX as i64) as u32
}

/// Every network event by RemoteIP code, each bucket in time order. Rows only (4 bytes per
/// event): the bucket's timestamps are read from the table in the binary search.
#[derive(Debug, Default)]
pub(crate) struct ByIp {
    offsets: Vec<usize>,
    rows: Vec<u32>,
}

impl ByIp {
    pub fn build(ds: &Dataset, order: &[u32]) -> ByIp {
        let n = &ds.net;
        let codes = n.remote_ip.distinct();
        let mut offsets = vec![0usize; codes + 1];
        for &r in order {
            offsets[n.remote_ip.codes[r as usize] as usize + 1] += 1;
        }
        for i in 0..codes {
            offsets[i + 1] += offsets[i];
        }
        let mut fill = offsets.clone();
        let mut rows = vec![0u32; order.len()];
        for &r in order {
            let c = n.remote_ip.codes[r as usize] as usize;
            rows[fill[c]] = r;
            fill[c] += 1;
        }
        ByIp { offsets, rows }
    }

    /// Rows of events to `ip` with `Timestamp > since`, in time order.
    pub fn since<'a>(&'a self, ds: &Dataset, ip: u32, since: Nanos) -> &'a [u32] {
        let Some(&lo) = self.offsets.get(ip as usize) else { return &[] };
        let hi = self.offsets[ip as usize + 1];
        let b = &self.rows[lo..hi];
        &b[first_after(b, since, |&r| ds.net.ts[r as usize])..]
    }
}

/// Things several hunts share: folded device names and the DeviceInfo server candidates.
#[derive(Debug)]
pub struct Common {
    /// Lower-cased device names from network events, DeviceInfo and nothing else.
    pub(crate) devnames: Folded,
    /// `net.device_name` code -> folded device-name id.
    pub(crate) net_name: Vec<u32>,
    /// DeviceInfo rows that make their DeviceName a server (OSPlatform non-empty, DeviceType not
    /// Workstation, OSPlatform not macOS), as (Timestamp, folded name), sorted by time.
    pub(crate) server_rows: Vec<(Nanos, u32)>,
    /// `net.proc_name` code -> folded process-name id; `procs.names` holds the lower-cased names.
    pub(crate) procs: Folded,
    pub(crate) net_proc: Vec<u32>,
    /// Every network-event row in time order (ties: load order).
    pub(crate) net_order: Vec<u32>,
    /// The RemoteIP codes of the network events (never 0) in address order, for range searches.
    ip_order: Vec<u32>,
    /// Every network-event row by RemoteIP code, in time order.
    pub(crate) by_ip: ByIp,
}

impl Common {
    fn build(ds: &Dataset) -> Common {
        let mut devnames = Folded::default();
        devnames.intern("");
        let net_name = devnames.fold_dict(&ds.net.device_name.dict);
        let dev_name = devnames.fold_dict(&ds.devinfo.device_name.dict);
        let d = &ds.devinfo;
        let os_ok = d.os_platform.dict.mask(|s| !s.is_empty() && !s.eq_ignore_ascii_case("macos"));
        let type_ok = d.device_type.dict.mask(|s| !s.eq_ignore_ascii_case("workstation"));
        let mut server_rows: Vec<(Nanos, u32)> = (0..d.len())
            .filter(|&r| os_ok[d.os_platform.codes.get(r) as usize] && type_ok[d.device_type.codes.get(r) as usize])
            .map(|r| (d.ts[r], dev_name[d.device_name.codes.get(r) as usize]))
            .collect();
        server_rows.sort_unstable();
        let mut procs = Folded::default();
        procs.intern("");
        let net_proc = procs.fold_dict(&ds.net.proc_name.dict);
        let net_order = time_order(&ds.net.ts, |_| true);
        let ips = &ds.net.remote_ip.ips;
        let mut ip_order: Vec<u32> = (1..ds.net.remote_ip.distinct() as u32).collect();
        {
            use rayon::prelude::*;
            ip_order.par_sort_unstable_by_key(|&c| ips[c as usize]);
        }
        let by_ip = ByIp::build(ds, &net_order);
        Common { devnames, net_name, server_rows, procs, net_proc, net_order, ip_order, by_ip }
    }

    /// The RemoteIP codes of network events inside any of `nets`, sorted, each once.
    pub(crate) fn codes_in(&self, ds: &Dataset, nets: &[ipnet::IpNet]) -> Vec<u32> {
        let ips = &ds.net.remote_ip.ips;
        let mut out = Vec::new();
        for net in nets {
            let (lo, hi) = (net.network(), net.broadcast());
            let a = self.ip_order.partition_point(|&c| ips[c as usize] < lo);
            let b = self.ip_order.partition_point(|&c| ips[c as usize] <= hi);
            out.extend_from_slice(&self.ip_order[a..b.max(a)]);
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Folded device names that are servers by the DeviceInfo rule over `Timestamp > since`.
    pub(crate) fn servers_since(&self, since: Nanos) -> Vec<bool> {
        let mut mask = vec![false; self.devnames.len()];
        let start = first_after(&self.server_rows, since, |e| e.0);
        for &(_, id) in &self.server_rows[start..] {
            mask[id as usize] = true;
        }
        // An empty DeviceName is never a server.
        mask[0] = false;
        mask
    }

    /// Folded device names equal (ignoring case) to one of `names`.
    pub(crate) fn servers_named(&self, names: &[&str]) -> Vec<bool> {
        let mut mask = vec![false; self.devnames.len()];
        for n in names {
            if let Some(id) = self.devnames.lookup(n.trim()) {
                mask[id as usize] = true;
            }
        }
        mask[0] = false;
        mask
    }
}

/// Everything a dataset needs for fast hunts. Build once per load; `run` any number of times
/// (from any thread: the engine is `Send + Sync`).
pub struct Engine {
    pub(crate) ds: Arc<Dataset>,
    pub(crate) common: Common,
    /// One index per hunt, in registry order, each built on first use (`Engine::new` builds
    /// them all up front; `Engine::lazy` only the ones a command asks for).
    indexes: Vec<OnceLock<Box<dyn HuntIndex>>>,
    /// Per hunt: the parameters, reference time and row count of its latest `run`. A funnel's
    /// last step is that count, so the funnel that follows its run (every recompute in the
    /// TUI) takes it from here instead of finding the rows again.
    last_runs: Vec<Mutex<Option<(HuntParams, Nanos, usize)>>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("net_rows", &self.ds.net.len()).finish()
    }
}

impl Engine {
    /// Precompute every hunt's index of `ds` (in parallel): what the TUI wants, where every tab
    /// runs at once and later keys should never wait for an index.
    pub fn new(ds: Arc<Dataset>) -> Engine {
        let eng = Engine::lazy(ds);
        eng.build_all();
        eng
    }

    /// Build every hunt's index not built yet, one after another in registry (tab) order, each
    /// using every core inside: the first tab's index is ready first. Safe to call from another
    /// thread while hunts run, like `build_all`.
    pub fn build_in_order(&self) {
        for (i, slot) in self.indexes.iter().enumerate() {
            slot.get_or_init(|| registry()[i].build(&self.ds, &self.common));
        }
    }

    /// Build every hunt's index not built yet, in parallel. Safe to call from another thread
    /// while hunts run: a hunt whose index is being built here waits for it, never builds it
    /// twice.
    pub fn build_all(&self) {
        use rayon::prelude::*;
        self.indexes.par_iter().enumerate().for_each(|(i, slot)| {
            slot.get_or_init(|| registry()[i].build(&self.ds, &self.common));
        });
    }

    /// The shared indexes of `ds` only; each hunt's own index is built the first time that hunt
    /// is used. A command that runs one hunt (`rarity run`, `explain`, `sweep`, `pivot`) pays
    /// the time and memory of that hunt's index alone.
    pub fn lazy(ds: Arc<Dataset>) -> Engine {
        let common = Common::build(&ds);
        let indexes = registry().iter().map(|_| OnceLock::new()).collect();
        let last_runs = registry().iter().map(|_| Mutex::new(None)).collect();
        Engine { ds, common, indexes, last_runs }
    }

    /// Approximate heap bytes of the indexes built so far (on top of the dataset).
    pub fn heap_bytes(&self) -> usize {
        let c = &self.common;
        (c.net_order.capacity() + c.ip_order.capacity()) * 4
            + (c.net_name.capacity() + c.net_proc.capacity()) * 4
            + c.server_rows.capacity() * 16
            + c.by_ip.offsets.capacity() * 8
            + c.by_ip.rows.capacity() * 4
            + self.indexes.iter().filter_map(|i| i.get()).map(|i| i.heap_bytes()).sum::<usize>()
    }

    pub fn dataset(&self) -> &Arc<Dataset> {
        &self.ds
    }

    /// The reference time for `now` (None = latest event over every table).
    pub fn resolve_now(&self, now: Option<Nanos>) -> Nanos {
        self.ds.reference_now(now)
    }

    /// The index of `params.hunt`, built now if this is its first use.
    pub(crate) fn index(&self, params: &HuntParams) -> &dyn HuntIndex {
        let i = params.hunt.position();
        self.indexes[i].get_or_init(|| registry()[i].build(&self.ds, &self.common)).as_ref()
    }

    /// Run one hunt with `params` at `now` (None = the latest event).
    pub fn run(&self, params: &HuntParams, now: Option<Nanos>) -> Result<HuntOutput, HuntError> {
        self.check_tables(params)?;
        let now = self.resolve_now(now);
        let (keys, rows): (Vec<_>, Vec<_>) = self.index(params).run(self, params, now).into_iter().unzip();
        if let Some(slot) = self.last_runs.get(params.hunt.position()) {
            // A poisoned lock only means another run panicked mid-store: overwrite it.
            let mut last = slot.lock().unwrap_or_else(|e| e.into_inner());
            *last = Some((params.clone(), now, rows.len()));
        }
        let hunt = params.hunt.hunt();
        let banner = hunt.banner(params, rows.len());
        Ok(HuntOutput {
            hunt: params.hunt,
            columns: hunt.spec().columns,
            rows,
            keys,
            params: params.clone(),
            banner,
            now,
        })
    }

    /// The row count of the latest `run` of `params.hunt`, when it ran with exactly `params` at
    /// `now`.
    pub(crate) fn rows_of_run(&self, params: &HuntParams, now: Nanos) -> Option<usize> {
        let last = self.last_runs.get(params.hunt.position())?.lock().unwrap_or_else(|e| e.into_inner());
        match &*last {
            Some((p, t, rows)) if p == params && *t == now => Some(*rows),
            _ => None,
        }
    }

    /// The tables a hunt needs with `params`, or the error naming the first one missing.
    pub fn check_tables(&self, params: &HuntParams) -> Result<(), HuntError> {
        params.hunt.hunt().check(&self.ds, params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_is_send_and_sync_for_the_tui_worker() {
        fn check<T: Send + Sync>() {}
        check::<Engine>();
    }

    #[test]
    fn folded_names_merge_case_variants() {
        let mut f = Folded::default();
        let a = f.intern("PuTTY.exe");
        assert_eq!(f.intern("putty.EXE"), a);
        assert_eq!(f.lookup("PUTTY.exe"), Some(a));
        assert_eq!(f.names[a as usize], "putty.exe");
    }

    #[test]
    fn counts_by_time_equal_a_plain_count_from_every_position() {
        assert!(CountsByTime::build(0, Vec::new()).after(0).is_empty());
        for len in [0usize, 1, 5, 1023, 1024, 1025, 5000] {
            let class: Vec<u32> = (0..len).map(|i| ((i * 7) % 5) as u32).collect();
            let counts = CountsByTime::build(5, class.clone());
            for at in [0, 1, len / 6, len / 3, len.saturating_sub(1), len, len + 1] {
                let want: Vec<u32> =
                    (0..5).map(|k| class.iter().skip(at).filter(|&&c| c == k).count() as u32).collect();
                assert_eq!(counts.after(at), want, "len {len} from {at}");
                assert_eq!(counts.after_range(at, 1..4), want[1..4].to_vec(), "len {len} from {at}");
                assert!(counts.after_range(at, 5..9).is_empty());
            }
        }
    }

    #[test]
    fn window_searches_respect_strictness() {
        let v = [1i64, 2, 2, 3];
        assert_eq!(first_after(&v, 2, |x| *x), 3);
        assert_eq!(first_at_or_after(&v, 2, |x| *x), 1);
    }
}
