import { useEffect, useRef, useState } from "preact/hooks";
import { errorText, useHydrated } from "../../../islands/_api.ts";
import { type ControlState, DesktopSession, type RfbConstructor } from "./desktop_session.ts";
import { adoptDesktopStyles } from "./desktop_styles.ts";

export interface DesktopViewProps {
  instanceId: number;
  /** The pop-out page: the view fills the window, without the instance page around it. */
  popout: boolean;
}

const STATUS = { connecting: "Connecting…", live: "Connected", reconnecting: "Reconnecting…", ended: "Ended" };

/**
 * The instance's Browser tab: the agent's screen live (noVNC, scaled to the panel), view-only until
 * "Take control" (the server lets one controller per instance drive it and says who), full screen,
 * pop-out window, clipboard both ways, screenshot download, and reconnection with backoff.
 */
export default function DesktopView({ instanceId, popout }: DesktopViewProps) {
  const ready = useHydrated();
  const [status, setStatus] = useState("Not connected");
  const [live, setLive] = useState(false);
  const [control, setControl] = useState<ControlState>({ controller: null, you: false, viewers: 0 });
  const [clipboard, setClipboard] = useState("");
  const [error, setError] = useState("");
  const [elsewhere, setElsewhere] = useState(false);
  const [generation, setGeneration] = useState(0);
  const screen = useRef<HTMLDivElement>(null);
  const session = useRef<DesktopSession | null>(null);

  useEffect(() => {
    if (ready) adoptDesktopStyles();
  }, [ready]);

  useEffect(() => {
    if (!ready || elsewhere || !screen.current) return;
    let disposed = false;
    (async () => {
      const { default: RFB } = await import("@novnc/novnc");
      if (disposed || !screen.current) return;
      const s = new DesktopSession(instanceId, screen.current, RFB as unknown as RfbConstructor, {
        onStatus: (state, detail) => {
          setLive(state === "live");
          setStatus(detail ?? STATUS[state]);
        },
        onControl: setControl,
        onClipboard: setClipboard,
      });
      session.current = s;
      s.connect();
    })().catch((e) => setError(errorText(e)));
    return () => {
      disposed = true;
      session.current?.close();
      session.current = null;
    };
  }, [ready, elsewhere, generation]);

  const fullScreen = () => screen.current?.requestFullscreen().catch((e) => setError(errorText(e)));
  const popOut = () => {
    const w = globalThis.open(
      `/instances/${instanceId}/desktop/popout`,
      `claworc-desktop-${instanceId}`,
      "popup,width=1300",
    );
    if (w) setElsewhere(true);
    else setError("The browser blocked the pop-out window.");
  };
  const screenshot = async () => {
    const blob = await session.current?.screenshot();
    if (!blob) return setError("No picture yet: wait until the desktop shows.");
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = `desktop-${instanceId}-${new Date().toISOString().replace(/[:.]/g, "-")}.png`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  };

  const who = control.you
    ? "You have control"
    : `View only · ${control.controller ? `${control.controller} has control` : "nobody has control"}`;
  const mode = control.you ? "in-control" : "view-only";
  return (
    <div class={`desktop ${mode}${popout ? " popout" : ""}`} data-testid="desktop">
      <div class="desktop-bar">
        <div class="desktop-actions">
          <span class="desktop-status" data-testid="desktop-status">{status}</span>
          <span class={control.you ? "desktop-control you" : "desktop-control"} data-testid="desktop-control">
            {live ? who : ""}
          </span>
        </div>
        <div class="desktop-actions">
          {control.you
            ? (
              <button type="button" data-testid="desktop-release" onClick={() => session.current?.releaseControl()}>
                Release control
              </button>
            )
            : (
              <button
                type="button"
                class="primary"
                data-testid="desktop-take"
                disabled={!live}
                onClick={() => session.current?.takeControl()}
              >
                Take control
              </button>
            )}
          <button type="button" data-testid="desktop-fullscreen" onClick={fullScreen} disabled={!live}>
            Full screen
          </button>
          {!popout && (
            <button type="button" data-testid="desktop-popout" onClick={popOut} disabled={!ready}>Pop out</button>
          )}
          <button type="button" data-testid="desktop-screenshot" onClick={screenshot} disabled={!live}>
            Screenshot
          </button>
          <button type="button" onClick={() => setGeneration((g) => g + 1)} disabled={!ready || elsewhere}>
            Reconnect
          </button>
        </div>
      </div>
      {error && <p class="error" role="alert">{error}</p>}
      {elsewhere
        ? (
          <p class="muted">
            The browser is open in its own window.{" "}
            <button type="button" onClick={() => setElsewhere(false)}>Show it here</button>
          </p>
        )
        : <div class="desktop-screen" data-testid="desktop-screen" ref={screen} />}
      <details class="desktop-clipboard">
        <summary>Clipboard</summary>
        <textarea
          data-testid="desktop-clipboard"
          aria-label="Remote clipboard"
          value={clipboard}
          onInput={(e) => setClipboard((e.target as HTMLTextAreaElement).value)}
        />
        <div class="desktop-actions">
          <button
            type="button"
            data-testid="desktop-clipboard-send"
            disabled={!control.you}
            onClick={() => session.current?.paste(clipboard)}
          >
            Send to the remote clipboard
          </button>
          <span class="muted">Text copied in the remote browser shows here.</span>
        </div>
      </details>
    </div>
  );
}
