/**
 * Alert mail over SMTP with nodemailer (a well-kept client: STARTTLS, implicit TLS, AUTH), from
 * the `email` settings read at each send, so a settings change applies to the next mail. Errors
 * are turned into one line naming the cause (refused, timed out, TLS, authentication, rejected
 * recipient) for the settings page's Test button and the log.
 */
// @ts-types="@types/nodemailer"
import nodemailer from "nodemailer";
import type { AlertNotice } from "./center.ts";
import type { EmailSettings as SettingsEmail } from "../../iam/settings.ts";

/**
 * The `email` settings category (the password opened), and whether to verify the server's
 * certificate (off only for a private CA the system does not know; on when absent).
 */
export type EmailSettings = SettingsEmail & { tlsVerify?: boolean };

export interface MailMessage {
  subject: string;
  text: string;
}

/** Seconds a connection, greeting or reply may take before the send fails. */
const TIMEOUT_MS = 10_000;

/** What went wrong with a send, in the operator's terms. */
export function mailErrorText(e: unknown, s: Pick<EmailSettings, "host" | "port">): string {
  const err = e as { code?: string; message?: string; responseCode?: number; response?: string };
  const where = `${s.host}:${s.port}`;
  const msg = err.message ?? String(e);
  if (/ECONNREFUSED/.test(msg)) return `SMTP server ${where} refused the connection`;
  if (/ENOTFOUND|EAI_AGAIN/.test(msg)) return `SMTP host ${s.host} was not found`;
  if (err.code === "ETIMEDOUT" || /timeout/i.test(msg)) {
    return `SMTP server ${where} did not answer in time`;
  }
  if (err.code === "EAUTH") return `SMTP authentication failed at ${where}: ${err.response ?? msg}`;
  if (err.code === "EENVELOPE") {
    return `SMTP server ${where} refused the sender or a recipient: ${msg}`;
  }
  if (err.code === "ETLS" || /certificate|SSL|TLS/i.test(msg)) {
    return `TLS with SMTP server ${where} failed: ${msg}`;
  }
  if (err.responseCode) return `SMTP server ${where} answered ${err.responseCode}: ${msg}`;
  return `sending through ${where} failed: ${msg}`;
}

/** Sends one message with the given settings; throws an Error whose message is `mailErrorText`. */
export async function sendMail(s: EmailSettings, m: MailMessage): Promise<void> {
  if (!s.host) throw new Error("no SMTP host is set");
  if (!s.to.length) throw new Error("no recipient is set");
  const transport = nodemailer.createTransport({
    host: s.host,
    port: s.port,
    secure: s.security === "tls",
    requireTLS: s.security === "starttls",
    ignoreTLS: s.security === "none",
    auth: s.username ? { user: s.username, pass: s.password } : undefined,
    connectionTimeout: TIMEOUT_MS,
    greetingTimeout: TIMEOUT_MS,
    socketTimeout: TIMEOUT_MS,
    tls: { rejectUnauthorized: s.tlsVerify ?? true },
  });
  try {
    await transport.sendMail({ from: s.from, to: s.to, subject: m.subject, text: m.text });
  } catch (e) {
    throw new Error(mailErrorText(e, s));
  } finally {
    transport.close();
  }
}

const VERB = {
  raised: "Alert",
  escalated: "Alert (now critical)",
  eased: "Alert (now a warning)",
  resolved: "Recovered",
} as const;

/** The mail of an alert change: subject and a plain-text body an operator can act on. */
export function alertMail(n: AlertNotice, server: string): MailMessage {
  const a = n.alert;
  const when = (t: number) => new Date(t).toISOString();
  const lines = [
    `${VERB[n.kind]}: ${a.title}`,
    "",
    a.detail,
    "",
    `Level: ${a.level}`,
    `Raised: ${when(a.raisedAt)}`,
    ...(a.resolvedAt ? [`Resolved: ${when(a.resolvedAt)}`] : []),
    `Server: ${server}`,
    "",
    "The console's alert list (the bell) shows every alert and its history.",
  ];
  const tag = n.kind === "resolved" ? "RESOLVED" : a.level.toUpperCase();
  return { subject: `[MaxIOFS ${tag}] ${a.title}`, text: lines.join("\n") };
}
