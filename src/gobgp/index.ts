/** The GoBGP v3 client: what the rest of the agent imports. */
export { GobgpClient, type GobgpClientOptions, type GlobalInfo } from './client.js';
export { GobgpError, UntargetedDeleteError, type GobgpCall } from './errors.js';
export { pathKey, samePath, type Origin, type PathSpec, type RibPath } from './path.js';
export { PathCodecError } from './path-codec.js';
export type { PeerInfo, SessionState } from './peer.js';
