import assert from "node:assert/strict";
import { translateEngineError } from "../../../plugins/docker/errors.ts";

const SOCKET = "/run/podman/podman.sock";

Deno.test("engine errors become API errors a user can act on", () => {
  const cases: [unknown, string, RegExp][] = [
    [{ code: "ECONNREFUSED" }, "ENGINE_UNAVAILABLE", /at \/run\/podman\/podman\.sock is not reachable/],
    [{ statusCode: 404, json: { message: "no such image: x" } }, "IMAGE_MISSING", /deno task build:agent/],
    [{ statusCode: 404, json: { message: "no such container" } }, "INSTANCE_NOT_FOUND", /no such container/],
    [{ statusCode: 409, json: { message: "name in use" } }, "CONFLICT", /refused: name in use/],
    [
      {
        statusCode: 500,
        json: {
          message: "runc create failed: error setting rlimits for ready process: error setting rlimit type 7: " +
            "operation not permitted: OCI permission denied",
        },
      },
      "ENGINE_ERROR",
      /could not apply its default resource limits.*default_ulimits = \["nofile=20000:20000"\].*Troubleshooting/,
    ],
    [new Error("something else"), "ENGINE_ERROR", /^Container engine error: something else$/],
  ];
  for (const [raw, code, message] of cases) {
    const e = translateEngineError(raw, SOCKET);
    assert.equal(e.code, code, JSON.stringify(raw));
    assert.match(e.message, message);
  }
});
