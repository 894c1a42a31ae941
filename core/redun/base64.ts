/**
 * Standard base64 for the pickles redun Values carry, through the web
 * platform's btoa/atob (browsers, workerd and Node all have them; native, so
 * far cheaper than building the text in JS).
 */

/** Bytes per String.fromCharCode call: well under engines' argument limits. */
const CHUNK = 8192;

export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += CHUNK) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + CHUNK) as unknown as number[]);
  }
  return btoa(binary);
}

/** Decode base64; throws on text that is not base64. */
export function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}
