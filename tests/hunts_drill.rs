//! Drill-down: the event rows behind a result row and their summaries.

mod support;

use rarity::hunt::fixture::DatasetBuilder;
use rarity::hunt::{event_fields, Engine, FacetKind, FacetValue};
use rarity::model::tables::{DevField as DF, NetField as F, TableKind, VmField as VF};
use std::sync::Arc;
use support::*;

fn conn(b: &mut DatasetBuilder, at: i64, dev: &str, proc_: &str, ip: &str, port: &str, extra: &[(F, &str)]) {
    let ts = support::at(at);
    let mut f = vec![
        (F::Timestamp, ts.as_str()),
        (F::DeviceId, ""),
        (F::DeviceName, dev),
        (F::ActionType, "ConnectionSuccess"),
        (F::Protocol, "Tcp"),
        (F::RemoteIP, ip),
        (F::RemotePort, port),
        (F::InitiatingProcessFileName, proc_),
    ];
    // `DatasetBuilder::net` lets a later pair override an earlier one for the same column.
    f.extend_from_slice(extra);
    assert!(b.net(&f));
}

#[test]
fn drill_rare_process_lists_qualifying_events_in_time_order_with_summaries() {
    let mut b = DatasetBuilder::new();
    b.ti("8.8.8.8", Some(7));
    conn(&mut b, -H, "WS1", "PuTTY.exe", "8.8.8.8", "22", &[(F::InitiatingProcessMD5, "m1")]); // row 0
    conn(&mut b, -3 * H, "ws2", "putty.exe", "1.1.1.1", "22", &[(F::InitiatingProcessMD5, "m2")]); // row 1
    conn(&mut b, -2 * H, "ws1", "putty.exe", "8.8.8.8", "2222", &[(F::InitiatingProcessMD5, "m1")]); // row 2
    conn(&mut b, -2 * H, "ws1", "putty.exe", "8.8.8.8", "443", &[]); // row 3: excluded port
    conn(&mut b, -2 * H, "ws1", "other.exe", "8.8.8.8", "22", &[]); // row 4: other process
    let (eng, _p, out) = run(b.build(), rarity::hunt::rare_process::ID, &[]);
    let putty = out.rows.iter().position(|r| r[0] == t("putty.exe")).unwrap();
    let d = eng.drill(&out, putty);
    assert_eq!(d.table, TableKind::DeviceNetworkEvents);
    assert_eq!(d.rows, vec![1, 2, 0]);
    assert_eq!(
        d.facet(FacetKind::Hashes),
        vec![(FacetValue::Text("m1".into()), 2), (FacetValue::Text("m2".into()), 1)]
    );
    assert_eq!(
        d.facet(FacetKind::Devices),
        vec![(FacetValue::Text("ws1".into()), 2), (FacetValue::Text("ws2".into()), 1)]
    );
    assert_eq!(d.facet(FacetKind::Ports), vec![(FacetValue::Port(22), 2), (FacetValue::Port(2222), 1)]);
    assert_eq!(d.facet(FacetKind::Processes), vec![(FacetValue::Text("putty.exe".into()), 3)]);
    assert_eq!(d.remote_ips.len(), 2);
    assert_eq!((d.remote_ips[0].ip.as_str(), d.remote_ips[0].count), ("8.8.8.8", 2));
    assert_eq!(d.remote_ips[0].ti.and_then(|h| h.max_count), Some(7));
    assert_eq!(d.remote_ips[1].ti, None);
    // Out of range rows drill to nothing rather than panic.
    assert!(eng.drill(&out, 99).rows.is_empty());
}

#[test]
fn drill_server_anomaly_lists_recent_events_of_the_ip() {
    let mut b = DatasetBuilder::new();
    let ts = support::at(-D);
    b.dev(&[(DF::Timestamp, &ts), (DF::DeviceName, "srv1"), (DF::OSPlatform, "Linux"), (DF::DeviceType, "Server")]);
    conn(&mut b, -10 * D, "srv1", "a", "8.8.8.8", "53", &[]); // row 0: old
    conn(&mut b, -H, "srv1", "a", "8.8.8.8", "53", &[(F::RemoteUrl, "dns.example")]); // row 1
    conn(&mut b, -2 * H, "SRV1", "b", "8.8.8.8", "853", &[]); // row 2
    conn(&mut b, -2 * H, "ws1", "b", "8.8.8.8", "853", &[]); // row 3: not a server
    let (eng, _p, out) = run(b.build(), rarity::hunt::server_anomaly::ID, &[]);
    let d = eng.drill(&out, 0);
    assert_eq!(d.rows, vec![2, 1]);
    assert_eq!(d.facet(FacetKind::Urls), vec![(FacetValue::Text("dns.example".into()), 1)]);
    assert_eq!(d.facet(FacetKind::Devices), vec![(FacetValue::Text("srv1".into()), 2)]);
}

#[test]
fn drill_supply_chain_lists_the_baseline_events_of_the_tuple() {
    let mut b = DatasetBuilder::new();
    let ts = support::at(-D);
    b.dev(&[(DF::Timestamp, &ts), (DF::DeviceName, "srv1"), (DF::OSPlatform, "Linux"), (DF::DeviceType, "Server")]);
    conn(&mut b, -3 * D, "srv1", "a", "9.9.9.9", "80", &[(F::InitiatingProcessVersionInfoCompanyName, "RareCo")]);
    conn(&mut b, -H, "srv1", "a", "8.8.8.8", "53", &[]); // row 1
    conn(&mut b, -2 * H, "srv1", "a", "8.8.8.8", "53", &[]); // row 2
    conn(&mut b, -2 * H, "srv1", "a", "8.8.8.8", "54", &[]); // row 3: other port
    let (eng, _p, out) = run(b.build(), rarity::hunt::supply_chain::ID, &[]);
    let row = out.rows.iter().position(|r| r[2] == i(53)).unwrap();
    assert_eq!(eng.drill(&out, row).rows, vec![2, 1]);
}

#[test]
fn drill_vm_new_country_lists_rows_of_the_summarized_tuple() {
    let mut b = DatasetBuilder::new();
    for (at, dst) in [(-10 * M, "1.1.1.1"), (-20 * M, "1.1.1.1"), (-5 * M, "2.2.2.2")] {
        let ts = support::at(at);
        b.vm(&[
            (VF::TimeGenerated, &ts),
            (VF::Computer, "vm1"),
            (VF::Direction, "outbound"),
            (VF::DestinationIp, dst),
            (VF::DestinationPort, "443"),
            (VF::RemoteCountry, "Xland"),
        ]);
    }
    let (eng, _p, out) = run(b.build(), rarity::hunt::vm_new_country::ID, &[]);
    let row = out.rows.iter().position(|r| r[4] == t("1.1.1.1")).unwrap();
    let d = eng.drill(&out, row);
    assert_eq!(d.table, TableKind::VMConnection);
    assert_eq!(d.rows, vec![1, 0]);
    assert_eq!(d.remote_ips[0].ip, "1.1.1.1");
    assert_eq!(d.facet(FacetKind::Devices), vec![(FacetValue::Text("vm1".into()), 2)]);
}

#[test]
fn drill_ti_inbound_is_the_single_event_and_fields_are_normalized() {
    let mut b = DatasetBuilder::new();
    b.ti("1.2.3.4", None);
    let ts = support::at(-D);
    b.dev(&[
        (DF::Timestamp, &ts),
        (DF::DeviceId, "dev1"),
        (DF::IsInternetFacing, "true"),
        (DF::AdditionalFields, r#"{"InternetFacingLocalPort":3389}"#),
    ]);
    for at in [-H, -2 * H] {
        conn(
            &mut b,
            at,
            "h",
            "svc",
            "1.2.3.4",
            "5000",
            &[(F::DeviceId, "dev1"), (F::ActionType, "InboundConnectionAccepted"), (F::LocalPort, "3389")],
        );
    }
    let ds = b.build();
    let eng = Engine::new(Arc::new(ds));
    let p = params(rarity::hunt::ti_inbound::ID, &[]);
    let out = eng.run(&p, Some(now())).unwrap();
    assert_eq!(eng.drill(&out, 0).rows, vec![1]);
    assert_eq!(eng.drill(&out, 1).rows, vec![0]);
    let f = event_fields(eng.dataset(), TableKind::DeviceNetworkEvents, 1);
    let get = |k: &str| f.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()).unwrap();
    assert_eq!(get("RemoteIP"), "1.2.3.4");
    assert_eq!(get("LocalPort"), "3389");
    assert_eq!(get("Timestamp"), "2026-11-20T10:00:00.0000000Z");
    assert!(event_fields(eng.dataset(), TableKind::DeviceNetworkEvents, 9).is_empty());
    let f = event_fields(eng.dataset(), TableKind::DeviceInfo, 0);
    assert!(f.contains(&("InternetFacingLocalPort", "3389".to_string())));
}
