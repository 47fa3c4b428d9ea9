//! rare-process (docs/hunts.md section 1): every filter and threshold from both sides.

mod support;

use rarity::hunt::fixture::DatasetBuilder;
use rarity::model::tables::NetField as F;
use support::*;

/// A qualifying connection: public IPv4, Tcp, ConnectionSuccess, no URL, port 8443.
struct Ev<'a> {
    at: i64,
    dev: &'a str,
    proc_: &'a str,
    ip: &'a str,
    port: &'a str,
    extra: Vec<(F, &'a str)>,
}

fn ev<'a>(at: i64, dev: &'a str, proc_: &'a str) -> Ev<'a> {
    Ev { at, dev, proc_, ip: "8.8.8.8", port: "8443", extra: Vec::new() }
}

fn push(b: &mut DatasetBuilder, e: Ev) {
    let ts = support::at(e.at);
    let mut f = vec![
        (F::Timestamp, ts.as_str()),
        (F::DeviceId, e.dev),
        (F::DeviceName, e.dev),
        (F::ActionType, "ConnectionSuccess"),
        (F::Protocol, "Tcp"),
        (F::RemoteIP, e.ip),
        (F::RemotePort, e.port),
        (F::InitiatingProcessFileName, e.proc_),
    ];
    // `DatasetBuilder::net` lets a later pair override an earlier one for the same column.
    f.extend(e.extra);
    assert!(b.net(&f));
}

fn hunt(evs: Vec<Ev>, sets: &[(&str, &str)]) -> rarity::hunt::HuntOutput {
    let mut b = DatasetBuilder::new();
    for e in evs {
        push(&mut b, e);
    }
    run(b.build(), rarity::hunt::rare_process::ID, sets).2
}

#[test]
fn rare_process_keeps_three_devices_and_drops_four() {
    let mut evs = Vec::new();
    for d in ["d1", "d2", "d3"] {
        evs.push(ev(-H, d, "three.exe"));
    }
    for d in ["d1", "d2", "d3", "d4"] {
        evs.push(ev(-H, d, "four.exe"));
    }
    let out = hunt(evs, &[]);
    assert_eq!(keys(&out), ["three.exe"]);
    assert_eq!(out.rows[0][1], i(3));
    assert_eq!(out.rows[0][7], i(3));
    let out =
        hunt(["d1", "d2", "d3", "d4"].into_iter().map(|d| ev(-H, d, "four.exe")).collect(), &[("max_devices", "5")]);
    assert_eq!(keys(&out), ["four.exe"]);
}

#[test]
fn rare_process_merges_name_case_and_reports_lower_case() {
    let mut a = ev(-2 * H, "d1", "PuTTY.exe");
    a.port = "22";
    a.extra = vec![(F::InitiatingProcessMD5, "bbb"), (F::InitiatingProcessCommandLine, "putty -ssh first")];
    let mut b = ev(-H, "d2", "putty.exe");
    b.ip = "1.1.1.1";
    b.extra = vec![(F::InitiatingProcessMD5, "aaa"), (F::InitiatingProcessCommandLine, "putty second")];
    let out = hunt(vec![b, a], &[]);
    assert_eq!(
        out.rows,
        vec![vec![
            t("putty.exe"),
            i(2),
            set(&["aaa", "bbb"]),
            t("putty -ssh first"),
            t("8.8.8.8"),
            iset(&[22, 8443]),
            t(""),
            i(2)
        ]]
    );
}

#[test]
fn rare_process_sample_tie_takes_first_loaded_row() {
    let mut a = ev(-H, "d1", "x.exe");
    a.extra = vec![(F::InitiatingProcessCommandLine, "first")];
    a.ip = "9.9.9.9";
    let mut b = ev(-H, "d1", "x.exe");
    b.extra = vec![(F::InitiatingProcessCommandLine, "second")];
    let out = hunt(vec![a, b], &[]);
    assert_eq!(out.rows[0][3], t("first"));
    assert_eq!(out.rows[0][4], t("9.9.9.9"));
}

#[test]
fn rare_process_ignores_browsers_case_insensitively() {
    let out = hunt(vec![ev(-H, "d1", "ChRoMe.EXE"), ev(-H, "d1", "MSEDGE.exe"), ev(-H, "d1", "chrome2.exe")], &[]);
    assert_eq!(keys(&out), ["chrome2.exe"]);
    let out = hunt(vec![ev(-H, "d1", "ChRoMe.EXE")], &[("browsers", "firefox.exe")]);
    assert_eq!(keys(&out), ["chrome.exe"]);
}

#[test]
fn rare_process_excluded_cidr_boundary() {
    let mut inside = ev(-H, "d1", "inside.exe");
    inside.ip = "100.0.255.255";
    let mut outside = ev(-H, "d1", "outside.exe");
    outside.ip = "100.1.0.0";
    let mut other = ev(-H, "d1", "other.exe");
    other.ip = "200.200.200.7";
    let out = hunt(vec![inside, outside, other], &[]);
    assert_eq!(keys(&out), ["outside.exe"]);
}

#[test]
fn rare_process_excluded_ports_443_vs_8443() {
    let mut a = ev(-H, "d1", "a.exe");
    a.port = "443";
    let mut b = ev(-H, "d1", "b.exe");
    b.port = "8443";
    let mut c = ev(-H, "d1", "c.exe");
    c.port = "80";
    let out = hunt(vec![a, b, c], &[]);
    assert_eq!(keys(&out), ["b.exe"]);
}

#[test]
fn rare_process_ipv6_dropped_with_ipv4_only_and_kept_without() {
    let mk = || {
        let mut a = ev(-H, "d1", "six.exe");
        a.ip = "2606:4700::1111";
        vec![a]
    };
    assert!(hunt(mk(), &[]).rows.is_empty());
    let out = hunt(mk(), &[("ipv4_only", "false")]);
    assert_eq!(keys(&out), ["six.exe"]);
    assert_eq!(out.rows[0][4], t("2606:4700::1111"));
}

#[test]
fn rare_process_lookback_boundary_is_exclusive() {
    let out = hunt(vec![ev(-30 * D, "d1", "edge.exe"), ev(-30 * D + 1, "d1", "inside.exe")], &[]);
    assert_eq!(keys(&out), ["inside.exe"]);
}

#[test]
fn rare_process_applies_url_protocol_action_type_and_exe_filters() {
    let with = |name: &'static str, extra: Vec<(F, &'static str)>| {
        let mut e = ev(-H, "d1", name);
        e.extra = extra;
        e
    };
    let evs = vec![
        with("url.exe", vec![(F::RemoteUrl, "example.com")]),
        with("udp.exe", vec![(F::Protocol, "Udp")]),
        with("sysmontcp.exe", vec![(F::Protocol, "tcp")]),
        with("failed.exe", vec![(F::ActionType, "ConnectionFailed")]),
        with("lowaction.exe", vec![(F::ActionType, "connectionsuccess")]),
        with("private.exe", vec![(F::RemoteIPType, "Private")]),
        with("publiccol.exe", vec![(F::RemoteIPType, "public")]),
        with("python", vec![]),
        with("TOOL.EXE", vec![]),
    ];
    let out = hunt(evs, &[]);
    assert_eq!(keys(&out), ["lowaction.exe", "publiccol.exe", "sysmontcp.exe", "tool.exe"]);
    let mut e = ev(-H, "d1", "python");
    e.ip = "10.0.0.5";
    let out = hunt(vec![ev(-H, "d1", "python"), e], &[("require_exe", "false")]);
    assert_eq!(keys(&out), ["python"]);
    assert_eq!(out.rows[0][7], i(1));
}

#[test]
fn rare_process_counts_sysmon_devices_by_lower_cased_name() {
    let mut a = ev(-H, "", "sysmon.exe");
    a.extra = vec![(F::DeviceName, "WS-1")];
    let mut b = ev(-H, "", "sysmon.exe");
    b.extra = vec![(F::DeviceName, "ws-1")];
    let mut c = ev(-H, "", "sysmon.exe");
    c.extra = vec![(F::DeviceName, "ws-2")];
    let out = hunt(vec![a, b, c], &[("max_devices", "3")]);
    assert_eq!(keys(&out), ["sysmon.exe"]);
    assert_eq!(out.rows[0][1], i(2));
}

#[test]
fn rare_process_sorts_by_device_count_then_name() {
    let out =
        hunt(vec![ev(-H, "d1", "b.exe"), ev(-H, "d2", "b.exe"), ev(-H, "d1", "z.exe"), ev(-H, "d1", "a.exe")], &[]);
    assert_eq!(keys(&out), ["a.exe", "z.exe", "b.exe"]);
}

#[test]
fn rare_process_max_devices_zero_keeps_nothing() {
    assert!(hunt(vec![ev(-H, "d1", "a.exe")], &[("max_devices", "0")]).rows.is_empty());
}

#[test]
fn rare_process_now_defaults_to_latest_event() {
    let mut b = DatasetBuilder::new();
    push(&mut b, ev(-30 * D - H + 1, "d1", "old.exe"));
    push(&mut b, ev(-30 * D - H + 2, "d1", "inside.exe"));
    push(&mut b, ev(-H + 1, "d1", "latest.exe"));
    let eng = rarity::hunt::Engine::new(std::sync::Arc::new(b.build()));
    let out = eng.run(&params(rarity::hunt::rare_process::ID, &[]), None).unwrap();
    assert_eq!(out.now, now() - H + 1);
    assert_eq!(keys(&out), ["inside.exe", "latest.exe"]);
}
