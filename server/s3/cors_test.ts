import assert from "node:assert/strict";
import {
  actualRequestHeaders,
  corsConfigOf,
  type CorsRule,
  corsXml,
  matchCorsRule,
  parseCorsConfiguration,
  preflightHeaders,
  requestedHeaders,
  wildcardMatch,
} from "./cors.ts";
import { S3Error } from "./errors.ts";

const ORIGIN = "<AllowedOrigin>https://example.com</AllowedOrigin>";
const METHOD = "<AllowedMethod>GET</AllowedMethod>";
const MINIMAL = ORIGIN + METHOD;
const VARY = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method";

function doc(...rules: string[]): string {
  return `<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${
    rules.map((r) => `<CORSRule>${r}</CORSRule>`).join("")
  }</CORSConfiguration>`;
}

function rule(fields: Partial<CorsRule> = {}): CorsRule {
  return {
    allowedOrigins: ["*"],
    allowedMethods: ["GET"],
    allowedHeaders: [],
    exposeHeaders: [],
    ...fields,
  };
}

function s3Error(run: () => unknown): { code: string; message: string; fields: object } {
  try {
    run();
  } catch (e) {
    assert.ok(e instanceof S3Error, String(e));
    return { code: e.code, message: e.message, fields: e.fields };
  }
  throw new assert.AssertionError({ message: "expected an S3Error" });
}

Deno.test("parseCorsConfiguration reads every element, values as sent", () => {
  const cfg = parseCorsConfiguration(doc(
    "<ID>r1</ID>" + ORIGIN + "<AllowedOrigin>https://*.example.org</AllowedOrigin>" +
      "<AllowedMethod>PUT</AllowedMethod><AllowedMethod>HEAD</AllowedMethod>" +
      "<AllowedHeader>Content-Type</AllowedHeader><AllowedHeader>x-amz-*</AllowedHeader>" +
      "<ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>0042</MaxAgeSeconds>",
    "<AllowedOrigin>*</AllowedOrigin>" + METHOD,
  ));
  assert.deepStrictEqual(cfg.rules, [
    {
      id: "r1",
      allowedOrigins: ["https://example.com", "https://*.example.org"],
      allowedMethods: ["PUT", "HEAD"],
      allowedHeaders: ["Content-Type", "x-amz-*"],
      exposeHeaders: ["ETag"],
      maxAgeSeconds: 42,
    },
    rule(),
  ]);
  assert.deepStrictEqual(cfg.headerPatterns, [["content-type", "x-amz-*"], []]);
});

Deno.test("parseCorsConfiguration: 100 rules pass, the structure errors are MalformedXML", () => {
  assert.deepStrictEqual(
    parseCorsConfiguration(doc(...Array(100).fill(MINIMAL))).rules.length,
    100,
  );
  const bad: [string, string][] = [
    ["not XML", "AllowedOrigin: *"],
    ["another root", `<CORSRules><CORSRule>${MINIMAL}</CORSRule></CORSRules>`],
    ["no rule", doc()],
    ["101 rules", doc(...Array(101).fill(MINIMAL))],
    ["unknown element next to a rule", doc(MINIMAL).replace("</CORSConf", "<Owner/></CORSConf")],
    ["text next to a rule", doc(MINIMAL).replace("<CORSRule>", "text<CORSRule>")],
    ["a rule without AllowedOrigin", doc(METHOD)],
    ["a rule without AllowedMethod", doc(ORIGIN)],
    ["an unknown element in a rule", doc(MINIMAL + "<AllowedHeaders>*</AllowedHeaders>")],
    ["an element in a value", doc(`<AllowedOrigin><O>*</O></AllowedOrigin>${METHOD}`)],
    ["MaxAgeSeconds not a number", doc(MINIMAL + "<MaxAgeSeconds>1h</MaxAgeSeconds>")],
    ["MaxAgeSeconds negative", doc(MINIMAL + "<MaxAgeSeconds>-1</MaxAgeSeconds>")],
    ["MaxAgeSeconds above 32 bits", doc(MINIMAL + "<MaxAgeSeconds>2147483648</MaxAgeSeconds>")],
    ["MaxAgeSeconds twice", doc(MINIMAL + "<MaxAgeSeconds>1</MaxAgeSeconds>".repeat(2))],
    ["ID of 256 characters", doc(MINIMAL + `<ID>${"a".repeat(256)}</ID>`)],
    ["ID twice", doc(MINIMAL + "<ID>a</ID><ID>b</ID>")],
    // Structure is checked whole before any value: a bad method in rule 1 loses to rule 2.
    ["structure before values", doc(ORIGIN + "<AllowedMethod>PATCH</AllowedMethod>", METHOD)],
  ];
  for (const [name, body] of bad) {
    assert.deepStrictEqual(s3Error(() => parseCorsConfiguration(body)).code, "MalformedXML", name);
  }
});

Deno.test("parseCorsConfiguration: bad values are InvalidRequest naming the value", () => {
  const cases: [string, string][] = [
    [
      ORIGIN + METHOD + "<AllowedMethod>PATCH</AllowedMethod>",
      "Found unsupported HTTP method in CORS config. Unsupported method is PATCH",
    ],
    [
      ORIGIN + "<AllowedMethod>get</AllowedMethod>",
      "Found unsupported HTTP method in CORS config. Unsupported method is get",
    ],
    [
      "<AllowedOrigin>https://*.example.*</AllowedOrigin>" + METHOD,
      'AllowedOrigin "https://*.example.*" can not have more than one wildcard.',
    ],
    [
      MINIMAL + "<AllowedHeader>x-*-meta-*</AllowedHeader>",
      'AllowedHeader "x-*-meta-*" can not have more than one wildcard.',
    ],
    [
      MINIMAL + "<ExposeHeader>x-amz-*</ExposeHeader>",
      'ExposeHeader "x-amz-*" contains wildcard. We currently do not support wildcard for ExposeHeader.',
    ],
    // Methods are checked before origins, whatever the order of the elements.
    [
      "<AllowedOrigin>*.*</AllowedOrigin><AllowedMethod>TRACE</AllowedMethod>",
      "Found unsupported HTTP method in CORS config. Unsupported method is TRACE",
    ],
  ];
  for (const [r, message] of cases) {
    assert.deepStrictEqual(s3Error(() => parseCorsConfiguration(doc(MINIMAL, r))), {
      code: "InvalidRequest",
      message,
      fields: {},
    });
  }
});

Deno.test("corsXml writes AWS's element order and reads back the same rules", () => {
  const cfg = corsConfigOf([
    rule({
      id: "a&b",
      allowedOrigins: ["https://x.test"],
      allowedMethods: ["GET", "PUT"],
      allowedHeaders: ["*"],
      exposeHeaders: ["ETag"],
      maxAgeSeconds: 3000,
    }),
    rule({ allowedMethods: ["HEAD"] }),
  ]);
  const xml = corsXml(cfg);
  assert.deepStrictEqual(
    xml,
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
      '<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
      "<CORSRule><ID>a&amp;b</ID><AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod>" +
      "<AllowedOrigin>https://x.test</AllowedOrigin><AllowedHeader>*</AllowedHeader>" +
      "<MaxAgeSeconds>3000</MaxAgeSeconds><ExposeHeader>ETag</ExposeHeader></CORSRule>" +
      "<CORSRule><AllowedMethod>HEAD</AllowedMethod><AllowedOrigin>*</AllowedOrigin></CORSRule>" +
      "</CORSConfiguration>",
  );
  assert.deepStrictEqual(parseCorsConfiguration(xml), cfg);
});

Deno.test("wildcardMatch: one * for any text, prefix and suffix may not overlap", () => {
  const cases: [string, string, boolean][] = [
    ["*", "https://a.test", true],
    ["https://example.com", "https://example.com", true],
    ["https://example.com", "https://EXAMPLE.com", false],
    ["https://example.com", "https://example.com:8443", false],
    ["https://*.example.com", "https://www.example.com", true],
    ["https://*.example.com", "https://example.com", false],
    ["https://*.example.com", "http://www.example.com", false],
    ["https://example.com:*", "https://example.com:8443", true],
    ["http*://example.com", "https://example.com", true],
    ["https://a*a", "https://aa", true],
    ["https://a*a", "https://a", false],
    ["", "", true],
  ];
  for (const [p, v, want] of cases) assert.deepStrictEqual(wildcardMatch(p, v), want, `${p} ${v}`);
});

Deno.test("matchCorsRule: origin, method and every header in one rule, first rule wins", () => {
  const exact = rule({
    id: "exact",
    allowedOrigins: ["https://example.com"],
    allowedMethods: ["GET", "PUT"],
  });
  const pattern = rule({ id: "pattern", allowedOrigins: ["https://*.com"], allowedHeaders: ["*"] });
  const any = rule({ id: "any", allowedMethods: ["GET", "HEAD"], allowedHeaders: ["X-Amz-*"] });
  const cfg = corsConfigOf([exact, pattern, any]);
  const id = (o: string, m: string, h: string[] = []) => matchCorsRule(cfg, o, m, h)?.rule.id;
  assert.deepStrictEqual(id("https://example.com", "GET"), "exact");
  assert.deepStrictEqual(id("https://example.com", "PUT"), "exact");
  assert.deepStrictEqual(id("https://example.com", "HEAD"), "any");
  assert.deepStrictEqual(id("https://example.com", "GET", ["x-amz-date"]), "pattern");
  assert.deepStrictEqual(id("https://example.org", "HEAD", ["x-amz-date", "x-amz-meta-a"]), "any");
  assert.deepStrictEqual(
    id("https://example.org", "HEAD", ["x-amz-date", "content-type"]),
    undefined,
  );
  assert.deepStrictEqual(id("https://example.org", "DELETE"), undefined);
  assert.deepStrictEqual(id("https://example.com", "get"), undefined);
  assert.deepStrictEqual(
    matchCorsRule(cfg, "https://example.com", "GET")?.allowOrigin,
    "https://example.com",
  );
  assert.deepStrictEqual(matchCorsRule(cfg, "https://x.org", "GET")?.allowOrigin, "*");
});

Deno.test("requestedHeaders trims, lowercases and drops empty names", () => {
  assert.deepStrictEqual(requestedHeaders("Content-Type,X-Amz-Date ,  x-amz-meta-Name"), [
    "content-type",
    "x-amz-date",
    "x-amz-meta-name",
  ]);
  assert.deepStrictEqual(requestedHeaders(" , ,"), []);
  assert.deepStrictEqual(requestedHeaders(null), []);
});

const SITE = corsConfigOf([
  rule({
    allowedOrigins: ["https://example.com", "https://*.example.com"],
    allowedMethods: ["GET", "PUT", "DELETE"],
    allowedHeaders: ["Content-Type", "x-amz-*"],
    exposeHeaders: ["ETag", "x-amz-request-id"],
    maxAgeSeconds: 3000,
  }),
  rule({ allowedMethods: ["GET", "HEAD"] }),
]);

function preflight(origin?: string, method?: string, headers?: string): Headers {
  const h = new Headers();
  if (origin !== undefined) h.set("origin", origin);
  if (method !== undefined) h.set("access-control-request-method", method);
  if (headers !== undefined) h.set("access-control-request-headers", headers);
  return h;
}

Deno.test("preflightHeaders: the matching rule's headers, in AWS's order", () => {
  const h = preflightHeaders(
    SITE,
    preflight("https://example.com", "PUT", "Content-Type,X-Amz-Date"),
    "OBJECT",
  );
  assert.deepStrictEqual(Object.entries(h), [
    ["access-control-allow-origin", "https://example.com"],
    ["access-control-allow-methods", "GET, PUT, DELETE"],
    ["access-control-allow-headers", "content-type, x-amz-date"],
    ["access-control-expose-headers", "ETag, x-amz-request-id"],
    ["access-control-max-age", "3000"],
    ["access-control-allow-credentials", "true"],
    ["vary", VARY],
  ]);
  // The literal * answers * and never allows credentials.
  assert.deepStrictEqual(
    preflightHeaders(SITE, preflight("https://other.test", "HEAD"), "BUCKET"),
    {
      "access-control-allow-origin": "*",
      "access-control-allow-methods": "GET, HEAD",
      "vary": VARY,
    },
  );
});

Deno.test("preflightHeaders: AWS's errors", () => {
  const noOrigin = "Insufficient information. Origin request header needed.";
  assert.deepStrictEqual(
    s3Error(() => preflightHeaders(SITE, preflight(undefined, "GET"), "OBJECT")),
    {
      code: "BadRequest",
      message: noOrigin,
      fields: {},
    },
  );
  assert.deepStrictEqual(
    s3Error(() => preflightHeaders(null, preflight("", "GET"), "OBJECT")).message,
    noOrigin,
  );
  assert.deepStrictEqual(
    s3Error(() => preflightHeaders(SITE, preflight("https://example.com"), "OBJECT")).message,
    "Invalid Access-Control-Request-Method: null",
  );
  assert.deepStrictEqual(
    s3Error(() => preflightHeaders(null, preflight("https://example.com", "PATCH"), "OBJECT")),
    { code: "BadRequest", message: "Invalid Access-Control-Request-Method: PATCH", fields: {} },
  );
  assert.deepStrictEqual(
    s3Error(() => preflightHeaders(null, preflight("https://example.com", "GET"), "BUCKET")),
    {
      code: "AccessForbidden",
      message: "CORSResponse: CORS is not enabled for this bucket.",
      fields: { Method: "GET", ResourceType: "BUCKET" },
    },
  );
  const refused = s3Error(() =>
    preflightHeaders(SITE, preflight("https://example.com", "PUT", "authorization"), "OBJECT")
  );
  assert.deepStrictEqual(refused.code, "AccessForbidden");
  assert.deepStrictEqual(refused.fields, { Method: "PUT", ResourceType: "OBJECT" });
  assert.deepStrictEqual(
    refused.message,
    "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
  );
});

Deno.test("actualRequestHeaders: the first matching rule, headers not considered; none otherwise", () => {
  assert.deepStrictEqual(actualRequestHeaders(SITE, "https://app.example.com", "DELETE"), {
    "access-control-allow-origin": "https://app.example.com",
    "access-control-allow-methods": "GET, PUT, DELETE",
    "access-control-expose-headers": "ETag, x-amz-request-id",
    "access-control-max-age": "3000",
    "access-control-allow-credentials": "true",
    "vary": VARY,
  });
  assert.deepStrictEqual(
    actualRequestHeaders(SITE, "https://other.test", "HEAD")?.["access-control-allow-origin"],
    "*",
  );
  assert.deepStrictEqual(actualRequestHeaders(SITE, "https://other.test", "PUT"), null);
  assert.deepStrictEqual(actualRequestHeaders(SITE, "https://example.com", "OPTIONS"), null);
  assert.deepStrictEqual(actualRequestHeaders(null, "https://example.com", "GET"), null);
});
