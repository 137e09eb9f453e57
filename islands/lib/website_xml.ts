/**
 * The WebsiteConfiguration document (Get/PutBucketWebsite) as the console's Website tab edits
 * it: index and error documents as fields, redirect-all as host and protocol, routing rules as
 * their XML (the `<RoutingRules>` element, which the server validates with AWS's errors).
 */
import { esc, tagText } from "./access_xml.ts";

const S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/";

export interface WebsiteForm {
  /** Serve the bucket's objects, or redirect every request to another host. */
  mode: "site" | "redirect";
  indexSuffix: string;
  errorKey: string;
  /** The `<RoutingRules>` element, indented; "" for none. */
  routingRules: string;
  redirectHost: string;
  /** "" lets the request's protocol stand. */
  redirectProtocol: "" | "http" | "https";
}

export const EMPTY_WEBSITE: WebsiteForm = {
  mode: "site",
  indexSuffix: "index.html",
  errorKey: "",
  routingRules: "",
  redirectHost: "",
  redirectProtocol: "",
};

/** An example for the routing rules field (AWS's own: docs/ moved to documents/). */
export const ROUTING_RULES_SAMPLE = `<RoutingRules>
  <RoutingRule>
    <Condition>
      <KeyPrefixEquals>docs/</KeyPrefixEquals>
    </Condition>
    <Redirect>
      <ReplaceKeyPrefixWith>documents/</ReplaceKeyPrefixWith>
    </Redirect>
  </RoutingRule>
</RoutingRules>`;

/** The form of a GetBucketWebsite document. */
export function parseWebsite(xml: string): WebsiteForm {
  if (xml.includes("<RedirectAllRequestsTo>")) {
    const protocol = tagText(xml, "Protocol");
    return {
      ...EMPTY_WEBSITE,
      mode: "redirect",
      indexSuffix: "",
      redirectHost: tagText(xml, "HostName"),
      redirectProtocol: protocol === "http" || protocol === "https" ? protocol : "",
    };
  }
  const rules = /<RoutingRules>[\s\S]*<\/RoutingRules>/.exec(xml)?.[0] ?? "";
  return {
    ...EMPTY_WEBSITE,
    indexSuffix: tagText(/<IndexDocument>[\s\S]*?<\/IndexDocument>/.exec(xml)?.[0] ?? "", "Suffix"),
    errorKey: tagText(/<ErrorDocument>[\s\S]*?<\/ErrorDocument>/.exec(xml)?.[0] ?? "", "Key"),
    routingRules: indentXml(rules),
  };
}

/**
 * The PutBucketWebsite document of a form, or the reason it cannot be one (the server checks
 * everything else and answers AWS's errors).
 */
export function websiteXml(f: WebsiteForm): { xml: string } | { problem: string } {
  const open = `<WebsiteConfiguration xmlns="${S3_NS}">`;
  if (f.mode === "redirect") {
    if (!f.redirectHost.trim()) return { problem: "Enter the host name to redirect to." };
    const protocol = f.redirectProtocol ? `<Protocol>${f.redirectProtocol}</Protocol>` : "";
    return {
      xml: `${open}<RedirectAllRequestsTo><HostName>${esc(f.redirectHost.trim())}</HostName>` +
        `${protocol}</RedirectAllRequestsTo></WebsiteConfiguration>`,
    };
  }
  if (!f.indexSuffix) return { problem: "Enter the index document (e.g. index.html)." };
  const rules = f.routingRules.trim();
  if (rules && !/^<RoutingRules>[\s\S]*<\/RoutingRules>$/.test(rules)) {
    return { problem: "Routing rules must be one <RoutingRules> element (or nothing)." };
  }
  const error = f.errorKey ? `<ErrorDocument><Key>${esc(f.errorKey)}</Key></ErrorDocument>` : "";
  return {
    xml: `${open}<IndexDocument><Suffix>${esc(f.indexSuffix)}</Suffix></IndexDocument>` +
      `${error}${rules}</WebsiteConfiguration>`,
  };
}

/** One element per line, two spaces per level; a text-only element stays on its line. */
export function indentXml(xml: string): string {
  const tokens = xml.match(/<[^>]+>|[^<]+/g) ?? [];
  const lines: string[] = [];
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.startsWith("</")) {
      depth--;
      lines.push("  ".repeat(depth) + t);
    } else if (t.startsWith("<") && !t.endsWith("/>")) {
      const text = tokens[i + 1];
      const close = tokens[i + 2];
      if (text !== undefined && !text.startsWith("<") && close?.startsWith("</")) {
        lines.push("  ".repeat(depth) + t + text + close);
        i += 2;
      } else {
        lines.push("  ".repeat(depth) + t);
        depth++;
      }
    } else if (t.trim()) {
      lines.push("  ".repeat(depth) + t.trim());
    }
  }
  return lines.join("\n");
}
