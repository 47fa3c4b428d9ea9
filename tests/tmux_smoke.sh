#!/usr/bin/env bash
# Smoke test of the TUI in a real terminal: starts rarity in a detached tmux session with a
# throwaway HOME and config, switches tabs, changes a threshold, exports, quits, and checks the
# screen (tmux capture-pane) at each step. Skips when tmux is not installed.
#
#   bash tests/tmux_smoke.sh            # uses target/debug/rarity and the built-in sample fleet
#   RARITY_BIN=target/release/rarity RARITY_SMOKE_ARGS="data/ --ti feed.txt" bash tests/tmux_smoke.sh
set -euo pipefail

if ! command -v tmux >/dev/null 2>&1; then
    echo "tmux_smoke: skipped (tmux is not installed)"
    exit 0
fi

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${RARITY_BIN:-$root/target/debug/rarity}
case "$bin" in /*) ;; *) bin=$root/$bin ;; esac
if [ ! -x "$bin" ]; then
    echo "tmux_smoke: FAIL: $bin is not built (run cargo build)"
    exit 1
fi

work=$(mktemp -d)
session="rarity-smoke-$$"
cleanup() {
    tmux kill-session -t "$session" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/home"
cfg="$work/config.json"

# A small Defender export (JSON lines) with two rare processes, unless the caller names inputs.
if [ -z "${RARITY_SMOKE_ARGS:-}" ]; then
    cat >"$work/DeviceNetworkEvents.jsonl" <<'JSONL'
{"Timestamp":"2025-11-20T10:00:00Z","DeviceId":"d1","DeviceName":"ws-01","ActionType":"ConnectionSuccess","RemoteIP":"45.33.32.156","RemotePort":4444,"RemoteUrl":"","Protocol":"Tcp","RemoteIPType":"Public","InitiatingProcessFileName":"tool.exe","InitiatingProcessCommandLine":"tool.exe -c","InitiatingProcessMD5":"aa11"}
{"Timestamp":"2025-11-20T10:05:00Z","DeviceId":"d1","DeviceName":"ws-01","ActionType":"ConnectionSuccess","RemoteIP":"45.33.32.157","RemotePort":4444,"RemoteUrl":"","Protocol":"Tcp","RemoteIPType":"Public","InitiatingProcessFileName":"tool.exe","InitiatingProcessCommandLine":"tool.exe -c","InitiatingProcessMD5":"aa11"}
{"Timestamp":"2025-11-20T11:00:00Z","DeviceId":"d2","DeviceName":"ws-02","ActionType":"ConnectionSuccess","RemoteIP":"93.184.216.34","RemotePort":8443,"RemoteUrl":"","Protocol":"Tcp","RemoteIPType":"Public","InitiatingProcessFileName":"beacon.exe","InitiatingProcessCommandLine":"beacon.exe","InitiatingProcessMD5":"bb22"}
{"Timestamp":"2025-11-20T11:30:00Z","DeviceId":"d3","DeviceName":"ws-03","ActionType":"ConnectionSuccess","RemoteIP":"93.184.216.34","RemotePort":8443,"RemoteUrl":"","Protocol":"Tcp","RemoteIPType":"Public","InitiatingProcessFileName":"beacon.exe","InitiatingProcessCommandLine":"beacon.exe","InitiatingProcessMD5":"bb22"}
{"Timestamp":"2025-11-20T11:40:00Z","DeviceId":"d3","DeviceName":"ws-03","ActionType":"ConnectionSuccess","RemoteIP":"142.250.74.46","RemotePort":443,"RemoteUrl":"","Protocol":"Tcp","RemoteIPType":"Public","InitiatingProcessFileName":"chrome.exe","InitiatingProcessCommandLine":"chrome.exe","InitiatingProcessMD5":"cc33"}
JSONL
    RARITY_SMOKE_ARGS="$work/DeviceNetworkEvents.jsonl"
fi

# The pane keeps the exit status visible after the TUI quits; `timeout` ends a session this
# script could not clean up (killed mid-run) on its own.
tmux new-session -d -s "$session" -x 140 -y 40 -c "$work" \
    "env HOME='$work/home' TERM=xterm-256color timeout --foreground 300 '$bin' --config '$cfg' ${RARITY_SMOKE_ARGS:-}; echo EXITED:\$?; sleep 30"

screen() { tmux capture-pane -p -t "$session"; }
send() { tmux send-keys -t "$session" "$@"; }
# A terminal reads Esc quickly followed by a key as Alt+key: pause after it.
esc() {
    send Escape
    sleep 0.3
}

# Poll the screen for a pattern (grep -E), up to ~20 s.
wait_for() {
    local pattern=$1 what=$2
    for _ in $(seq 1 200); do
        if screen | grep -Eq -- "$pattern"; then
            return 0
        fi
        sleep 0.1
    done
    echo "tmux_smoke: FAIL: timed out waiting for $what (/$pattern/); screen:"
    screen
    exit 1
}

wait_for '1 Rare( process \(| )[0-9]+' "the rare-process results"
wait_for 'rare-process: [0-9]+ rows · recomputed' "the first recompute"

send 2
wait_for '╭ vm-new-country' "the vm-new-country tab"
send Tab
wait_for '╭ supply-chain' "Tab to supply-chain"
send 5
wait_for '╭ ti-inbound' "the ti-inbound tab"
send BTab
wait_for '╭ server-anomaly' "Shift-Tab to server-anomaly"
send '?'
wait_for 'Keys \((.*, )?any (other )?key closes\)' "the help overlay"
esc
send 1
wait_for '╭ rare-process' "back on rare-process"

# Threshold: the last parameter of rare-process is max_devices (default 4).
send p
send End
send +
wait_for 'max_devices = 5' "max_devices stepped to 5"
wait_for 'max_devices: 4 → 5 - [-+]?[0-9]+ rows' "the status line reporting the change"
esc

# Export every shown row.
send e
wait_for 'Export CSV' "the export prompt"
send C-u
send -l smoke.csv
send Enter
wait_for 'wrote [0-9]+ shown rows to' "the export confirmation"
if ! head -1 "$work/smoke.csv" | grep -q '^InitiatingProcessFileName,DeviceCount,Hashes'; then
    echo "tmux_smoke: FAIL: unexpected export header: $(head -1 "$work/smoke.csv")"
    exit 1
fi

# Exporting to the same path asks before overwriting; n keeps the file.
send e
wait_for 'Export CSV' "the export prompt again"
send C-u
send -l smoke.csv
send Enter
wait_for 'already exists\. Overwrite it\?' "the overwrite question"
send n
esc

if ! grep -q '"max_devices"' "$cfg"; then
    echo "tmux_smoke: FAIL: tuning not saved to $cfg"
    exit 1
fi

send q
wait_for 'EXITED:0' "a clean exit"
echo "tmux_smoke: ok"
