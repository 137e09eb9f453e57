/** Security headers for every console response (pages, assets and API). */

/**
 * Scripts, styles and connections only from the console's own origin; no inline script or
 * style (island props travel in data attributes, progress bars are <progress> elements), no
 * framing. `img-src data:` allows the 2FA QR code rendered as a data URL.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

export function withSecurityHeaders(res: Response): Response {
  let out = res;
  try {
    out.headers.set("x-content-type-options", "nosniff");
  } catch {
    // Immutable headers (e.g. a Response from fetch): copy into a mutable one.
    out = new Response(res.body, res);
    out.headers.set("x-content-type-options", "nosniff");
  }
  const h = out.headers;
  if (!h.has("content-security-policy")) h.set("content-security-policy", CONTENT_SECURITY_POLICY);
  h.set("x-frame-options", "DENY");
  h.set("referrer-policy", "same-origin");
  h.set("cross-origin-opener-policy", "same-origin");
  h.set("permissions-policy", "camera=(), microphone=(), geolocation=()");
  return out;
}
