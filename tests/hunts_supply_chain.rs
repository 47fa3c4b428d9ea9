//! supply-chain (docs/hunts.md section 3): servers, rare companies, new baseline rows, prevalence.

mod support;

use rarity::hunt::fixture::DatasetBuilder;
use rarity::hunt::{Cell, HuntOutput};
use rarity::model::tables::{DevField as DF, NetField as F};
use support::*;

fn server(b: &mut DatasetBuilder, name: &str, os: &str, ty: &str, at: i64) {
    let ts = support::at(at);
    assert!(b.dev(&[
        (DF::Timestamp, &ts),
        (DF::DeviceId, ""),
        (DF::DeviceName, name),
        (DF::OSPlatform, os),
        (DF::DeviceType, ty)
    ]));
}

fn conn(b: &mut DatasetBuilder, at: i64, dev: &str, company: &str, ip: &str, port: &str, extra: &[(F, &str)]) {
    let ts = support::at(at);
    let id = format!("id-{}", dev.to_lowercase());
    let mut f = vec![
        (F::Timestamp, ts.as_str()),
        (F::DeviceId, id.as_str()),
        (F::DeviceName, dev),
        (F::ActionType, "ConnectionSuccess"),
        (F::RemoteIP, ip),
        (F::RemotePort, port),
        (F::InitiatingProcessVersionInfoCompanyName, company),
    ];
    // `DatasetBuilder::net` lets a later pair override an earlier one for the same column.
    f.extend_from_slice(extra);
    assert!(b.net(&f));
}

/// srv1 runs RareCo (third-party); ws1 is a workstation, mac1 a Mac, noos has no OSPlatform.
fn base() -> DatasetBuilder {
    let mut b = DatasetBuilder::new();
    server(&mut b, "srv1", "Windows", "Server", -D);
    server(&mut b, "srv2", "Windows", "Server", -D);
    server(&mut b, "ws1", "Windows", "Workstation", -D);
    server(&mut b, "mac1", "macOS", "Server", -D);
    server(&mut b, "noos", "", "Server", -D);
    conn(&mut b, -5 * D, "srv1", "RareCo", "9.9.9.9", "80", &[]);
    b
}

fn hunt(b: DatasetBuilder, sets: &[(&str, &str)]) -> HuntOutput {
    run(b.build(), rarity::hunt::supply_chain::ID, sets).2
}

fn ips(out: &HuntOutput) -> Vec<String> {
    out.rows.iter().map(|r| format!("{}>{}:{}", r[0].to_csv(), r[1].to_csv(), r[2].to_csv())).collect()
}

#[test]
fn supply_chain_reports_new_connection_of_third_party_server() {
    let mut b = base();
    conn(&mut b, -2 * H, "SRV1", "Microsoft", "8.8.8.8", "443", &[(F::RemoteUrl, "dns.google")]);
    conn(&mut b, -H, "srv1", "", "8.8.8.8", "443", &[]);
    let out = hunt(b, &[]);
    assert_eq!(
        out.rows,
        vec![vec![t("srv1"), t("8.8.8.8"), i(443), i(2), tm(-2 * H), tm(-H), i(1), set(&["dns.google"])]]
    );
}

#[test]
fn supply_chain_only_servers_by_device_info_rule() {
    let mut b = base();
    for dev in ["ws1", "mac1", "noos", "unknown"] {
        conn(&mut b, -5 * D, dev, "RareCo", "9.9.9.9", "80", &[]);
        conn(&mut b, -H, dev, "RareCo", "8.8.4.4", "53", &[]);
    }
    conn(&mut b, -H, "srv1", "RareCo", "8.8.4.4", "53", &[]);
    assert_eq!(ips(&hunt(b, &[])), ["srv1>8.8.4.4:53"]);
    // A DeviceInfo row outside the lookback does not make a server (Timestamp > now - lookback).
    let mut b = DatasetBuilder::new();
    server(&mut b, "old", "Windows", "Server", -14 * D);
    conn(&mut b, -H, "old", "RareCo", "8.8.4.4", "53", &[]);
    assert!(hunt(b, &[]).rows.is_empty());
    let mut b = DatasetBuilder::new();
    server(&mut b, "old", "Windows", "Server", -14 * D + 1);
    conn(&mut b, -H, "old", "RareCo", "8.8.4.4", "53", &[]);
    assert_eq!(ips(&hunt(b, &[])), ["old>8.8.4.4:53"]);
}

#[test]
fn supply_chain_empty_company_is_never_rare() {
    let mut b = base();
    conn(&mut b, -H, "srv2", "", "8.8.4.4", "53", &[]);
    assert!(hunt(b, &[]).rows.iter().all(|r| r[0] != t("srv2")));
}

#[test]
fn supply_chain_company_rare_below_threshold() {
    let mk = |servers: usize| {
        let mut b = DatasetBuilder::new();
        for k in 0..servers {
            let name = format!("s{k}");
            server(&mut b, &name, "Linux", "Server", -D);
            conn(&mut b, -3 * D, &name, "MidCo", "9.9.9.9", "80", &[]);
        }
        conn(&mut b, -H, "s0", "", "8.8.4.4", "53", &[]);
        b
    };
    assert_eq!(ips(&hunt(mk(2), &[("company_max_servers", "3")])), ["s0>8.8.4.4:53"]);
    assert!(hunt(mk(3), &[("company_max_servers", "3")]).rows.is_empty());
}

#[test]
fn supply_chain_new_within_boundary() {
    let mut b = base();
    conn(&mut b, -D, "srv1", "", "8.8.4.4", "53", &[]);
    conn(&mut b, -D + 1, "srv1", "", "8.8.4.4", "54", &[]);
    conn(&mut b, -3 * D, "srv1", "", "8.8.4.4", "55", &[]);
    conn(&mut b, -H, "srv1", "", "8.8.4.4", "55", &[]);
    assert_eq!(ips(&hunt(b, &[])), ["srv1>8.8.4.4:54"]);
}

#[test]
fn supply_chain_drops_listening_private_loopback_and_mapped() {
    let mut b = base();
    conn(&mut b, -H, "srv1", "", "8.8.4.4", "1", &[(F::ActionType, "listeningconnectioncreated")]);
    conn(&mut b, -H, "srv1", "", "10.1.1.1", "2", &[]);
    conn(&mut b, -H, "srv1", "", "127.0.0.1", "3", &[]);
    conn(&mut b, -H, "srv1", "", "::ffff:8.8.8.8", "4", &[]);
    conn(&mut b, -H, "srv1", "", "2606:4700::1", "5", &[]);
    conn(&mut b, -H, "srv1", "", "8.8.4.4", "6", &[(F::ActionType, "ConnectionFailed")]);
    assert_eq!(ips(&hunt(b, &[])), ["srv1>2606:4700::1:5", "srv1>8.8.4.4:6"]);
}

#[test]
fn supply_chain_prevalence_five_kept_six_dropped_and_none_kept() {
    let mk = |devices: usize| {
        let mut b = base();
        conn(&mut b, -H, "srv1", "", "8.8.4.4", "53", &[]);
        for k in 1..devices {
            conn(
                &mut b,
                -2 * D,
                &format!("ws{k}"),
                "",
                "8.8.4.4",
                "53",
                &[(F::ActionType, "ListeningConnectionCreated")],
            );
        }
        b
    };
    let out = hunt(mk(5), &[]);
    assert_eq!(ips(&out), ["srv1>8.8.4.4:53"]);
    assert_eq!(out.rows[0][6], i(5));
    assert!(hunt(mk(6), &[]).rows.is_empty());
    // Devices outside the prevalence window do not count.
    assert_eq!(ips(&hunt(mk(6), &[("prevalence_window", "1d")])), ["srv1>8.8.4.4:53"]);
    // No event in the prevalence window at all: kept with empty Prevalence and URLs.
    let mut b = base();
    conn(&mut b, -3 * D, "srv1", "", "8.8.4.4", "53", &[]);
    let out = hunt(b, &[("new_within", "10d"), ("prevalence_window", "1d")]);
    let row = out.rows.iter().find(|r| r[1] == t("8.8.4.4")).unwrap();
    assert_eq!((&row[6], &row[7]), (&Cell::Empty, &Cell::Empty));
}

#[test]
fn supply_chain_sorts_by_device_ip_port() {
    let mut b = base();
    server(&mut b, "asrv", "Linux", "Server", -D);
    conn(&mut b, -3 * D, "asrv", "RareCo", "9.9.9.9", "80", &[]);
    conn(&mut b, -H, "srv1", "", "8.8.4.4", "9000", &[]);
    conn(&mut b, -H, "srv1", "", "8.8.4.4", "53", &[]);
    conn(&mut b, -H, "srv1", "", "1.1.1.1", "53", &[]);
    conn(&mut b, -H, "asrv", "", "8.8.4.4", "53", &[]);
    assert_eq!(ips(&hunt(b, &[])), ["asrv>8.8.4.4:53", "srv1>1.1.1.1:53", "srv1>8.8.4.4:53", "srv1>8.8.4.4:9000"]);
}
