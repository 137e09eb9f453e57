import { assertEquals } from "../../../tests/_helpers/assert.ts";
import type { RequestInfo } from "../../s3/context.ts";
import { LOG_FIELDS, logRecord, logTime, operationName, parseLogRecord } from "./format.ts";

function info(over: Partial<RequestInfo> = {}): RequestInfo {
  return {
    op: "GetObject",
    status: 206,
    durationMs: 12.4,
    bucket: "b",
    key: "dir/a b+c.txt",
    principal: { kind: "user", userId: "u-1", tenantId: null, isAdmin: false, displayName: "u" },
    requestId: "3E57427F3EXAMPLE",
    bytesIn: null,
    bytesOut: 100,
    errorCode: null,
    authFailed: false,
    req: new Request("http://s3.test/b/dir/a%20b%2Bc.txt?versionId=v9", {
      headers: {
        host: "s3.test",
        "user-agent": 'agent "x"',
        referer: "http://ref.example/",
      },
    }),
    client: { ip: "192.0.2.3", secure: false },
    authMethod: "v4-presigned",
    responseHeaders: new Headers({
      "content-range": "bytes 0-99/5000",
      "content-length": "100",
      "x-amz-version-id": "v9",
    }),
    ...over,
  };
}

Deno.test("the time field is AWS's bracketed form", () => {
  assertEquals(logTime(Date.UTC(2019, 1, 6, 0, 0, 38)), "[06/Feb/2019:00:00:38 +0000]");
});

Deno.test("operation names", () => {
  const q = (s: string) => new URLSearchParams(s);
  assertEquals(operationName("PutObject", "PUT", q("")), "REST.PUT.OBJECT");
  assertEquals(operationName("ListObjectsV2", "GET", q("list-type=2")), "REST.GET.BUCKET");
  assertEquals(operationName("GetBucketVersioning", "GET", q("versioning")), "REST.GET.VERSIONING");
  assertEquals(
    operationName("PutPublicAccessBlock", "PUT", q("publicAccessBlock")),
    "REST.PUT.PUBLIC_ACCESS_BLOCK",
  );
  assertEquals(
    operationName("DeleteObjects", "POST", q("delete")),
    "REST.POST.MULTI_OBJECT_DELETE",
  );
  assertEquals(operationName("GetBucketLogging", "GET", q("logging")), "REST.GET.LOGGING_STATUS");
});

Deno.test("a record has the AWS fields in order and parses back", () => {
  // The time is when the request arrived: 12.4 ms before it was answered.
  const now = Date.UTC(2019, 1, 6, 0, 0, 38, 20);
  const line = logRecord(info(), "owner-1", "b", now);
  assertEquals(
    line,
    "owner-1 b [06/Feb/2019:00:00:38 +0000] 192.0.2.3 u-1 3E57427F3EXAMPLE REST.GET.OBJECT " +
      'dir/a%20b%2Bc.txt "GET /b/dir/a%20b%2Bc.txt?versionId=v9 HTTP/1.1" 206 - 100 5000 12 - ' +
      '"http://ref.example/" "agent \\"x\\"" v9 3E57427F3EXAMPLE SigV4 - QueryString s3.test - - - -',
  );
  const r = parseLogRecord(line);
  assertEquals(Object.keys(r), [...LOG_FIELDS]);
  assertEquals(r.userAgent, 'agent "x"');
  assertEquals(r.requestUri, "GET /b/dir/a%20b%2Bc.txt?versionId=v9 HTTP/1.1");
  assertEquals(r.objectSize, "5000");
});

Deno.test("anonymous requests and errors write dashes", () => {
  const line = logRecord(
    info({
      op: "PutObject",
      status: 403,
      principal: null,
      authMethod: "anonymous",
      errorCode: "AccessDenied",
      bytesOut: 243,
      bytesIn: 5,
      responseHeaders: new Headers(),
      req: new Request("http://s3.test/b/k", { method: "PUT" }),
    }),
    "owner-1",
    "b",
    0,
  );
  const r = parseLogRecord(line);
  assertEquals(r.requester, "-");
  assertEquals(r.errorCode, "AccessDenied");
  assertEquals(r.objectSize, "-");
  assertEquals(r.signatureVersion, "-");
  assertEquals(r.authType, "-");
  assertEquals(r.referer, "-");
  assertEquals(r.userAgent, "-");
  assertEquals(r.versionId, "-");
});
