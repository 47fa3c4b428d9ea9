//! The byte encoding of a snapshot's small parts (its key, the load report, sources, feeds):
//! length-prefixed little-endian fields. Decoding checks every length against what is left,
//! so a damaged buffer is an error, never a panic or a huge allocation.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Appends fields to a buffer.
#[derive(Default)]
pub(crate) struct Enc {
    pub buf: Vec<u8>,
}

impl Enc {
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    pub fn bool(&mut self, v: bool) {
        self.u8(u8::from(v));
    }

    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    pub fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    pub fn i64(&mut self, v: i64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    pub fn len(&mut self, n: usize) {
        self.u64(n as u64);
    }

    pub fn bytes(&mut self, b: &[u8]) {
        self.len(b.len());
        self.buf.extend_from_slice(b);
    }

    pub fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }

    pub fn opt_str(&mut self, s: Option<&str>) {
        self.bool(s.is_some());
        if let Some(s) = s {
            self.str(s);
        }
    }

    pub fn opt_i64(&mut self, v: Option<i64>) {
        self.bool(v.is_some());
        if let Some(v) = v {
            self.i64(v);
        }
    }

    pub fn strs(&mut self, v: &[String]) {
        self.len(v.len());
        for s in v {
            self.str(s);
        }
    }

    pub fn ip(&mut self, ip: IpAddr) {
        let (tag, octets) = ip_bytes(ip);
        self.u8(tag);
        self.buf.extend_from_slice(&octets);
    }
}

/// An address as a tag (4 or 6) and 16 octets (IPv4 in the first four).
pub(crate) fn ip_bytes(ip: IpAddr) -> (u8, [u8; 16]) {
    let mut o = [0u8; 16];
    match ip {
        IpAddr::V4(a) => {
            o[..4].copy_from_slice(&a.octets());
            (4, o)
        }
        IpAddr::V6(a) => (6, a.octets()),
    }
}

/// The inverse of `ip_bytes`.
pub(crate) fn ip_from_bytes(tag: u8, o: &[u8]) -> Result<IpAddr, String> {
    match (tag, o.len()) {
        (4, 16) => Ok(IpAddr::V4(Ipv4Addr::new(o[0], o[1], o[2], o[3]))),
        (6, 16) => {
            let mut a = [0u8; 16];
            a.copy_from_slice(o);
            Ok(IpAddr::V6(Ipv6Addr::from(a)))
        }
        _ => Err("bad address".into()),
    }
}

/// Reads fields back in the order they were written.
pub(crate) struct Dec<'a> {
    buf: &'a [u8],
}

type R<T> = Result<T, String>;

impl<'a> Dec<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Dec { buf }
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    fn take(&mut self, n: usize) -> R<&'a [u8]> {
        if n > self.buf.len() {
            return Err("record cut short".into());
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> R<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    pub fn u8(&mut self) -> R<u8> {
        Ok(self.take(1)?[0])
    }

    pub fn bool(&mut self) -> R<bool> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err("bad flag".into()),
        }
    }

    pub fn u32(&mut self) -> R<u32> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    pub fn u64(&mut self) -> R<u64> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    pub fn i64(&mut self) -> R<i64> {
        Ok(i64::from_le_bytes(self.array()?))
    }

    /// A count of items each at least `min_item` bytes long: never more than what is left.
    pub fn len(&mut self, min_item: usize) -> R<usize> {
        let n = self.u64()?;
        let fits = usize::try_from(n).ok().filter(|&n| n.saturating_mul(min_item.max(1)) <= self.buf.len());
        fits.ok_or_else(|| "count larger than the record".into())
    }

    pub fn bytes(&mut self) -> R<&'a [u8]> {
        let n = self.len(1)?;
        self.take(n)
    }

    pub fn string(&mut self) -> R<String> {
        String::from_utf8(self.bytes()?.to_vec()).map_err(|_| "text is not UTF-8".into())
    }

    pub fn opt_string(&mut self) -> R<Option<String>> {
        Ok(if self.bool()? { Some(self.string()?) } else { None })
    }

    pub fn opt_i64(&mut self) -> R<Option<i64>> {
        Ok(if self.bool()? { Some(self.i64()?) } else { None })
    }

    pub fn strings(&mut self) -> R<Vec<String>> {
        let n = self.len(8)?;
        (0..n).map(|_| self.string()).collect()
    }

    pub fn ip(&mut self) -> R<IpAddr> {
        let tag = self.u8()?;
        ip_from_bytes(tag, self.take(16)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_round_trip() {
        let mut e = Enc::default();
        e.u8(7);
        e.u32(70_000);
        e.i64(-5);
        e.opt_str(Some("é"));
        e.opt_str(None);
        e.strs(&["a".into(), String::new()]);
        e.ip("::1".parse().unwrap());
        e.ip("10.1.2.3".parse().unwrap());
        let mut d = Dec::new(&e.buf);
        assert_eq!(d.u8().unwrap(), 7);
        assert_eq!(d.u32().unwrap(), 70_000);
        assert_eq!(d.i64().unwrap(), -5);
        assert_eq!(d.opt_string().unwrap().as_deref(), Some("é"));
        assert_eq!(d.opt_string().unwrap(), None);
        assert_eq!(d.strings().unwrap(), vec!["a".to_string(), String::new()]);
        assert_eq!(d.ip().unwrap(), "::1".parse::<IpAddr>().unwrap());
        assert_eq!(d.ip().unwrap(), "10.1.2.3".parse::<IpAddr>().unwrap());
        assert!(d.is_empty());
    }

    #[test]
    fn a_huge_count_is_an_error_not_an_allocation() {
        let mut e = Enc::default();
        e.u64(u64::MAX);
        assert!(Dec::new(&e.buf).strings().is_err());
        assert!(Dec::new(&e.buf[..3]).u64().is_err());
        assert!(Dec::new(&[2]).bool().is_err());
    }
}
