//! Sysmon Event ID 3 to a network event, as `hunts.md` maps it. Shared by the Sentinel
//! `Event` (XML), `WindowsEvent` (JSON), flattened-JSON and EVTX readers.
