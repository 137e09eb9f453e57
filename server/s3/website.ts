/**
 * A bucket's static website as S3 defines it: the `WebsiteConfiguration` document of
 * PutBucketWebsite (parsed and validated whole, with AWS's errors, into the form stored as the
 * bucket configuration `website`), the document GetBucketWebsite answers, and the routing
 * decisions the website endpoint takes from it (website_serve.ts): which key a path names,
 * which rule redirects a request, and where to.
 */
import { S3Error } from "./errors.ts";
import { buildXml, parseXmlDocument, type XmlNode, type XmlObject } from "./xml.ts";

/** Bucket configuration kind of the stored website (Backend `getBucketConfig`). */
export const WEBSITE_CONFIG = "website";

/** AWS's limit on the routing rules of one configuration. */
export const MAX_ROUTING_RULES = 50;

export type WebsiteProtocol = "http" | "https";

export interface RedirectAll {
  hostName: string;
  protocol?: WebsiteProtocol;
}

export interface RoutingCondition {
  keyPrefixEquals?: string;
  /** A 4XX or 5XX status, as sent. */
  httpErrorCodeReturnedEquals?: string;
}

export interface RoutingRedirect {
  hostName?: string;
  protocol?: WebsiteProtocol;
  replaceKeyPrefixWith?: string;
  replaceKeyWith?: string;
  /** A 3XX status other than 300, as sent (301 when absent). */
  httpRedirectCode?: string;
}

export interface RoutingRule {
  condition?: RoutingCondition;
  redirect: RoutingRedirect;
}

/**
 * What a bucket stores: either `redirectAll` alone, or an index document suffix with an optional
 * error document and routing rules (values as sent: GetBucketWebsite answers them unchanged).
 */
export interface WebsiteConfig {
  v: 1;
  redirectAll?: RedirectAll;
  indexSuffix?: string;
  errorKey?: string;
  rules?: RoutingRule[];
}

const malformed = () => new S3Error("MalformedXML");
const invalidRequest = (message: string) => new S3Error("InvalidRequest", { message });
const invalidArgument = (message: string, name: string, value: string) =>
  new S3Error("InvalidArgument", { message, fields: { ArgumentName: name, ArgumentValue: value } });

const INVALID_PROTOCOL =
  "Invalid protocol, protocol can be http or https. If not defined the protocol will be selected automatically.";

/**
 * The children of `node` by name, each at most once and only those in `allowed`; text between
 * elements is refused (`MalformedXML`).
 */
function fieldsOf(node: XmlNode, allowed: readonly string[]): Map<string, XmlNode> {
  if (node.text.trim() !== "") throw malformed();
  const out = new Map<string, XmlNode>();
  for (const c of node.children) {
    if (!allowed.includes(c.name) || out.has(c.name)) throw malformed();
    out.set(c.name, c);
  }
  return out;
}

/** The text of a leaf element (one with element children is `MalformedXML`). */
function leaf(node: XmlNode | undefined): string | undefined {
  if (!node) return undefined;
  if (node.children.length > 0) throw malformed();
  return node.text;
}

function protocolOf(value: string | undefined): WebsiteProtocol | undefined {
  if (value === undefined) return undefined;
  if (value !== "http" && value !== "https") throw invalidRequest(INVALID_PROTOCOL);
  return value;
}

/** Parses and validates a PutBucketWebsite body; throws the S3 error AWS answers. */
export function parseWebsiteConfiguration(text: string): WebsiteConfig {
  const doc = parseXmlDocument(text, "WebsiteConfiguration");
  const f = fieldsOf(doc, [
    "RedirectAllRequestsTo",
    "IndexDocument",
    "ErrorDocument",
    "RoutingRules",
  ]);
  const all = f.get("RedirectAllRequestsTo");
  if (all) {
    if (f.size > 1) {
      throw invalidArgument(
        "RedirectAllRequestsTo cannot be provided in conjunction with other Routing Rules.",
        "RedirectAllRequestsTo",
        "not null",
      );
    }
    const a = fieldsOf(all, ["HostName", "Protocol"]);
    const hostName = leaf(a.get("HostName"));
    if (hostName === undefined) throw malformed();
    if (hostName.trim() === "") {
      throw invalidRequest(
        'A host name must be provided to redirect all requests (e.g. "example.com").',
      );
    }
    const protocol = protocolOf(leaf(a.get("Protocol")));
    return { v: 1, redirectAll: { hostName, ...(protocol ? { protocol } : {}) } };
  }
  const index = f.get("IndexDocument");
  if (!index) {
    throw invalidArgument(
      "A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty",
      "IndexDocument",
      "null",
    );
  }
  const suffix = leaf(fieldsOf(index, ["Suffix"]).get("Suffix"));
  if (suffix === undefined) throw malformed();
  if (suffix === "" || suffix.includes("/")) {
    throw invalidArgument("The IndexDocument Suffix is not well formed", "IndexDocument", suffix);
  }
  const cfg: WebsiteConfig = { v: 1, indexSuffix: suffix };
  const error = f.get("ErrorDocument");
  if (error) {
    const key = leaf(fieldsOf(error, ["Key"]).get("Key"));
    if (key === undefined) throw malformed();
    if (key === "") {
      throw invalidArgument("The ErrorDocument Key is not well formed", "ErrorDocument", key);
    }
    cfg.errorKey = key;
  }
  const rules = f.get("RoutingRules");
  if (rules) cfg.rules = parseRoutingRules(rules);
  return cfg;
}

function parseRoutingRules(node: XmlNode): RoutingRule[] {
  if (node.text.trim() !== "") throw malformed();
  if (node.children.some((c) => c.name !== "RoutingRule")) throw malformed();
  if (node.children.length === 0) throw malformed();
  if (node.children.length > MAX_ROUTING_RULES) {
    throw invalidRequest(
      `${node.children.length} routing rules provided, the number of routing rules in a website configuration is limited to ${MAX_ROUTING_RULES}.`,
    );
  }
  return node.children.map(parseRoutingRule);
}

function parseRoutingRule(node: XmlNode): RoutingRule {
  const f = fieldsOf(node, ["Condition", "Redirect"]);
  const redirectNode = f.get("Redirect");
  if (!redirectNode) throw malformed();
  const rule: RoutingRule = { redirect: parseRedirect(redirectNode) };
  const conditionNode = f.get("Condition");
  if (conditionNode) {
    const c = fieldsOf(conditionNode, ["KeyPrefixEquals", "HttpErrorCodeReturnedEquals"]);
    const keyPrefixEquals = leaf(c.get("KeyPrefixEquals"));
    const code = leaf(c.get("HttpErrorCodeReturnedEquals"));
    if (keyPrefixEquals === undefined && code === undefined) {
      throw invalidRequest(
        "Condition cannot be empty. To redirect all requests without a condition, the condition element shouldn't be present.",
      );
    }
    if (code !== undefined) {
      const n = statusOf(code);
      if (n < 400 || n > 599) {
        throw invalidRequest(
          `The provided HTTP error code (${code}) is not valid. Valid codes are 4XX or 5XX.`,
        );
      }
    }
    rule.condition = {
      ...(keyPrefixEquals !== undefined ? { keyPrefixEquals } : {}),
      ...(code !== undefined ? { httpErrorCodeReturnedEquals: code } : {}),
    };
  }
  return rule;
}

function parseRedirect(node: XmlNode): RoutingRedirect {
  const f = fieldsOf(node, [
    "HostName",
    "Protocol",
    "ReplaceKeyPrefixWith",
    "ReplaceKeyWith",
    "HttpRedirectCode",
  ]);
  const r: RoutingRedirect = {};
  const hostName = leaf(f.get("HostName"));
  if (hostName !== undefined) r.hostName = hostName;
  const protocol = protocolOf(leaf(f.get("Protocol")));
  if (protocol) r.protocol = protocol;
  const prefix = leaf(f.get("ReplaceKeyPrefixWith"));
  const key = leaf(f.get("ReplaceKeyWith"));
  if (prefix !== undefined && key !== undefined) {
    throw invalidRequest("You can only define ReplaceKeyPrefix or ReplaceKey but not both.");
  }
  if (prefix !== undefined) r.replaceKeyPrefixWith = prefix;
  if (key !== undefined) r.replaceKeyWith = key;
  const code = leaf(f.get("HttpRedirectCode"));
  if (code !== undefined) {
    const n = statusOf(code);
    if (n < 301 || n > 399) {
      throw invalidRequest(
        `The provided HTTP redirect code (${code}) is not valid. Valid codes are 3XX except 300.`,
      );
    }
    r.httpRedirectCode = code;
  }
  return r;
}

/** A status code as a configuration states it: digits only, else `MalformedXML`. */
function statusOf(text: string): number {
  if (!/^\d{1,3}$/.test(text)) throw malformed();
  return Number(text);
}

/** The GetBucketWebsite document of a stored configuration. */
export function websiteXml(cfg: WebsiteConfig): string {
  const body: XmlObject = {};
  if (cfg.redirectAll) {
    body.RedirectAllRequestsTo = {
      HostName: cfg.redirectAll.hostName,
      Protocol: cfg.redirectAll.protocol,
    };
  }
  if (cfg.indexSuffix !== undefined) body.IndexDocument = { Suffix: cfg.indexSuffix };
  if (cfg.errorKey !== undefined) body.ErrorDocument = { Key: cfg.errorKey };
  if (cfg.rules) {
    body.RoutingRules = {
      RoutingRule: cfg.rules.map((r) => ({
        Condition: r.condition
          ? {
            KeyPrefixEquals: r.condition.keyPrefixEquals,
            HttpErrorCodeReturnedEquals: r.condition.httpErrorCodeReturnedEquals,
          }
          : undefined,
        Redirect: {
          Protocol: r.redirect.protocol,
          HostName: r.redirect.hostName,
          ReplaceKeyPrefixWith: r.redirect.replaceKeyPrefixWith,
          ReplaceKeyWith: r.redirect.replaceKeyWith,
          HttpRedirectCode: r.redirect.httpRedirectCode,
        },
      })),
    };
  }
  return buildXml("WebsiteConfiguration", body);
}

/**
 * The key a website path names: the path without its leading slash, with the index document
 * appended to `/` and to every path that ends in a slash.
 */
export function websiteKeyOf(path: string, indexSuffix: string): string {
  const key = path.startsWith("/") ? path.slice(1) : path;
  return key === "" || key.endsWith("/") ? key + indexSuffix : key;
}

/**
 * The first rule that redirects a request for `key` (the path's key, before the index document
 * is appended), before the object is read (`status` null: only rules without an error code
 * condition) or after it failed with `status`.
 */
export function matchRoutingRule(
  rules: readonly RoutingRule[] | undefined,
  key: string,
  status: number | null,
): RoutingRule | null {
  for (const rule of rules ?? []) {
    const c = rule.condition;
    const code = c?.httpErrorCodeReturnedEquals;
    if (status === null ? code !== undefined : code === undefined || Number(code) !== status) {
      continue;
    }
    if (c?.keyPrefixEquals !== undefined && !key.startsWith(c.keyPrefixEquals)) continue;
    return rule;
  }
  return null;
}

/** Where a request arrived: what a redirect keeps when the rule does not replace it. */
export interface RequestOrigin {
  protocol: WebsiteProtocol;
  /** The Host header as sent (port included). */
  host: string;
}

/** The status and Location of a routing rule's redirect of `key`. */
export function routingRedirect(
  rule: RoutingRule,
  key: string,
  origin: RequestOrigin,
): { status: number; location: string } {
  const r = rule.redirect;
  let target = key;
  if (r.replaceKeyWith !== undefined) target = r.replaceKeyWith;
  else if (r.replaceKeyPrefixWith !== undefined) {
    const prefix = rule.condition?.keyPrefixEquals ?? "";
    target = r.replaceKeyPrefixWith + key.slice(prefix.length);
  }
  const protocol = r.protocol ?? origin.protocol;
  const host = r.hostName ?? origin.host;
  return {
    status: r.httpRedirectCode ? Number(r.httpRedirectCode) : 301,
    location: `${protocol}://${host}/${encodeKeyPath(target)}`,
  };
}

/** The Location of RedirectAllRequestsTo for a request of `path` (the path kept as sent). */
export function redirectAllLocation(all: RedirectAll, rawPath: string, origin: RequestOrigin) {
  return `${all.protocol ?? origin.protocol}://${all.hostName}${rawPath || "/"}`;
}

/** A key as a URL path: each segment percent-encoded, the slashes kept. */
export function encodeKeyPath(key: string): string {
  return key.split("/").map(encodeURIComponent).join("/");
}
