import { definePlugin, Island, numericParam } from "../../core/mod.ts";
import ChatPanel from "./islands/chat_panel.tsx";
import { chatDefaults, type ChatOptions, ChatRooms, openChat } from "./socket.ts";

export { chatDefaults, type ChatOptions } from "./socket.ts";

/**
 * Chat with the instance's agent: a WebSocket per browser (`protocol.ts`) linked to a gateway client
 * of its own over the instance's SSH connection (`gateway_client.ts`); the gateway token never leaves
 * the server. History comes from the gateway on every connect, so a reload keeps the conversation.
 * Audited: `chat.open`, `chat.send` (length only), `chat.abort`, `chat.reset`.
 */
export function chatPlugin(options: Partial<ChatOptions> = {}) {
  const opts: ChatOptions = { ...chatDefaults, ...options };
  const rooms = new ChatRooms();
  return definePlugin({
    name: "chat",
    needs: ["ssh", "instances", "secrets", "sessions", "audit"],
    setup(ctx) {
      const s = ctx.services;
      ctx.api("/instances/:id/chat").add({
        method: "GET",
        path: "",
        permission: "instance",
        kind: "websocket",
        summary: "Chat with the instance's agent (WebSocket; JSON frames, see the chat plugin's protocol.ts)",
        tags: ["chat"],
      }, (c) => {
        const instanceId = numericParam(c, "id");
        s.instances.get(instanceId);
        return openChat(c, s, { instanceId }, opts, rooms);
      });
      ctx.metric({
        name: "claworc_chat_sockets",
        type: "gauge",
        help: "Browser chat sockets open now (each with its own gateway connection).",
        samples: () => [{ value: rooms.size }],
      });
      ctx.instanceTab({
        path: "chat",
        title: "Chat",
        order: 5,
        render: (_c, _user, instanceId) => <Island name="chat_panel" component={ChatPanel} props={{ instanceId }} />,
      });
    },
    close() {
      rooms.endAll();
    },
  });
}
