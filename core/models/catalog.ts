/** A provider OpenClaw knows by itself: Claworc only supplies its API key (as a SecretRef). */
export interface BuiltinProvider {
  id: string;
  label: string;
  /** `model`: the key goes to `models.providers.<id>.apiKey`; `search`: to the web-search plugin. */
  kind: "model" | "search";
  /** A model reference to show as an example (`provider/model`). */
  example?: string;
}

/** The providers an admin can give keys for (OpenClaw's ids). */
export const BUILTIN_PROVIDERS: readonly BuiltinProvider[] = [
  { id: "anthropic", label: "Anthropic", kind: "model", example: "anthropic/claude-sonnet-4-5" },
  { id: "openai", label: "OpenAI", kind: "model", example: "openai/gpt-5" },
  { id: "google", label: "Google Gemini", kind: "model", example: "google/gemini-2.5-pro" },
  { id: "deepseek", label: "DeepSeek", kind: "model", example: "deepseek/deepseek-chat" },
  { id: "openrouter", label: "OpenRouter", kind: "model", example: "openrouter/auto" },
  { id: "brave", label: "Brave Search (web search tool)", kind: "search" },
];

export const BUILTIN_IDS: ReadonlySet<string> = new Set(BUILTIN_PROVIDERS.map((p) => p.id));
