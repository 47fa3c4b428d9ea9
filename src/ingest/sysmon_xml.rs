//! Sysmon XML: Sentinel `EventData` (`<DataItem>…<EventData><Data Name=…>`) and full `<Event>` documents into a `SysmonEvent`.
