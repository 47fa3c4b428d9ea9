//! ti-inbound (docs/hunts.md section 5): internet-facing join, feed levels, excluded ports.

mod support;

use rarity::hunt::fixture::DatasetBuilder;
use rarity::hunt::{Cell, Engine, HuntError, HuntOutput};
use rarity::model::tables::{DevField as DF, NetField as F};
use std::sync::Arc;
use support::*;

fn facing(b: &mut DatasetBuilder, at: i64, id: &str, port: u32, on: &str, reason: &str) {
    let ts = support::at(at);
    let af = format!(r#"{{"InternetFacingLocalPort":{port},"InternetFacingReason":"{reason}"}}"#);
    assert!(b.dev(&[
        (DF::Timestamp, &ts),
        (DF::DeviceId, id),
        (DF::DeviceName, "host"),
        (DF::IsInternetFacing, on),
        (DF::AdditionalFields, &af),
    ]));
}

fn inbound(b: &mut DatasetBuilder, at: i64, id: &str, lport: &str, ip: &str, extra: &[(F, &str)]) {
    let ts = support::at(at);
    let mut f = vec![
        (F::Timestamp, ts.as_str()),
        (F::DeviceId, id),
        (F::DeviceName, "Host-A"),
        (F::ActionType, "InboundConnectionAccepted"),
        (F::RemoteIP, ip),
        (F::LocalPort, lport),
        (F::InitiatingProcessFileName, "svchost.exe"),
    ];
    // `DatasetBuilder::net` lets a later pair override an earlier one for the same column.
    f.extend_from_slice(extra);
    assert!(b.net(&f));
}

fn base() -> DatasetBuilder {
    let mut b = DatasetBuilder::new();
    facing(&mut b, -2 * D, "dev1", 3389, "true", "ExternalNetworkConnection");
    facing(&mut b, -3 * D, "dev1", 22, "true", "PublicScan");
    facing(&mut b, -D, "dev1", 22, "false", "PublicScan");
    b.ti("1.2.3.4", Some(5));
    b.ti("5.6.7.8", Some(3));
    b.ti("9.9.9.0/24", None);
    b
}

fn hunt(b: DatasetBuilder, sets: &[(&str, &str)]) -> HuntOutput {
    run(b.build(), rarity::hunt::ti_inbound::ID, sets).2
}

fn ips(out: &HuntOutput) -> Vec<String> {
    out.rows.iter().map(|r| format!("{}:{}", r[2].to_csv(), r[3].to_csv())).collect()
}

#[test]
fn ti_inbound_reports_listed_ips_on_internet_facing_ports() {
    let mut b = base();
    inbound(&mut b, -2 * H, "dev1", "3389", "1.2.3.4", &[]);
    inbound(&mut b, -H, "dev1", "3389", "9.9.9.9", &[]);
    let out = hunt(b, &[]);
    assert_eq!(
        out.rows,
        vec![
            vec![
                tm(-2 * H),
                t("Host-A"),
                t("1.2.3.4"),
                i(3389),
                t("svchost.exe"),
                t("dev1"),
                t("ExternalNetworkConnection"),
                i(5)
            ],
            vec![
                tm(-H),
                t("Host-A"),
                t("9.9.9.9"),
                i(3389),
                t("svchost.exe"),
                t("dev1"),
                t("ExternalNetworkConnection"),
                Cell::Empty
            ],
        ]
    );
}

#[test]
fn ti_inbound_feed_entry_below_min_level_is_not_listed() {
    let mut b = base();
    inbound(&mut b, -H, "dev1", "3389", "5.6.7.8", &[]);
    inbound(&mut b, -H, "dev1", "3389", "7.7.7.7", &[]);
    assert!(hunt(b, &[]).rows.is_empty());
    let mut b = base();
    inbound(&mut b, -H, "dev1", "3389", "5.6.7.8", &[]);
    assert_eq!(ips(&hunt(b, &[("min_level", "3")])), ["5.6.7.8:3389"]);
}

#[test]
fn ti_inbound_latest_device_info_row_turning_facing_off_wins() {
    let mut b = base();
    inbound(&mut b, -H, "dev1", "22", "1.2.3.4", &[]);
    assert!(hunt(b, &[]).rows.is_empty());
    // Turned back on later: listed again.
    let mut b = base();
    facing(&mut b, -H, "dev1", 22, "true", "PublicScan");
    inbound(&mut b, -H, "dev1", "22", "1.2.3.4", &[]);
    assert_eq!(ips(&hunt(b, &[])), ["1.2.3.4:22"]);
}

#[test]
fn ti_inbound_join_needs_device_id_port_and_inbound_action() {
    let mut b = base();
    inbound(&mut b, -H, "dev1", "3390", "1.2.3.4", &[]);
    inbound(&mut b, -H, "dev2", "3389", "1.2.3.4", &[]);
    inbound(&mut b, -H, "", "3389", "1.2.3.4", &[]);
    inbound(&mut b, -H, "dev1", "3389", "1.2.3.4", &[(F::ActionType, "ConnectionSuccess")]);
    inbound(&mut b, -30 * M, "dev1", "3389", "1.2.3.4", &[(F::ActionType, "inboundconnectionaccepted")]);
    let out = hunt(b, &[]);
    assert_eq!(out.rows.len(), 1);
    assert_eq!(out.rows[0][0], tm(-30 * M));
}

#[test]
fn ti_inbound_excluded_local_ports() {
    let mut b = base();
    inbound(&mut b, -H, "dev1", "3389", "1.2.3.4", &[]);
    assert!(hunt(b, &[("excluded_local_ports", "25,3389")]).rows.is_empty());
}

#[test]
fn ti_inbound_needs_a_feed_and_device_info() {
    let mut b = DatasetBuilder::new();
    facing(&mut b, -D, "dev1", 3389, "true", "x");
    inbound(&mut b, -H, "dev1", "3389", "1.2.3.4", &[]);
    let eng = Engine::new(Arc::new(b.build()));
    let err = eng.run(&params(rarity::hunt::ti_inbound::ID, &[]), None).unwrap_err();
    assert!(matches!(err, HuntError::MissingTable { .. }));
    assert!(err.to_string().contains("--ti"), "{err}");
    let mut b = DatasetBuilder::new();
    b.ti("1.2.3.4", None);
    inbound(&mut b, -H, "dev1", "3389", "1.2.3.4", &[]);
    let eng = Engine::new(Arc::new(b.build()));
    let err = eng.run(&params(rarity::hunt::ti_inbound::ID, &[]), None).unwrap_err();
    assert!(matches!(err, HuntError::MissingTable { table: "DeviceInfo", .. }), "{err}");
}

#[test]
fn every_hunt_names_its_missing_table() {
    let eng = Engine::new(Arc::new(DatasetBuilder::new().build()));
    for (h, table) in [
        (rarity::hunt::rare_process::ID, "DeviceNetworkEvents"),
        (rarity::hunt::vm_new_country::ID, "VMConnection"),
        (rarity::hunt::supply_chain::ID, "DeviceNetworkEvents"),
        (rarity::hunt::server_anomaly::ID, "DeviceNetworkEvents"),
        (rarity::hunt::ti_inbound::ID, "DeviceNetworkEvents"),
    ] {
        match eng.run(&params(h, &[]), None) {
            Err(HuntError::MissingTable { table: t, .. }) => assert_eq!(t, table, "{h:?}"),
            other => panic!("{h:?}: {other:?}"),
        }
    }
    let mut b = DatasetBuilder::new();
    inbound(&mut b, -H, "dev1", "3389", "1.2.3.4", &[]);
    let eng = Engine::new(Arc::new(b.build()));
    let err = eng.run(&params(rarity::hunt::supply_chain::ID, &[]), None).unwrap_err();
    assert!(matches!(err, HuntError::MissingTable { table: "DeviceInfo", .. }));
}
