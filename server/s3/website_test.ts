import { assertEquals } from "../../tests/_helpers/assert.ts";
import { S3Error } from "./errors.ts";
import {
  matchRoutingRule,
  parseWebsiteConfiguration,
  redirectAllLocation,
  routingRedirect,
  type WebsiteConfig,
  websiteKeyOf,
  websiteXml,
} from "./website.ts";
import { websiteSiteOf } from "./website_serve.ts";

const doc = (inner: string) =>
  `<WebsiteConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${inner}</WebsiteConfiguration>`;

/** The code and message a document is refused with. */
function refused(inner: string): [string, string] {
  try {
    parseWebsiteConfiguration(doc(inner));
  } catch (e) {
    if (e instanceof S3Error) return [e.code, e.message];
    throw e;
  }
  throw new Error("accepted");
}

const INDEX = "<IndexDocument><Suffix>index.html</Suffix></IndexDocument>";
const rules = (...r: string[]) => `${INDEX}<RoutingRules>${r.join("")}</RoutingRules>`;

Deno.test("website: a full configuration parses and is answered back in AWS's form", () => {
  const cfg = parseWebsiteConfiguration(doc(
    `${INDEX}<ErrorDocument><Key>err/404.html</Key></ErrorDocument><RoutingRules>` +
      "<RoutingRule><Condition><KeyPrefixEquals>docs/</KeyPrefixEquals></Condition>" +
      "<Redirect><ReplaceKeyPrefixWith>documents/</ReplaceKeyPrefixWith></Redirect></RoutingRule>" +
      "<RoutingRule><Condition><HttpErrorCodeReturnedEquals>404</HttpErrorCodeReturnedEquals>" +
      "</Condition><Redirect><HostName>example.com</HostName><Protocol>https</Protocol>" +
      "<ReplaceKeyWith>missing.html</ReplaceKeyWith><HttpRedirectCode>302</HttpRedirectCode>" +
      "</Redirect></RoutingRule></RoutingRules>",
  ));
  assertEquals(cfg, {
    v: 1,
    indexSuffix: "index.html",
    errorKey: "err/404.html",
    rules: [
      { condition: { keyPrefixEquals: "docs/" }, redirect: { replaceKeyPrefixWith: "documents/" } },
      {
        condition: { httpErrorCodeReturnedEquals: "404" },
        redirect: {
          hostName: "example.com",
          protocol: "https",
          replaceKeyWith: "missing.html",
          httpRedirectCode: "302",
        },
      },
    ],
  });
  // The answer parses to the same configuration.
  const xml = websiteXml(cfg);
  assertEquals(parseWebsiteConfiguration(xml), cfg);
  const all = parseWebsiteConfiguration(
    doc("<RedirectAllRequestsTo><HostName>example.com</HostName></RedirectAllRequestsTo>"),
  );
  assertEquals(all, { v: 1, redirectAll: { hostName: "example.com" } });
  assertEquals(parseWebsiteConfiguration(websiteXml(all)), all);
});

Deno.test("website: bad documents get AWS's errors", () => {
  assertEquals(refused(""), [
    "InvalidArgument",
    "A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty",
  ]);
  assertEquals(refused("<IndexDocument><Suffix>a/index.html</Suffix></IndexDocument>"), [
    "InvalidArgument",
    "The IndexDocument Suffix is not well formed",
  ]);
  assertEquals(refused("<IndexDocument><Suffix></Suffix></IndexDocument>")[0], "InvalidArgument");
  assertEquals(refused("<IndexDocument></IndexDocument>")[0], "MalformedXML");
  assertEquals(
    refused(`${INDEX}<RedirectAllRequestsTo><HostName>x</HostName></RedirectAllRequestsTo>`),
    [
      "InvalidArgument",
      "RedirectAllRequestsTo cannot be provided in conjunction with other Routing Rules.",
    ],
  );
  assertEquals(refused("<RedirectAllRequestsTo></RedirectAllRequestsTo>")[0], "MalformedXML");
  assertEquals(
    refused(
      "<RedirectAllRequestsTo><HostName>x</HostName><Protocol>ftp</Protocol></RedirectAllRequestsTo>",
    ),
    [
      "InvalidRequest",
      "Invalid protocol, protocol can be http or https. If not defined the protocol will be selected automatically.",
    ],
  );
  assertEquals(refused(`${INDEX}<ErrorDocument></ErrorDocument>`)[0], "MalformedXML");
  assertEquals(refused(`${INDEX}<Unknown/>`)[0], "MalformedXML");
  assertEquals(refused(`${INDEX}${INDEX}`)[0], "MalformedXML");
  assertEquals(refused(rules())[0], "MalformedXML");
  assertEquals(refused(rules("<RoutingRule></RoutingRule>"))[0], "MalformedXML");
  const redirect = (inner: string) => `<RoutingRule><Redirect>${inner}</Redirect></RoutingRule>`;
  assertEquals(
    refused(rules(...Array(51).fill(redirect("<HostName>x</HostName>")))),
    [
      "InvalidRequest",
      "51 routing rules provided, the number of routing rules in a website configuration is limited to 50.",
    ],
  );
  assertEquals(refused(rules(redirect("<HttpRedirectCode>300</HttpRedirectCode>"))), [
    "InvalidRequest",
    "The provided HTTP redirect code (300) is not valid. Valid codes are 3XX except 300.",
  ]);
  assertEquals(
    refused(
      rules(
        redirect(
          "<ReplaceKeyWith>a</ReplaceKeyWith><ReplaceKeyPrefixWith>b/</ReplaceKeyPrefixWith>",
        ),
      ),
    ),
    ["InvalidRequest", "You can only define ReplaceKeyPrefix or ReplaceKey but not both."],
  );
  assertEquals(
    refused(rules("<RoutingRule><Condition></Condition><Redirect></Redirect></RoutingRule>"))[0],
    "InvalidRequest",
  );
  assertEquals(
    refused(rules(
      "<RoutingRule><Condition><HttpErrorCodeReturnedEquals>302</HttpErrorCodeReturnedEquals>" +
        "</Condition><Redirect><HostName>x</HostName></Redirect></RoutingRule>",
    )),
    [
      "InvalidRequest",
      "The provided HTTP error code (302) is not valid. Valid codes are 4XX or 5XX.",
    ],
  );
  const otherRoot = (() => {
    try {
      parseWebsiteConfiguration("<CORSConfiguration/>");
    } catch (e) {
      return (e as S3Error).code;
    }
  })();
  assertEquals(otherRoot, "MalformedXML");
});

Deno.test("website: paths map to keys, the index document for / and dir/", () => {
  assertEquals(websiteKeyOf("/", "index.html"), "index.html");
  assertEquals(websiteKeyOf("/docs/", "index.html"), "docs/index.html");
  assertEquals(websiteKeyOf("/docs/a.html", "index.html"), "docs/a.html");
  assertEquals(websiteKeyOf("/docs", "index.html"), "docs");
});

Deno.test("website: routing rules match and redirect as AWS's examples say", () => {
  const cfg: WebsiteConfig = parseWebsiteConfiguration(doc(rules(
    "<RoutingRule><Condition><KeyPrefixEquals>docs/</KeyPrefixEquals></Condition>" +
      "<Redirect><ReplaceKeyPrefixWith>documents/</ReplaceKeyPrefixWith></Redirect></RoutingRule>",
    "<RoutingRule><Condition><KeyPrefixEquals>images/</KeyPrefixEquals></Condition>" +
      "<Redirect><ReplaceKeyWith>folderdeleted.html</ReplaceKeyWith>" +
      "<HttpRedirectCode>307</HttpRedirectCode></Redirect></RoutingRule>",
    "<RoutingRule><Condition><HttpErrorCodeReturnedEquals>404</HttpErrorCodeReturnedEquals>" +
      "</Condition><Redirect><HostName>ec2.example</HostName>" +
      "<ReplaceKeyPrefixWith>report-404/</ReplaceKeyPrefixWith></Redirect></RoutingRule>",
  )));
  const origin = { protocol: "http" as const, host: "site.web.example:8080" };
  const go = (key: string, status: number | null) => {
    const rule = matchRoutingRule(cfg.rules, key, status);
    return rule && routingRedirect(rule, key, origin);
  };
  assertEquals(go("docs/x y.html", null), {
    status: 301,
    location: "http://site.web.example:8080/documents/x%20y.html",
  });
  assertEquals(go("images/a.png", null), {
    status: 307,
    location: "http://site.web.example:8080/folderdeleted.html",
  });
  assertEquals(go("other", null), null);
  assertEquals(go("other", 403), null);
  assertEquals(go("x", 404), { status: 301, location: "http://ec2.example/report-404/x" });
  assertEquals(
    redirectAllLocation({ hostName: "new.example", protocol: "https" }, "/a/b", origin),
    "https://new.example/a/b",
  );
});

Deno.test("website: the site is what comes before the website domain, port ignored", () => {
  assertEquals(websiteSiteOf("blog.web.example", "web.example"), "blog");
  assertEquals(websiteSiteOf("blog.acme.web.example:8080", "web.example"), "blog.acme");
  assertEquals(websiteSiteOf("blog.web.example.", "web.example"), "blog");
  assertEquals(websiteSiteOf("web.example", "web.example"), null);
  assertEquals(websiteSiteOf("blogweb.example", "web.example"), null);
  assertEquals(websiteSiteOf("s3.example", "web.example"), null);
});
