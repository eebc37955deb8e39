import { describe, expect, it, vi } from "vitest";
import { backoffDelay, connectSse, SseParser, type SseEvent } from "./sse";

describe("SseParser", () => {
  it("reads id, event and data, and skips comments", () => {
    const parser = new SseParser();
    const events = parser.feed(
      "retry: 3000\n: connected as someone\n\nid: 7\nevent: alert.created\ndata: {\"signal_id\":\"s1\"}\n\n: heartbeat\n\n",
    );
    expect(events).toEqual([{ id: "7", event: "alert.created", data: '{"signal_id":"s1"}' }]);
    expect(parser.lastEventId).toBe("7");
    expect(parser.retry).toBe(3000);
  });

  it("joins data lines, defaults the event name, and strips one leading space", () => {
    const parser = new SseParser();
    expect(parser.feed("data:one\ndata:  two\n\n")).toEqual([{ event: "message", data: "one\n two" }]);
  });

  it("handles any chunking and CR, LF and CRLF line ends", () => {
    const stream = "id: 1\r\nevent: a\r\ndata: x\r\n\r\nid: 2\revent: b\rdata: y\r\rid: 3\nevent: c\ndata: z\n\n";
    const whole = new SseParser().feed(stream);
    expect(whole.map((event) => [event.id, event.event, event.data])).toEqual([
      ["1", "a", "x"],
      ["2", "b", "y"],
      ["3", "c", "z"],
    ]);
    for (const size of [1, 2, 3, 5, 7]) {
      const parser = new SseParser();
      const events: SseEvent[] = [];
      for (let start = 0; start < stream.length; start += size) events.push(...parser.feed(stream.slice(start, start + size)));
      expect(events).toEqual(whole);
    }
  });

  it("keeps the last id across events without one, and ignores an event without data", () => {
    const parser = new SseParser();
    expect(parser.feed("id: 5\n\nevent: x\ndata: after\n\n")).toEqual([{ event: "x", data: "after" }]);
    expect(parser.lastEventId).toBe("5");
  });

  it("an incomplete event waits for its blank line", () => {
    const parser = new SseParser();
    expect(parser.feed("id: 9\ndata: half")).toEqual([]);
    expect(parser.feed("\n")).toEqual([]);
    expect(parser.feed("\n")).toEqual([{ id: "9", event: "message", data: "half" }]);
  });
});

describe("backoffDelay", () => {
  it("doubles from the minimum up to the maximum, with jitter", () => {
    const exact = () => 0.5; // no jitter
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => backoffDelay(n, 1000, 30_000, exact))).toEqual([
      1000, 2000, 4000, 8000, 16000, 30000, 30000,
    ]);
    expect(backoffDelay(1, 1000, 30_000, () => 0)).toBe(800);
    expect(backoffDelay(1, 1000, 30_000, () => 1)).toBe(1200);
  });
});

/** A fake fetch: each call answers with the next scripted response (a status, or SSE text then the end). */
function fakeFetch(script: (number | string | Error)[]) {
  const calls: { headers: Record<string, string> }[] = [];
  const fetch = vi.fn(async (_url: RequestInfo | URL, init?: RequestInit) => {
    calls.push({ headers: { ...(init?.headers as Record<string, string>) } });
    const next = script.shift();
    if (next === undefined) {
      // Nothing scripted: hang until aborted.
      return new Promise<Response>((_resolve, reject) =>
        init?.signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError"))),
      );
    }
    if (next instanceof Error) throw next;
    if (typeof next === "number") return new Response("nope", { status: next });
    return new Response(next, { status: 200, headers: { "Content-Type": "text/event-stream" } });
  });
  return { fetch: fetch as unknown as typeof globalThis.fetch, calls };
}

describe("connectSse", () => {
  it("sends the token, reconnects with Last-Event-ID, and backs off after failures", async () => {
    const { fetch, calls } = fakeFetch([
      "id: 41\nevent: alert.created\ndata: {}\n\n",
      503,
      new TypeError("network down"),
      "id: 42\nevent: alert.updated\ndata: {}\n\n",
    ]);
    const waits: number[] = [];
    const events: string[] = [];
    const connection = connectSse({
      url: "/api/v1/stream",
      getToken: () => "token-1",
      onEvent: (event) => events.push(`${event.id}:${event.event}`),
      fetch,
      random: () => 0.5,
      minDelayMs: 1000,
      maxDelayMs: 30_000,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    await vi.waitFor(() => expect(calls.length).toBe(5));
    connection.close();
    await connection.done;

    expect(events).toEqual(["41:alert.created", "42:alert.updated"]);
    expect(calls[0]?.headers.Authorization).toBe("Bearer token-1");
    expect(calls[0]?.headers["Last-Event-ID"]).toBeUndefined();
    expect(calls[1]?.headers["Last-Event-ID"]).toBe("41");
    expect(calls[2]?.headers["Last-Event-ID"]).toBe("41");
    expect(calls[3]?.headers["Last-Event-ID"]).toBe("41");
    expect(calls[4]?.headers["Last-Event-ID"]).toBe("42");
    // after a good stream: the minimum; then 1 s, 2 s for the two failures; after the good one again the minimum
    expect(waits).toEqual([1000, 1000, 2000, 1000]);
    expect(connection.lastEventId).toBe("42");
  });

  it("honours the server's retry after a stream ends", async () => {
    const { fetch, calls } = fakeFetch(["retry: 3000\n\nid: 1\ndata: x\n\n"]);
    const waits: number[] = [];
    const connection = connectSse({
      url: "/s",
      getToken: () => "t",
      onEvent: () => undefined,
      fetch,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    await vi.waitFor(() => expect(calls.length).toBe(2));
    connection.close();
    await connection.done;
    expect(waits).toEqual([3000]);
  });

  it("stops when signed out (no token), and resumes from a given id", async () => {
    let token: string | null = "t";
    const { fetch, calls } = fakeFetch(["id: 3\ndata: x\n\n", 401]);
    const statuses: boolean[] = [];
    const connection = connectSse({
      url: "/s",
      getToken: () => token,
      lastEventId: "2",
      onEvent: () => undefined,
      onStatus: (open) => statuses.push(open),
      fetch,
      sleep: async () => {
        token = calls.length >= 2 ? null : token; // signed out while waiting after the 401
      },
    });
    await connection.done; // ends by itself
    expect(calls.map((call) => call.headers["Last-Event-ID"])).toEqual(["2", "3"]);
    expect(statuses).toEqual([true, false]);
  });

  it("close() ends an open stream", async () => {
    const { fetch } = fakeFetch([]);
    const connection = connectSse({ url: "/s", getToken: () => "t", onEvent: () => undefined, fetch });
    connection.close();
    await expect(connection.done).resolves.toBeUndefined();
  });
});
