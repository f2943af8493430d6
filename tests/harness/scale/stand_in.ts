/**
 * Stand-ins for an agent's two loopback services, run inside the scale farm's network namespace (test-only):
 * 127.0.0.1:3000 (websockify) and 127.0.0.1:18789 (OpenClaw's gateway). Each answers whatever it is sent
 * with a short HTTP 200 and closes, so the control plane's tunnel probes (a direct-tcpip channel that sshd
 * opens to these addresses) succeed without touching the machine's own ports.
 *
 * Prints `ready` on stdout once both listen; exits when its standard input closes (its parent is gone).
 */

const PORTS = [3000, 18789];
const ANSWER = new TextEncoder().encode(
  "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 3\r\nconnection: close\r\n\r\nok\n",
);

async function serveOne(conn: Deno.Conn): Promise<void> {
  const timer = setTimeout(() => {
    try {
      conn.close();
    } catch { /* already closed */ }
  }, 5_000);
  try {
    const n = await conn.read(new Uint8Array(4096));
    if (n !== null) await conn.write(ANSWER);
  } catch {
    // the prober closed the channel first (a tunnel probe only opens and closes it)
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* already closed */ }
  }
}

const listeners = PORTS.map((port) => Deno.listen({ hostname: "127.0.0.1", port }));
for (const listener of listeners) {
  (async () => {
    for await (const conn of listener) void serveOne(conn);
  })().catch(() => {});
}
console.log("ready");

// Standard input closing means the bench is gone: leave with it.
for await (const _ of Deno.stdin.readable) { /* nothing is sent */ }
for (const l of listeners) l.close();
Deno.exit(0);
