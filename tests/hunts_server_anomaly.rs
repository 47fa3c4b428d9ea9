//! server-anomaly (docs/hunts.md section 4): rarity threshold, known-good domains, recent window.

mod support;

use rarity::hunt::fixture::DatasetBuilder;
use rarity::hunt::pivot::url_in_domain;
use rarity::hunt::{HuntError, HuntOutput, HuntParams};
use rarity::model::tables::{DevField as DF, NetField as F};
use support::*;

fn server(b: &mut DatasetBuilder, name: &str) {
    let ts = support::at(-D);
    assert!(b.dev(&[
        (DF::Timestamp, &ts),
        (DF::DeviceName, name),
        (DF::OSPlatform, "Windows"),
        (DF::DeviceType, "Server")
    ]));
}

fn conn(b: &mut DatasetBuilder, at: i64, dev: &str, ip: &str, extra: &[(F, &str)]) {
    let ts = support::at(at);
    let mut f = vec![
        (F::Timestamp, ts.as_str()),
        (F::DeviceId, "id1"),
        (F::DeviceName, dev),
        (F::ActionType, "ConnectionSuccess"),
        (F::RemoteIP, ip),
        (F::RemotePort, "443"),
        (F::InitiatingProcessFileName, "Svc.exe"),
    ];
    // `DatasetBuilder::net` lets a later pair override an earlier one for the same column.
    f.extend_from_slice(extra);
    assert!(b.net(&f));
}

fn base() -> DatasetBuilder {
    let mut b = DatasetBuilder::new();
    server(&mut b, "srv1");
    b
}

fn hunt(b: DatasetBuilder, sets: &[(&str, &str)]) -> HuntOutput {
    run(b.build(), rarity::hunt::server_anomaly::ID, sets).2
}

#[test]
fn server_anomaly_49_connections_rare_50_not() {
    let mut b = base();
    for k in 0..48 {
        conn(&mut b, -10 * D - k, "srv1", "8.8.8.8", &[]);
    }
    conn(&mut b, -H, "srv1", "8.8.8.8", &[]);
    for k in 0..49 {
        conn(&mut b, -10 * D - k, "srv1", "1.1.1.1", &[]);
    }
    conn(&mut b, -H, "srv1", "1.1.1.1", &[]);
    // Events on other devices do not count.
    conn(&mut b, -H, "ws1", "8.8.8.8", &[]);
    let out = hunt(b, &[]);
    assert_eq!(keys(&out), ["8.8.8.8"]);
    assert_eq!(out.rows[0][1], i(49));
    assert_eq!(out.rows[0][3], i(1));
}

#[test]
fn server_anomaly_row_columns() {
    let mut b = base();
    conn(&mut b, -10 * D, "srv1", "8.8.8.8", &[(F::RemoteUrl, "b.example")]);
    conn(&mut b, -2 * H, "SRV1", "8.8.8.8", &[(F::RemotePort, "8443"), (F::RemoteUrl, "a.example")]);
    conn(&mut b, -H, "srv1", "8.8.8.8", &[(F::InitiatingProcessFileName, "other.exe")]);
    let out = hunt(b, &[]);
    assert_eq!(
        out.rows,
        vec![vec![
            t("8.8.8.8"),
            i(3),
            set(&["a.example", "b.example"]),
            i(2),
            set(&["srv1"]),
            iset(&[443, 8443]),
            set(&["other.exe", "svc.exe"]),
            tm(-2 * H),
            tm(-H)
        ]]
    );
}

#[test]
fn server_anomaly_recent_and_lookback_boundaries() {
    let mut b = base();
    conn(&mut b, -5 * D, "srv1", "8.8.8.8", &[]);
    conn(&mut b, -5 * D + 1, "srv1", "1.1.1.1", &[]);
    conn(&mut b, -H, "srv1", "2.2.2.2", &[]);
    conn(&mut b, -30 * D, "srv1", "2.2.2.2", &[]);
    conn(&mut b, -30 * D + 1, "srv1", "2.2.2.2", &[]);
    let out = hunt(b, &[]);
    assert_eq!(keys(&out), ["1.1.1.1", "2.2.2.2"]);
    assert_eq!(out.rows[1][1], i(2));
}

#[test]
fn server_anomaly_known_domains_match_hosts_not_terms() {
    let mut b = base();
    conn(&mut b, -H, "srv1", "1.1.1.1", &[(F::RemoteUrl, "login.live.com.evil.example")]);
    conn(&mut b, -H, "srv1", "2.2.2.2", &[(F::RemoteUrl, "login.live.com")]);
    conn(&mut b, -H, "srv1", "3.3.3.3", &[(F::RemoteUrl, "https://x.microsoft.com:443/path")]);
    conn(&mut b, -10 * D, "srv1", "4.4.4.4", &[(F::RemoteUrl, "LOGIN.LIVE.COM")]);
    conn(&mut b, -H, "srv1", "4.4.4.4", &[]);
    conn(&mut b, -H, "srv1", "5.5.5.5", &[(F::RemoteUrl, "notmicrosoft.com")]);
    let out = hunt(b, &[]);
    assert_eq!(keys(&out), ["1.1.1.1", "5.5.5.5"]);
    assert!(url_in_domain("microsoft.com", ".microsoft.com"));
    assert!(!url_in_domain("login.live.com.evil.example", "login.live.com"));
    assert!(url_in_domain("http://user@Login.Live.Com./x?y", "login.live.com"));
}

#[test]
fn server_anomaly_disabled_domain_item_is_not_applied() {
    let mut b = base();
    conn(&mut b, -H, "srv1", "2.2.2.2", &[(F::RemoteUrl, "login.live.com")]);
    let ds = b.build();
    let eng = rarity::hunt::Engine::new(std::sync::Arc::new(ds));
    let mut p = HuntParams::defaults(rarity::hunt::server_anomaly::ID);
    for item in p.items_mut("known_domains").unwrap() {
        if item.text == "login.live.com" {
            item.enabled = false;
        }
    }
    assert_eq!(keys(&eng.run(&p, Some(now())).unwrap()), ["2.2.2.2"]);
}

#[test]
fn server_anomaly_drops_link_local_private_loopback_and_other_actions() {
    let mut b = base();
    conn(&mut b, -H, "srv1", "169.254.10.1", &[(F::RemoteIPType, "Public")]);
    conn(&mut b, -H, "srv1", "10.0.0.1", &[]);
    conn(&mut b, -H, "srv1", "8.8.8.8", &[(F::RemoteIPType, "loopback")]);
    conn(&mut b, -H, "srv1", "9.9.9.9", &[(F::ActionType, "ConnectionFailed")]);
    conn(&mut b, -H, "srv1", "7.7.7.7", &[(F::ActionType, "connectionsuccess")]);
    conn(&mut b, -H, "ws1", "6.6.6.6", &[]);
    assert_eq!(keys(&hunt(b, &[])), ["7.7.7.7"]);
}

#[test]
fn server_anomaly_sysmon_events_take_part() {
    let mut b = base();
    conn(&mut b, -H, "SRV1", "8.8.8.8", &[(F::DeviceId, ""), (F::Protocol, "tcp")]);
    let out = hunt(b, &[]);
    assert_eq!(keys(&out), ["8.8.8.8"]);
    assert_eq!(out.rows[0][4], set(&["srv1"]));
}

#[test]
fn server_anomaly_servers_parameter_replaces_device_info() {
    let mut b = DatasetBuilder::new();
    conn(&mut b, -H, "WS9", "8.8.8.8", &[]);
    conn(&mut b, -H, "ws8", "1.1.1.1", &[]);
    let ds = b.build();
    let eng = rarity::hunt::Engine::new(std::sync::Arc::new(ds));
    let err = eng.run(&params(rarity::hunt::server_anomaly::ID, &[]), Some(now())).unwrap_err();
    assert!(matches!(err, HuntError::MissingTable { table: "DeviceInfo", .. }), "{err}");
    assert!(err.to_string().contains("servers="), "{err}");
    let out = eng.run(&params(rarity::hunt::server_anomaly::ID, &[("servers", "ws9")]), Some(now())).unwrap();
    assert_eq!(keys(&out), ["8.8.8.8"]);
}

#[test]
fn server_anomaly_sorts_by_count_then_ip() {
    let mut b = base();
    conn(&mut b, -H, "srv1", "9.9.9.9", &[]);
    conn(&mut b, -H, "srv1", "1.1.1.1", &[]);
    conn(&mut b, -2 * H, "srv1", "1.1.1.1", &[]);
    conn(&mut b, -H, "srv1", "10.0.0.1", &[(F::RemoteIPType, "Public")]);
    assert_eq!(keys(&hunt(b, &[])), ["10.0.0.1", "9.9.9.9", "1.1.1.1"]);
}
