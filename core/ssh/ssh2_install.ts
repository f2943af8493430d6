/**
 * Loads ssh2 with our chacha20-poly1305 installed (chacha_poly.ts). Poly1305 runs in ssh2's own
 * WebAssembly module, of which this makes a second instance for our buffers.
 */
import Protocol from "ssh2/lib/protocol/Protocol.js";
import createPoly1305 from "ssh2/lib/protocol/crypto/poly1305.js";
import { installChaChaPoly, Poly1305 } from "./chacha_poly.ts";

installChaChaPoly(Protocol.prototype, new Poly1305(await createPoly1305()));
