/** Core's public surface for plugins: import from here, never from core's internals. */
export type { InstanceTab, MetricFamily, Plugin, PluginContext, PluginPage, ServiceName } from "./plugins/contract.ts";
export { definePlugin } from "./plugins/contract.ts";
export type {
  InstanceSpec,
  RuntimeBackend,
  RuntimeInstance,
  RuntimeResources,
  RuntimeState,
  RuntimeStatus,
  SshEndpoint,
} from "./plugins/runtime_backend.ts";
export type { Router, RouteSpec } from "./http/router.ts";
export { numericParam } from "./http/router.ts";
export type { Permission } from "./http/policy.ts";
export { AppError, type ErrorCode } from "./errors.ts";
export type { CoreServices } from "./services.ts";
export type { AuditActor, AuditEvent } from "./audit/audit_log.ts";
export { actorOf } from "./audit/actor.ts";
export { readSessionCookie } from "./http/session_cookie.ts";
export { type AccessLost, accessLost } from "./auth/access_lost.ts";
export { OpenConnections } from "./http/open_connections.ts";
export { frameBudget } from "./http/frame_budget.ts";
export { requireWebSocketHandshake } from "./http/websocket_handshake.ts";
export { Island } from "./ui/island.tsx";
export { type ChannelWebSocket, type ChannelWebSocketOptions, openChannelWebSocket } from "./ssh/channel_websocket.ts";
export { BUILTIN_IDS, BUILTIN_PROVIDERS, type BuiltinProvider } from "./models/catalog.ts";
export { customProvider, keysPatch, modelRef } from "./models/schemas.ts";
export type { Rollout, RolloutResult, SyncState } from "./models/model_sync.ts";
export type { Applied, ConfigChange } from "./openclaw/agent_config.ts";
export type { ConfigCheck, ConfigIssue } from "./openclaw/validator_output.ts";

// Config editor (plugins/config)
export { MAX_CONFIG_BYTES } from "./openclaw/agent_config.ts";
