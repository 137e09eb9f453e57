/** Alert mail through a real SMTP server on loopback (aiosmtpd): plain + AUTH, STARTTLS, errors. */
import { assert, assertEquals, assertRejects } from "../../../tests/_helpers/assert.ts";
import { findProgram, needs } from "../../../tests/_helpers/programs.ts";
import { freePort, startSmtpServer } from "../../../tests/_helpers/smtp.ts";
import { makeCa, makeServerCert } from "../../../tests/_helpers/tls.ts";
import { alertMail, type EmailSettings, sendMail } from "./mailer.ts";

const aiosmtpd = await findProgram("aiosmtpd");
const openssl = await findProgram("openssl");

const base = (port: number): EmailSettings => ({
  enabled: true,
  host: "127.0.0.1",
  port,
  security: "none",
  username: "",
  password: "",
  from: "maxiofs@example.test",
  to: ["ops@example.test", "oncall@example.test"],
});

const notice = {
  kind: "raised" as const,
  alert: {
    id: 1,
    key: "disk",
    tenantId: null,
    level: "critical" as const,
    title: "Data disk 93% full",
    detail: "1.0 GiB free of 14.0 GiB",
    raisedAt: Date.UTC(2026, 11, 7, 12),
    updatedAt: Date.UTC(2026, 11, 7, 12),
    resolvedAt: null,
    readAt: null,
  },
};

Deno.test(needs(aiosmtpd, {
  name: "alert mail: plain SMTP with AUTH reaches every recipient; a wrong password is named",
  fn: async () => {
    const smtp = await startSmtpServer(aiosmtpd, { user: "alerts", password: "s3cret" });
    try {
      const s = { ...base(smtp.port), username: "alerts", password: "s3cret" };
      await sendMail(s, alertMail(notice, "maxiofs.test:9000"));
      const [m] = await smtp.waitFor(1);
      assertEquals(m.from, "maxiofs@example.test");
      assertEquals(m.to, ["ops@example.test", "oncall@example.test"]);
      assert(m.authenticated, "authenticated with AUTH");
      assert(m.data.includes("Subject: [MaxIOFS CRITICAL] Data disk 93% full"), m.data);
      assert(m.data.includes("1.0 GiB free of 14.0 GiB"), m.data);
      const err = await assertRejects(() =>
        sendMail({ ...s, password: "wrong" }, {
          subject: "x",
          text: "y",
        })
      );
      assert((err as Error).message.startsWith("SMTP authentication failed"), String(err));
      assertEquals((await smtp.received()).length, 1, "nothing sent with the wrong password");
    } finally {
      await smtp.stop();
    }
  },
}));

Deno.test(needs([aiosmtpd, openssl], {
  name: "alert mail: STARTTLS required by the server, with its certificate checked",
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "maxiofs-smtp-tls-" });
    const ca = await makeCa(openssl.path, dir);
    const c = await makeServerCert(openssl.path, ca, "smtp");
    const smtp = await startSmtpServer(aiosmtpd, {
      mode: "starttls",
      cert: c.certFile,
      key: c.keyFile,
    });
    try {
      const s: EmailSettings = { ...base(smtp.port), security: "starttls" };
      const err = await assertRejects(() => sendMail(s, { subject: "a", text: "b" }));
      assert((err as Error).message.startsWith("TLS with SMTP server"), String(err));
      await sendMail({ ...s, tlsVerify: false }, { subject: "over tls", text: "b" });
      const [m] = await smtp.waitFor(1);
      assert(m.tls, "the message came over TLS");
      assert(m.data.includes("Subject: over tls"));
    } finally {
      await smtp.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
}));

Deno.test("alert mail: a closed port is named as refused", async () => {
  const err = await assertRejects(() => sendMail(base(freePort()), { subject: "a", text: "b" }));
  assert(/refused the connection/.test((err as Error).message), String(err));
});

Deno.test("alert mail: the recovery notice says so", () => {
  const m = alertMail({
    kind: "resolved",
    alert: { ...notice.alert, resolvedAt: Date.UTC(2026, 11, 7, 13) },
  }, "s");
  assertEquals(m.subject, "[MaxIOFS RESOLVED] Data disk 93% full");
  assert(m.text.startsWith("Recovered: Data disk 93% full"));
  assert(m.text.includes("Resolved: 2026-12-07T13:00:00.000Z"));
});
