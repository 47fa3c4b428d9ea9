#!/usr/bin/env bash
# Capture the TUI screens shown in screenshots/: one per hunt tab, a drill-down, an event's
# full record (the drill-down shows the finding's timeline), the parameter panel, the filter, the
# help overlay and the sensitivity chart of max_devices. (00-loading was taken by
# hand while loading `rarity gen --events 1000000 --devices 2000 /tmp/fleet`.) Each screen is saved plain
# (NAME.txt) and with colours (NAME.ansi.txt, from `tmux capture-pane -e`); then every
# NAME.ansi.txt is rendered to NAME.png by render_png.py when python3 has Pillow.
#
#   bash screenshots/capture.sh [rarity arguments...]     # default: the built-in sample fleet
#   RARITY_BIN=target/release/rarity bash screenshots/capture.sh data/ --ti ipsum.txt
set -euo pipefail
command -v tmux >/dev/null 2>&1 || { echo "capture: tmux is not installed"; exit 1; }

root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/screenshots
bin=${RARITY_BIN:-$root/target/debug/rarity}
case "$bin" in /*) ;; *) bin=$root/$bin ;; esac
session="rarity-shots-$$"
work=$(mktemp -d)
cleanup() {
    tmux kill-session -t "$session" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

args=""
for a in "$@"; do args="$args '$a'"; done
tmux new-session -d -s "$session" -x 150 -y 42 -c "$root" \
    "env HOME='$work' TERM=xterm-256color timeout --foreground 300 '$bin' --no-config $args; sleep 30"

screen() { tmux capture-pane -p -t "$session"; }
wait_for() {
    for _ in $(seq 1 300); do
        if screen | grep -Eq -- "$1"; then return 0; fi
        sleep 0.1
    done
    echo "capture: timed out waiting for /$1/"
    screen
    exit 1
}
# Keys one at a time: a terminal reads a quick `Esc x` as Alt-x.
keys() {
    for k in "$@"; do
        tmux send-keys -t "$session" "$k"
        sleep 0.25
    done
}
shot() {
    sleep 0.4
    tmux capture-pane -p -t "$session" >"$out/$1.txt"
    tmux capture-pane -p -e -t "$session" >"$out/$1.ansi.txt"
    echo "capture: $1"
}

wait_for 'rare-process: [0-9]+ rows · recomputed'
wait_for '5 TI inbound \([0-9!/?]+\)'
shot 01-rare-process
keys 2; shot 02-vm-new-country
keys 3; shot 03-supply-chain
keys 4; shot 04-server-anomaly
keys 5; shot 05-ti-inbound
keys 1 Enter
wait_for 'rare-process › '
shot 06-drill-down
keys '['
shot 07-drill-events
keys Enter
wait_for '› event '
shot 08-event-record
keys Escape Escape p Down Down
shot 09-parameters
keys Escape / e x e
shot 10-filter
keys Escape '?'
shot 11-help
# The sensitivity chart: the panel cursor on max_devices (16 lines down from lookback).
keys Escape p Home
for _ in $(seq 1 16); do keys Down; done
wait_for 'rows by max_devices'
shot 12-sensitivity
keys Escape q

# PNGs for the README (screenshots/render_png.py; a doc tool, needs Python 3 with Pillow).
if command -v python3 >/dev/null 2>&1 && python3 -c 'import PIL' 2>/dev/null; then
    python3 "$out/render_png.py" --all "$out"
else
    echo "capture: python3 with Pillow (pip install pillow) not found; PNGs not rendered"
fi
