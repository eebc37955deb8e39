// Server-Sent Events over fetch: EventSource cannot send the Authorization header, so this reads the stream with
// fetch + ReadableStream. The parser follows the HTML standard's event-stream rules (id, event, data, retry,
// comments, CR/LF/CRLF line ends, a chunk boundary anywhere); the connection sends Last-Event-ID when it
// reconnects (the API replays what was missed), backs off exponentially with jitter after failures, honours the
// server's retry:, and stops for good when there is no token (signed out) or when closed.

export interface SseEvent {
  /** The event's id (also remembered as the last event id), or undefined when it had none. */
  id?: string;
  /** "message" when the stream did not name it. */
  event: string;
  data: string;
}

/** An incremental event-stream parser: feed it text as it arrives, get back the complete events. */
export class SseParser {
  private buffer = "";
  private data: string[] = [];
  private eventName = "";
  private eventId: string | undefined;
  private sawCr = false;
  /** The last event id seen (kept across events, as the standard says). */
  lastEventId: string | null = null;
  /** The reconnection delay the server asked for (retry: in ms), if any. */
  retry: number | null = null;

  feed(chunk: string): SseEvent[] {
    const events: SseEvent[] = [];
    let text = chunk;
    if (this.sawCr && text.startsWith("\n")) text = text.slice(1); // the LF of a CRLF split across chunks
    this.sawCr = false;
    this.buffer += text;
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const ch = this.buffer[i];
      if (ch !== "\n" && ch !== "\r") continue;
      const line = this.buffer.slice(start, i);
      if (ch === "\r") {
        if (i + 1 < this.buffer.length) {
          if (this.buffer[i + 1] === "\n") i++;
        } else {
          this.sawCr = true;
        }
      }
      start = i + 1;
      const event = this.line(line);
      if (event) events.push(event);
    }
    this.buffer = this.buffer.slice(start);
    return events;
  }

  private line(line: string): SseEvent | null {
    if (line === "") return this.dispatch();
    if (line.startsWith(":")) return null; // a comment (heartbeat)
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (field) {
      case "data":
        this.data.push(value);
        break;
      case "event":
        this.eventName = value;
        break;
      case "id":
        if (!value.includes("\0")) this.eventId = value;
        break;
      case "retry":
        if (/^\d+$/.test(value)) this.retry = Number(value);
        break;
      default: // unknown fields are ignored
    }
    return null;
  }

  private dispatch(): SseEvent | null {
    const id = this.eventId;
    if (id !== undefined) this.lastEventId = id;
    const hadData = this.data.length > 0;
    const event: SseEvent = { event: this.eventName || "message", data: this.data.join("\n") };
    if (id !== undefined) event.id = id;
    this.data = [];
    this.eventName = "";
    this.eventId = undefined;
    return hadData ? event : null;
  }
}

export interface SseOptions {
  url: string;
  /** The bearer token for each (re)connection; null means signed out, and the stream stops. */
  getToken: () => string | null;
  onEvent: (event: SseEvent) => void;
  /** Called when a connection opens (true) or drops (false). */
  onStatus?: (open: boolean) => void;
  /** Resume after this id on the first connection too. */
  lastEventId?: string | null;
  fetch?: typeof fetch;
  /** Waits between attempts (tests pass a fake). Resolves early when the signal aborts. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
  minDelayMs?: number;
  maxDelayMs?: number;
}

export interface SseConnection {
  close(): void;
  readonly lastEventId: string | null;
  /** Resolves when the connection loop has stopped (closed or signed out). */
  readonly done: Promise<void>;
}

function defaultSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

/** The delay before attempt ``failures`` (1, 2, …): min·2^(n-1), capped, with ±20 % jitter. */
export function backoffDelay(failures: number, minMs: number, maxMs: number, random: () => number = Math.random): number {
  const base = Math.min(maxMs, minMs * 2 ** Math.max(0, failures - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}

/** Open the stream and keep it open until ``close()`` or sign-out. */
export function connectSse(options: SseOptions): SseConnection {
  const doFetch = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  const minDelay = options.minDelayMs ?? 1000;
  const maxDelay = options.maxDelayMs ?? 30_000;
  const stop = new AbortController();
  let lastEventId = options.lastEventId ?? null;
  let serverRetry: number | null = null;

  async function once(token: string): Promise<"opened" | "failed"> {
    const headers: Record<string, string> = { Accept: "text/event-stream", Authorization: `Bearer ${token}` };
    if (lastEventId !== null) headers["Last-Event-ID"] = lastEventId;
    const response = await doFetch(options.url, { headers, signal: stop.signal, cache: "no-store" });
    if (!response.ok || !response.body) {
      await response.body?.cancel().catch(() => undefined);
      return "failed";
    }
    options.onStatus?.(true);
    const parser = new SseParser();
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const event of parser.feed(decoder.decode(value, { stream: true }))) {
          if (event.id !== undefined) lastEventId = event.id;
          options.onEvent(event);
        }
        if (parser.retry !== null) serverRetry = parser.retry;
      }
    } finally {
      options.onStatus?.(false);
      reader.releaseLock();
    }
    return "opened";
  }

  const done = (async () => {
    let failures = 0;
    while (!stop.signal.aborted) {
      const token = options.getToken();
      if (!token) break; // signed out
      let outcome: "opened" | "failed";
      try {
        outcome = await once(token);
      } catch {
        if (stop.signal.aborted) break;
        outcome = "failed";
      }
      if (stop.signal.aborted) break;
      if (outcome === "opened") {
        failures = 0; // it worked: come back after the server's retry (or the minimum)
        await sleep(serverRetry ?? minDelay, stop.signal);
      } else {
        failures += 1;
        await sleep(Math.max(backoffDelay(failures, minDelay, maxDelay, random), serverRetry ?? 0), stop.signal);
      }
    }
  })();

  return {
    close: () => stop.abort(),
    get lastEventId() {
      return lastEventId;
    },
    done,
  };
}
