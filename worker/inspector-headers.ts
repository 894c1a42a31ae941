/**
 * The security headers of the inspector's page wherever it is served: the
 * `_headers` file of the Worker's static assets (written by inspector/build.ts) and
 * `redun-edge inspect`. Everything the page shows is user data rendered as
 * text; the policy is the second line of defence: scripts and styles only
 * from the page's own origin, nothing inline, no plugins, no framing.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  // The Sync panel pushes to and pulls from an edge of another origin.
  "connect-src 'self' https: http:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "Content-Security-Policy": CONTENT_SECURITY_POLICY,
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "X-Frame-Options": "DENY",
};

/** The `_headers` file of Workers static assets: these headers on every asset. */
export function headersFile(): string {
  return `/*\n${Object.entries(SECURITY_HEADERS).map(([k, v]) => `  ${k}: ${v}`).join("\n")}\n`;
}
