/**
 * The network context's public surface: parsing and validation of network, nic and proxy settings
 * (pure), subnet choice, and the host side of managed networking (bridges, NAT, forwarding,
 * dnsmasq, veth nics, traffic control) driven through iproute2, nftables and dnsmasq.
 */

// Values and validation (pure).
export {
  parseIpv4,
  formatIpv4,
  parseSubnet,
  parseInterfaceAddress,
  formatSubnet,
  formatInterfaceAddress,
  subnetContains,
  subnetsOverlap,
  netmask,
  broadcastOf,
  type Ipv4,
  type Subnet,
  type InterfaceAddress,
} from './domain/ipv4.js';
export { parseDhcpRanges, defaultDhcpRanges, formatDhcpRange, rangesContain, type DhcpRange } from './domain/dhcp-range.js';
export { parseMac, generateMac } from './domain/mac.js';
export { parseBitRate, parseNicLimits, type NicLimits } from './domain/bit-rate.js';
export { parseProxyAddress, checkProxyPair, type ProxyAddress } from './domain/proxy-address.js';
export { validateNetworkName, hostVethName, MAX_INTERFACE_NAME } from './domain/names.js';
export {
  validateNetworkConfig,
  networkSpecOf,
  NETWORK_CONFIG_KEYS,
  DEFAULT_DNS_DOMAIN,
  DEFAULT_BRIDGE_MTU,
  type NetworkSpec,
} from './domain/network-config.js';
export { chooseSubnet, subnetCandidates } from './domain/subnet-choice.js';
export { validateReservation, type HostReservation } from './domain/reservation.js';
export { parseLeases, type Lease } from './domain/leases.js';
export { natTableName } from './domain/nat-rules.js';
export { forwardTableName, portForwardId, type PortForward } from './domain/port-forward.js';
export { installedForwards, type InstalledForward } from './infrastructure/port-forwards.js';
export { ifbNameFor } from './domain/shaping.js';

// Errors, each with a stable NETWORK.* code (validation failures are #core's ValidationError).
export {
  NetworkCommandError,
  NetworkAlreadyExistsError,
  NetworkNotFoundError,
  SubnetInUseError,
  NoFreeSubnetError,
  DnsmasqError,
  StateDirectoryError,
  NicAlreadyExistsError,
} from './domain/network.errors.js';

// The host side.
export { BridgeNetworks, type BridgeNetworksOptions, type NetworkRuntimeState } from './bridge-networks.js';
export { IpForwarding } from './infrastructure/ip-forwarding.js';
export { NftablesNat, detectNatBackend, listNftTables } from './infrastructure/nftables-nat.js';
export type { NatBackend } from './infrastructure/nat-backend.js';
export { IptablesNat, iptablesChainName, iptablesForwardChains } from './infrastructure/iptables-nat.js';
export { createVethNic, attachVethNic, deleteVethNic, type VethNicSpec } from './infrastructure/veth.js';
export { applyNicLimits, readNicLimits } from './infrastructure/traffic-shaper.js';
export { readHostPrefixes, findLink, listLinks, type HostPrefix, type LinkInfo, type NetnsRef } from './infrastructure/iproute.js';
export {
  proxyDeviceOf,
  proxyArgs,
  proxyPidFile,
  locateProxyHelper,
  startProxy,
  stopProxy,
  stopProxies,
  syncProxies,
  runningProxies,
  ProxyStartError,
  type ProxyDevice,
  type NicAddress,
  type RunningProxy,
  type StartProxyOptions,
  type SyncProxiesOptions,
} from './infrastructure/proxy.js';

// The API side: networks in Postgres, commands and queries.
export { NetworkModule } from './network.module.js';
export { NetworkRecord } from './api/network.entity.js';
export {
  CreateNetworkCommand,
  DeleteNetworkCommand,
  ListNetworksQuery,
  GetNetworkQuery,
  ListNetworkLeasesQuery,
  NetworkStore,
  type NetworkView,
  type LeaseView,
} from './api/network-commands.js';
export { UpdateNetworkCommand, RenameNetworkCommand, GetNetworkStateQuery, networkEtag, type NetworkChanges } from './api/network-changes.js';
export type { BridgeState } from './infrastructure/bridge-state.js';
