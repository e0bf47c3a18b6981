/** The speaker the agent runs itself: gobgpd under a guard process (DESIGN.md rule S4). */
export { GuardedSpeaker, type GuardedSpeakerOptions, type SpeakerEvents, type SpeakerExit } from './speaker.js';
export { SocketOwnershipError, verifyListenerOwner } from './socket-owner.js';
export { GobgpdExitedWhileStarting } from './start-failure.js';
export { parseApiTarget, grpcTarget, type ApiTarget } from './api-target.js';
export type { GuardExitReason } from './guard-protocol.js';
