/**
 * The network context's public surface: managed bridge networks (commands, queries and the ETag
 * the API sends), and the two services through which instances get their nics and proxies on the host.
 */

export { NetworkModule } from './network.module.js';

// Commands and queries.
export { CreateNetworkCommand } from './commands/create-network/create-network.command.js';
export { DeleteNetworkCommand } from './commands/delete-network/delete-network.command.js';
export { UpdateNetworkCommand } from './commands/update-network/update-network.command.js';
export { RenameNetworkCommand } from './commands/rename-network/rename-network.command.js';
export { ListNetworksQuery } from './queries/list-networks/list-networks.query.js';
export { GetNetworkQuery } from './queries/get-network/get-network.query.js';
export { GetNetworkStateQuery } from './queries/get-network-state/get-network-state.query.js';
export { ListNetworkLeasesQuery } from './queries/list-network-leases/list-network-leases.query.js';
export { ListNetworkUsersQuery } from './queries/list-network-users/list-network-users.query.js';
export { networkEtag } from './domain/network-etag.js';

// An instance's nics and proxies on the host.
export { InstanceNics } from './nics/instance-nics.js';
export { InstanceProxies } from './nics/instance-proxies.js';

// Addresses, for migrate's guest fix-ups.
export { formatIpv4, formatSubnet, parseInterfaceAddress } from './domain/ipv4.js';
