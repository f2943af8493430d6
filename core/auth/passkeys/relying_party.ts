import type { Config } from "../../config.ts";

/** Who passkeys are registered with and which page origins may use them, for one request. */
export interface RelyingParty {
  id: string;
  name: string;
  origins: string[];
}

/**
 * The relying party for a request: the configured ID (checked against the public URL at start-up),
 * else the request's host name; origins are the allowed origins on that domain, else the request's own.
 */
export function relyingParty(config: Config, own: string): RelyingParty {
  const id = config.webauthn.rpId ?? new URL(own).hostname;
  const onDomain = (o: string) => {
    const h = new URL(o).hostname;
    return h === id || h.endsWith(`.${id}`);
  };
  const origins = config.allowedOrigins.filter(onDomain);
  return { id, name: config.webauthn.rpName, origins: origins.length ? origins : [own] };
}
