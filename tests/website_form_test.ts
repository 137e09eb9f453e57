/** The console's website form (islands/lib/website_xml.ts) against the server's own parser. */
import { assertEquals } from "./_helpers/assert.ts";
import { parseWebsiteConfiguration } from "../server/s3/website.ts";
import {
  EMPTY_WEBSITE,
  indentXml,
  parseWebsite,
  ROUTING_RULES_SAMPLE,
  websiteXml,
} from "../islands/lib/website_xml.ts";

const documentOf = (r: ReturnType<typeof websiteXml>) => {
  if ("problem" in r) throw new Error(r.problem);
  return r.xml;
};

Deno.test("website form: what the console sends, the server accepts as meant", () => {
  const site = documentOf(websiteXml({
    ...EMPTY_WEBSITE,
    errorKey: "errors/4xx & more.html",
    routingRules: ROUTING_RULES_SAMPLE,
  }));
  const cfg = parseWebsiteConfiguration(site);
  assertEquals(cfg.indexSuffix, "index.html");
  assertEquals(cfg.errorKey, "errors/4xx & more.html");
  assertEquals(cfg.rules, [
    { condition: { keyPrefixEquals: "docs/" }, redirect: { replaceKeyPrefixWith: "documents/" } },
  ]);
  const redirect = documentOf(websiteXml({
    ...EMPTY_WEBSITE,
    mode: "redirect",
    redirectHost: " example.com ",
    redirectProtocol: "https",
  }));
  assertEquals(parseWebsiteConfiguration(redirect).redirectAll, {
    hostName: "example.com",
    protocol: "https",
  });
});

Deno.test("website form: GetBucketWebsite's answer reads back into the form", () => {
  const answer = '<?xml version="1.0" encoding="UTF-8"?>\n<WebsiteConfiguration ' +
    'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><IndexDocument><Suffix>home.html</Suffix>' +
    "</IndexDocument><ErrorDocument><Key>404.html</Key></ErrorDocument><RoutingRules>" +
    "<RoutingRule><Condition><KeyPrefixEquals>docs/</KeyPrefixEquals></Condition><Redirect>" +
    "<ReplaceKeyPrefixWith>documents/</ReplaceKeyPrefixWith></Redirect></RoutingRule>" +
    "</RoutingRules></WebsiteConfiguration>";
  assertEquals(parseWebsite(answer), {
    ...EMPTY_WEBSITE,
    indexSuffix: "home.html",
    errorKey: "404.html",
    routingRules: ROUTING_RULES_SAMPLE,
  });
  const all = "<WebsiteConfiguration><RedirectAllRequestsTo><HostName>x.example</HostName>" +
    "</RedirectAllRequestsTo></WebsiteConfiguration>";
  assertEquals(parseWebsite(all).mode, "redirect");
  assertEquals(parseWebsite(all).redirectHost, "x.example");
  assertEquals(parseWebsite(all).redirectProtocol, "");
});

Deno.test("website form: what cannot be a document is said before it is sent", () => {
  assertEquals("problem" in websiteXml({ ...EMPTY_WEBSITE, indexSuffix: "" }), true);
  assertEquals("problem" in websiteXml({ ...EMPTY_WEBSITE, routingRules: "<RoutingRule/>" }), true);
  assertEquals("problem" in websiteXml({ ...EMPTY_WEBSITE, mode: "redirect" }), true);
  assertEquals(indentXml("<a><b>t</b><c/></a>"), "<a>\n  <b>t</b>\n  <c/>\n</a>");
});
