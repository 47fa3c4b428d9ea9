//! Generator of a realistic Defender DeviceNetworkEvents portal CSV, shared by the `load_csv`
//! benchmark and the `load` example (included with `#[path]`).

use std::io::Write;

/// The network columns of a portal export (`DeviceNetworkEvents | project ...`).
pub const HEADER: &[&str] = &[
    "Timestamp",
    "DeviceId",
    "DeviceName",
    "ActionType",
    "RemoteIP",
    "RemotePort",
    "RemoteUrl",
    "LocalIP",
    "LocalPort",
    "Protocol",
    "LocalIPType",
    "RemoteIPType",
    "InitiatingProcessSHA1",
    "InitiatingProcessSHA256",
    "InitiatingProcessMD5",
    "InitiatingProcessFileName",
    "InitiatingProcessFileSize",
    "InitiatingProcessVersionInfoCompanyName",
    "InitiatingProcessVersionInfoProductName",
    "InitiatingProcessVersionInfoProductVersion",
    "InitiatingProcessVersionInfoInternalFileName",
    "InitiatingProcessVersionInfoOriginalFileName",
    "InitiatingProcessVersionInfoFileDescription",
    "InitiatingProcessId",
    "InitiatingProcessCommandLine",
    "InitiatingProcessCreationTime",
    "InitiatingProcessFolderPath",
    "InitiatingProcessParentId",
    "InitiatingProcessParentFileName",
    "InitiatingProcessParentCreationTime",
    "InitiatingProcessAccountDomain",
    "InitiatingProcessAccountName",
    "InitiatingProcessAccountSid",
    "InitiatingProcessAccountUpn",
    "InitiatingProcessIntegrityLevel",
    "InitiatingProcessTokenElevation",
    "ReportId",
    "AdditionalFields",
];

/// Small deterministic PRNG (xorshift64*), so every run writes the same file.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn hex(rng: &mut Rng, len: usize) -> String {
    let mut s = String::with_capacity(len);
    while s.len() < len {
        s.push_str(&format!("{:016x}", rng.next()));
    }
    s.truncate(len);
    s
}

struct Process {
    name: String,
    folder: String,
    cmdline: String,
    company: &'static str,
    sha1: String,
    sha256: String,
    md5: String,
    size: u64,
}

/// Write a header plus `rows` network events to `out`.
pub fn write_defender_csv(out: &mut impl Write, rows: usize) -> std::io::Result<()> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let devices: Vec<(String, String)> =
        (0..1000).map(|i| (hex(&mut rng, 40), format!("ws-{i:04}.corp.example.com"))).collect();
    let companies =
        ["Microsoft Corporation", "Google LLC", "Mozilla Corporation", "Zoom Video Communications, Inc.", ""];
    let procs: Vec<Process> = (0..300)
        .map(|i| {
            let name = format!("app{i:03}.exe");
            let folder = format!(r"C:\Program Files\Vendor{}\app{i:03}.exe", i % 37);
            let cmdline = if i % 5 == 0 {
                format!(
                    r#""{name}" --type=renderer --field-trial-handle={} --lang=en-US /prefetch:{}"#,
                    rng.below(99999),
                    i % 9
                )
            } else {
                format!("{name} -k netsvcs -p -s Svc{i}")
            };
            Process {
                name,
                folder,
                cmdline,
                company: companies[i % companies.len()],
                sha1: hex(&mut rng, 40),
                sha256: hex(&mut rng, 64),
                md5: hex(&mut rng, 32),
                size: 10_000 + rng.below(5_000_000),
            }
        })
        .collect();
    let actions = [
        "ConnectionSuccess",
        "ConnectionSuccess",
        "ConnectionSuccess",
        "ConnectionFailed",
        "InboundConnectionAccepted",
        "ListeningConnectionCreated",
    ];
    let urls =
        ["", "", "login.microsoftonline.com", "www.google.com", "eu-v20.events.data.microsoft.com", "cdn.example.net"];
    let mut w = csv::WriterBuilder::new().from_writer(out);
    w.write_record(HEADER)?;
    let base: i64 = 1_700_000_000;
    for r in 0..rows {
        let (dev_id, dev_name) = &devices[rng.below(devices.len() as u64) as usize];
        let p = &procs[(rng.below(300) * rng.below(300) / 300) as usize];
        let secs = base + (r as i64) * 3 / 2;
        let frac = rng.below(10_000_000);
        // The engine's own ISO writer: 7 fractional digits and `Z`, as portal exports have.
        let ts = rarity::model::time::format_iso(secs * 1_000_000_000 + frac as i64 * 100);
        let public = rng.below(3) != 0;
        let rip = if public {
            format!("{}.{}.{}.{}", 11 + rng.below(180), rng.below(256), rng.below(256), 1 + rng.below(254))
        } else {
            format!("10.{}.{}.{}", rng.below(8), rng.below(256), 1 + rng.below(254))
        };
        let lip = format!("10.{}.{}.{}", rng.below(8), rng.below(256), 1 + rng.below(254));
        let rport = [443u64, 80, 53, 445, 3389, 8080, 22][rng.below(7) as usize];
        let lport = 49152 + rng.below(16000);
        let pid = rng.below(20000).to_string();
        let rec: [&str; 38] = [
            &ts,
            dev_id,
            dev_name,
            actions[rng.below(actions.len() as u64) as usize],
            &rip,
            &rport.to_string(),
            urls[rng.below(urls.len() as u64) as usize],
            &lip,
            &lport.to_string(),
            "Tcp",
            "Private",
            if public { "Public" } else { "Private" },
            &p.sha1,
            &p.sha256,
            &p.md5,
            &p.name,
            &p.size.to_string(),
            p.company,
            "Product",
            "10.0.19041.1",
            &p.name,
            &p.name,
            "Application",
            &pid,
            &p.cmdline,
            &ts,
            &p.folder,
            "812",
            "services.exe",
            &ts,
            "nt authority",
            "system",
            "S-1-5-18",
            "",
            "System",
            "TokenElevationTypeDefault",
            &rng.below(100_000).to_string(),
            "",
        ];
        w.write_record(rec)?;
    }
    w.flush()
}
