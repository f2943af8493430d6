/** Loads ssh2 with our chacha20-poly1305 installed (chacha_poly.ts, with Poly1305 from poly1305.ts). */
import Protocol from "ssh2/lib/protocol/Protocol.js";
import { installChaChaPoly } from "./chacha_poly.ts";
import { Poly1305 } from "./poly1305.ts";

installChaChaPoly(Protocol.prototype, new Poly1305());
