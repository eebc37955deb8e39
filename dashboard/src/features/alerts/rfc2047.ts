// RFC 2047 "encoded words" (=?utf-8?q?Caf=C3=A9?= / =?utf-8?b?Q2Fmw6k=?=), as the digest preview's X-Subject header
// carries its subject. Whitespace between two encoded words is dropped (RFC 2047 §6.2); adjacent words in the same
// charset are decoded together, so a character split across two words survives.

const WORD = /=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=/g;

function bytesOfQ(text: string): number[] {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] ?? "";
    if (ch === "_") bytes.push(0x20);
    else if (ch === "=" && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(ch.charCodeAt(0) & 0xff);
  }
  return bytes;
}

function bytesOfB(text: string): number[] {
  try {
    return Array.from(atob(text.replace(/[^A-Za-z0-9+/=]/g, "")), (c) => c.charCodeAt(0));
  } catch {
    return [];
  }
}

function decodeBytes(bytes: number[], charset: string): string {
  try {
    return new TextDecoder(charset.split("*")[0] /* RFC 2231 language suffix */).decode(new Uint8Array(bytes));
  } catch {
    return new TextDecoder("utf-8").decode(new Uint8Array(bytes));
  }
}

export function decodeRfc2047(header: string | null | undefined): string {
  if (!header) return "";
  let out = "";
  let last = 0;
  let pending: { charset: string; bytes: number[] } | null = null;
  const flush = () => {
    if (pending) out += decodeBytes(pending.bytes, pending.charset);
    pending = null;
  };
  for (const match of header.matchAll(WORD)) {
    const [whole, charset = "utf-8", encoding = "q", text = ""] = match;
    const between = header.slice(last, match.index);
    const bytes = encoding.toLowerCase() === "b" ? bytesOfB(text) : bytesOfQ(text);
    const joins = pending !== null && /^\s*$/.test(between);
    if (joins && pending!.charset.toLowerCase() === charset.toLowerCase()) {
      pending!.bytes.push(...bytes);
    } else {
      flush();
      if (!joins) out += between;
      pending = { charset, bytes };
    }
    last = (match.index ?? 0) + whole.length;
  }
  flush();
  return out + header.slice(last);
}
