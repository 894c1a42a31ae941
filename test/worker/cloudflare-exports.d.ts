/**
 * `exports` of "cloudflare:workers" (the main Worker's handlers, here
 * worker/entry.ts), declared for the API's workerd tests; the rest of the
 * module is declared in test/d1/cloudflare-modules.d.ts.
 */
declare module "cloudflare:workers" {
  export const exports: {
    default: { fetch(input: string | Request, init?: RequestInit): Promise<Response> };
  };
}
