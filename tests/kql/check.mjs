// Parses and semantically analyzes KQL files with the official Kusto language service
// (@kusto/language-service-next: Kusto.Language compiled to JavaScript) against the table
// schemas below, as Microsoft documents them. Usage:
//   node check.mjs PACKAGE_DIR DIALECT FILE...   (DIALECT: defender | sentinel)
// Prints every diagnostic; exits 1 when any has severity Error, 2 on a usage problem.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import path from "node:path";

const [pkg, dialect, ...files] = process.argv.slice(2);
if (!pkg || !["defender", "sentinel"].includes(dialect) || files.length === 0) {
  console.error("usage: node check.mjs PACKAGE_DIR defender|sentinel FILE...");
  process.exit(2);
}
const require = createRequire(import.meta.url);
require(path.resolve(pkg, "bridge.js"));
require(path.resolve(pkg, "Kusto.Language.Bridge.js"));
const K = globalThis.Kusto.Language;
const S = K.Symbols;

// Columns as Microsoft documents them (Defender XDR advanced hunting schema reference and the
// Azure Monitor Logs table reference). Sentinel copies of the Defender tables add TimeGenerated,
// TenantId, SourceSystem and Type.
const DeviceNetworkEvents =
  "Timestamp:datetime, DeviceId:string, DeviceName:string, ActionType:string, RemoteIP:string, RemotePort:int, " +
  "RemoteUrl:string, LocalIP:string, LocalPort:int, Protocol:string, LocalIPType:string, RemoteIPType:string, " +
  "InitiatingProcessSHA1:string, InitiatingProcessSHA256:string, InitiatingProcessMD5:string, " +
  "InitiatingProcessFileName:string, InitiatingProcessFileSize:long, InitiatingProcessVersionInfoCompanyName:string, " +
  "InitiatingProcessVersionInfoProductName:string, InitiatingProcessVersionInfoProductVersion:string, " +
  "InitiatingProcessVersionInfoInternalFileName:string, InitiatingProcessVersionInfoOriginalFileName:string, " +
  "InitiatingProcessVersionInfoFileDescription:string, InitiatingProcessId:long, InitiatingProcessCommandLine:string, " +
  "InitiatingProcessCreationTime:datetime, InitiatingProcessFolderPath:string, InitiatingProcessParentFileName:string, " +
  "InitiatingProcessParentId:long, InitiatingProcessParentCreationTime:datetime, InitiatingProcessAccountDomain:string, " +
  "InitiatingProcessAccountName:string, InitiatingProcessAccountSid:string, InitiatingProcessAccountUpn:string, " +
  "InitiatingProcessAccountObjectId:string, InitiatingProcessIntegrityLevel:string, InitiatingProcessTokenElevation:string, " +
  "ReportId:long, AppGuardContainerId:string, AdditionalFields:dynamic, InitiatingProcessSessionId:long, " +
  "IsInitiatingProcessRemoteSession:bool, InitiatingProcessRemoteSessionDeviceName:string, InitiatingProcessRemoteSessionIP:string";
const DeviceInfo =
  "Timestamp:datetime, DeviceId:string, DeviceName:string, ClientVersion:string, PublicIP:string, OSArchitecture:string, " +
  "OSPlatform:string, OSBuild:long, IsAzureADJoined:bool, JoinType:string, AadDeviceId:string, LoggedOnUsers:dynamic, " +
  "RegistryDeviceTag:string, OSVersion:string, MachineGroup:string, ReportId:long, OnboardingStatus:string, " +
  "AdditionalFields:dynamic, DeviceCategory:string, DeviceType:string, DeviceSubtype:string, Model:string, Vendor:string, " +
  "OSDistribution:string, OSVersionInfo:string, MergedDeviceIds:string, MergedToDeviceId:string, IsInternetFacing:bool, " +
  "SensorHealthState:string, IsExcluded:bool, ExclusionReason:string, ExposureLevel:string, AssetValue:string, " +
  "DeviceManualTags:dynamic, DeviceDynamicTags:dynamic, ConnectivityType:string, HostDeviceId:string, " +
  "CloudPlatforms:dynamic, AzureVmId:string, AzureResourceId:string, AzureVmSubscriptionId:string, " +
  "GcpFullResourceName:string, AwsResourceName:dynamic";
const LogAnalytics = "TenantId:string, SourceSystem:string, Type:string";
const VMConnection =
  "TenantId:string, Computer:string, ProcessName:string, SourceIp:string, DestinationIp:string, DestinationPort:int, " +
  "Protocol:string, Direction:string, Machine:string, Process:string, Connection:string, BytesSent:long, " +
  "BytesReceived:long, LinksEstablished:long, LinksTerminated:long, LinksFailed:long, LinksLive:long, Responses:long, " +
  "ResponseTimeSum:long, ResponseTimeMax:long, ResponseTimeMin:long, RemoteIp:string, RemoteLongitude:real, " +
  "RemoteLatitude:real, RemoteCountry:string, RemoteClassification:string, IsActive:bool, MaliciousIp:string, " +
  "IndicatorThreatType:string, Description:string, TLPLevel:string, Confidence:string, Severity:string, " +
  "FirstReportedDateTime:string, LastReportedDateTime:string, ReportReferenceLink:string, AdditionalInformation:string, " +
  "AgentId:string, TimeGenerated:datetime, SourceSystem:string, Type:string, _ResourceId:string";
const Event =
  "TenantId:string, SourceSystem:string, TimeGenerated:datetime, Source:string, EventLog:string, Computer:string, " +
  "EventLevel:int, EventLevelName:string, ParameterXml:string, EventData:string, EventID:int, " +
  "RenderedDescription:string, AzureDeploymentID:string, Role:string, EventCategory:int, UserName:string, " +
  "Message:string, MG:string, ManagementGroupName:string, Type:string, _ResourceId:string";
const ThreatIntelligenceIndicator =
  "TenantId:string, TimeGenerated:datetime, SourceSystem:string, Action:string, ActivityGroupNames:string, " +
  "AdditionalInformation:string, AzureTenantId:string, ConfidenceScore:real, Description:string, DomainName:string, " +
  "EmailEncoding:string, EmailLanguage:string, EmailRecipient:string, EmailSenderAddress:string, EmailSenderName:string, " +
  "EmailSourceDomain:string, EmailSourceIpAddress:string, EmailSubject:string, EmailXMailer:string, " +
  "ExpirationDateTime:datetime, ExternalIndicatorId:string, FileCompileDateTime:datetime, FileCreatedDateTime:datetime, " +
  "FileHashType:string, FileHashValue:string, FileMutexName:string, FileName:string, FilePacker:string, FilePath:string, " +
  "FileSize:int, FileType:string, IndicatorId:string, KillChainActions:bool, KillChainC2:bool, KillChainDelivery:bool, " +
  "KillChainExploitation:bool, KillChainReconnaissance:bool, KillChainWeaponization:bool, KnownFalsePositives:string, " +
  "MalwareNames:string, NetworkCidrBlock:string, NetworkDestinationAsn:int, NetworkDestinationCidrBlock:string, " +
  "NetworkDestinationIP:string, NetworkDestinationPort:int, NetworkIP:string, NetworkPort:int, NetworkProtocol:int, " +
  "NetworkSourceAsn:int, NetworkSourceCidrBlock:string, NetworkSourceIP:string, NetworkSourcePort:int, " +
  "PassiveOnly:bool, ThreatSeverity:int, ThreatType:string, TrafficLightProtocolLevel:string, Url:string, " +
  "UserAgent:string, Active:bool, IndicatorProvider:string, Tags:string, Type:string";

const table = (name, cols) => new S.TableSymbol.$ctor7(name, `(${cols})`, "");
const tables =
  dialect === "defender"
    ? [table("DeviceNetworkEvents", DeviceNetworkEvents), table("DeviceInfo", DeviceInfo),
       table("ThreatIntelligenceIndicator", ThreatIntelligenceIndicator)]
    : [table("DeviceNetworkEvents", `${DeviceNetworkEvents}, TimeGenerated:datetime, ${LogAnalytics}`),
       table("DeviceInfo", `${DeviceInfo}, TimeGenerated:datetime, ${LogAnalytics}`),
       table("VMConnection", VMConnection), table("Event", Event),
       table("ThreatIntelligenceIndicator", ThreatIntelligenceIndicator)];
const globals = K.GlobalState.Default.WithDatabase(new S.DatabaseSymbol.ctor("db", tables));

let errors = 0;
for (const file of files) {
  const text = readFileSync(file, "utf8");
  const code = K.KustoCode.ParseAndAnalyze(text, globals);
  const diags = code.GetDiagnostics();
  let fileErrors = 0;
  for (let i = 0; i < diags.Count; i++) {
    const d = diags.getItem(i);
    const before = text.slice(0, d.Start);
    const line = before.split("\n").length;
    console.log(`${file}:${line}: ${d.Severity}: ${d.Message}`);
    if (d.Severity === "Error") fileErrors++;
  }
  // A query that analyzes must also produce a result table.
  console.log(`${file}: ${fileErrors} error(s), ${diags.Count} diagnostic(s)`);
  errors += fileErrors;
}
process.exit(errors > 0 ? 1 : 0);
