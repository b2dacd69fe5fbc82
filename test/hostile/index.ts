// Servers that misbehave on purpose, each on 127.0.0.1 with an ephemeral port.
export type { HostileServer } from './hostile-server.js';
export { createHostileCertificates, type CertifiedKey, type HostileCertificates } from './certificates.js';
export { startCloseAtOnce } from './close-at-once.js';
export { startNeverAnswer } from './never-answer.js';
export { OVERSIZED_RECORD_HEADER, startNotTls } from './not-tls.js';
export { startResetMidHandshake } from './reset-mid-handshake.js';
export { startResetAfterHandshake } from './reset-after-handshake.js';
export { ALERT, startFatalAlert } from './fatal-alert.js';
export { startTlsServer } from './tls-endpoint.js';
export { startSlowHandshake } from './slow-handshake.js';
export { startStopListening } from './stop-listening.js';
export { startCloseAfterHello } from './close-after-hello.js';
export { NEVER_OFFERED_SUITE, startWrongCipher } from './wrong-cipher.js';
export { startCloseOnRequest, startSilentAfterHandshake } from './after-handshake.js';
export { startCorruptTicket, type TicketDamage } from './corrupt-ticket.js';
export { CLIENT_CERT_LIST_LIMIT, startLongChain } from './long-chain.js';
export { resetAtConnectUnavailable, startResetAtConnect, type ResetAtConnect } from './reset-at-connect.js';
