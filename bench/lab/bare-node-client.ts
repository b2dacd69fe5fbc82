// The same handshakes tlsbench makes, through Node's public TLS API with nothing on top: connect,
// verify the chain against the CA (OpenSSL does that inside the handshake), send close_notify,
// close, next; resumed cases offer each slot's newest session as Node hands it over. No host-name
// check, no timers, no histograms, no worker thread. The bench sets it beside tlsbench and s_time
// to tell tlsbench's own overhead (tlsbench ÷ this) from the cost of Node's TLS stack (this ÷ s_time).
//
//   node dist/bench/lab/bare-node-client.js HOST PORT CA_FILE 1.2|1.3 none|ticket CONNECTIONS WARMUP_S DURATION_S GROUPS
//
// Prints one JSON line: handshakes by class and the CPU (user + system, every thread) of the window.
import { readFileSync } from 'node:fs';
import tls from 'node:tls';

const [host = '', portText = '', caPath = '', version = '', resume = '', connectionsText = '', warmupText = '', durationText = '', groups = ''] = process.argv.slice(2);
const connections = Number(connectionsText);
const warmupMs = Number(warmupText) * 1000;
const durationMs = Number(durationText) * 1000;
if (!host || !Number(portText) || !caPath || !['1.2', '1.3'].includes(version) || !['none', 'ticket'].includes(resume) || !(connections >= 1) || !(warmupMs >= 0) || !(durationMs > 0) || !groups) {
  process.stderr.write('usage: bare-node-client HOST PORT CA_FILE 1.2|1.3 none|ticket CONNECTIONS WARMUP_S DURATION_S GROUPS\n');
  process.exit(2);
}

const tlsVersion = version === '1.3' ? 'TLSv1.3' : 'TLSv1.2';
const context = tls.createSecureContext({ ca: readFileSync(caPath), minVersion: tlsVersion, maxVersion: tlsVersion, ecdhCurve: groups });
const waitForTicket = resume === 'ticket' && version === '1.3';
/** A TLS 1.3 ticket normally follows the handshake at once; this only bounds a server that sends none. */
const TICKET_WAIT_MS = 1000;
const NO_CERTIFICATE = {} as tls.PeerCertificate;
const counts = { full: 0, resumed: 0, errors: 0 };
let counting = false;
let stopped = false;

// The host-name check is left out (it is not part of the floor), and so is the JS copy of the
// peer chain that Node builds only to hand it to that check.
function skipIdentityCheck(): undefined {
  return undefined;
}
function noPeerCertificate(): tls.PeerCertificate {
  return NO_CERTIFICATE;
}

function connect(session: Buffer | undefined): void {
  if (stopped) return;
  const socket = tls.connect({ host, port: Number(portText), secureContext: context, session, checkServerIdentity: skipIdentityCheck });
  socket.getPeerCertificate = noPeerCertificate as tls.TLSSocket['getPeerCertificate'];
  let next = session;
  let done = false;
  let ticketTimer: NodeJS.Timeout | undefined;
  const close = () => {
    if (done) return;
    done = true;
    if (ticketTimer) clearTimeout(ticketTimer);
    if (!socket.destroyed) socket.end();
    socket.destroy();
    // Node emits a TLS 1.2 session right after secureConnect: read `next` once it is in.
    process.nextTick(() => connect(next));
  };
  if (resume === 'ticket') {
    socket.on('session', (fresh: Buffer) => {
      next = fresh;
      if (waitForTicket) close();
    });
  }
  socket.on('secureConnect', () => {
    if (counting) counts[socket.isSessionReused() ? 'resumed' : 'full']++;
    if (waitForTicket && !socket.isSessionReused()) ticketTimer = setTimeout(close, TICKET_WAIT_MS);
    else close();
  });
  socket.on('error', () => {
    if (counting) counts.errors++;
    close();
  });
}

for (let i = 0; i < connections; i++) connect(undefined);
setTimeout(() => {
  counting = true;
  const cpuAtStart = process.cpuUsage();
  const startedAt = Date.now();
  setTimeout(() => {
    counting = false;
    stopped = true;
    const cpu = process.cpuUsage(cpuAtStart);
    process.stdout.write(`${JSON.stringify({ ...counts, cpuSec: (cpu.user + cpu.system) / 1e6, wallSec: (Date.now() - startedAt) / 1000 })}\n`);
    process.exit(0);
  }, durationMs);
}, warmupMs);
