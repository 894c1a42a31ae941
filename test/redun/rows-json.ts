/** RedunRows as JSON text (blobs as base64), to hand the fixture to another runtime: workerd, a browser. */
import type { RedunRows } from "redun-edge";

export function rowsToJson(rows: RedunRows): string {
  const base64 = (bytes: Uint8Array) => {
    let text = "";
    for (let i = 0; i < bytes.length; i += 8192) text += String.fromCharCode(...bytes.subarray(i, i + 8192));
    return btoa(text);
  };
  return JSON.stringify(rows, (_, v) => (v instanceof Uint8Array ? { $bytes: base64(v) } : v));
}

export function rowsFromJson(text: string): RedunRows {
  return JSON.parse(text, (_, v) =>
    v && typeof v === "object" && typeof v.$bytes === "string" ? Uint8Array.from(atob(v.$bytes), (c) => c.charCodeAt(0)) : v,
  ) as RedunRows;
}

