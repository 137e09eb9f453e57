/**
 * XML for the S3 wire format: a tiny builder for responses and a strict, small parser for
 * request bodies (DeleteObjects, CompleteMultipartUpload, configurations). DOCTYPE is refused.
 */
import { S3Error } from "./errors.ts";
import { readBodyBytes, readIntegrityCheckedBody, utf8Text } from "./body.ts";

export const S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/";

/** A value in the builder tree: scalars become text, arrays repeat the element, objects nest. */
export type XmlValue =
  | string
  | number
  | boolean
  | null
  | undefined
  | XmlObject
  | XmlValue[];
export interface XmlObject {
  [name: string]: XmlValue;
}

const NEEDS_ESCAPE = /[&<>"'\r]/;

export function escapeXml(s: string): string {
  // Most names and values need nothing: a test is cheaper than a replace with a callback.
  if (!NEEDS_ESCAPE.test(s)) return s;
  return s.replace(
    /[&<>"'\r]/g,
    (c) =>
      c === "&"
        ? "&amp;"
        : c === "<"
        ? "&lt;"
        : c === ">"
        ? "&gt;"
        : c === '"'
        ? "&quot;"
        : c === "'"
        ? "&apos;"
        : "&#13;",
  );
}

function emit(name: string, value: XmlValue, out: string[]): void {
  if (value === undefined) return;
  if (Array.isArray(value)) {
    for (const v of value) emit(name, v, out);
    return;
  }
  if (value === null) {
    out.push(`<${name}></${name}>`);
    return;
  }
  if (typeof value === "object") {
    out.push(`<${name}>`);
    for (const [k, v] of Object.entries(value)) emit(k, v, out);
    out.push(`</${name}>`);
    return;
  }
  out.push(`<${name}>${escapeXml(String(value))}</${name}>`);
}

/** Renders a document: `buildXml("ListBucketResult", {...})` with the S3 namespace. */
export function buildXml(root: string, body: XmlObject, opts: { ns?: string | null } = {}): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>\n'];
  const ns = opts.ns === undefined ? S3_NS : opts.ns;
  out.push(ns ? `<${root} xmlns="${ns}">` : `<${root}>`);
  for (const [k, v] of Object.entries(body)) emit(k, v, out);
  out.push(`</${root}>`);
  return out.join("");
}

/** Renders one element, without the XML declaration or a namespace (for `buildXmlWithTail`). */
export function buildElement(name: string, body: XmlObject): string {
  const out: string[] = [];
  emit(name, body, out);
  return out.join("");
}

/**
 * Renders `root` with `body` and then `tail` (already rendered elements, e.g. the entries of a
 * listing built directly for speed, or elements with attributes) as its last children.
 */
export function buildXmlWithTail(root: string, body: XmlObject, tail: string): string {
  const doc = buildXml(root, body);
  return doc.slice(0, -(root.length + 3)) + tail + `</${root}>`;
}

/** A parsed element: local name (namespace prefix dropped), attributes, children and text. */
export interface XmlNode {
  name: string;
  attrs: Record<string, string>;
  children: XmlNode[];
  text: string;
}

/** First child with this local name. */
export function child(node: XmlNode, name: string): XmlNode | undefined {
  return node.children.find((c) => c.name === name);
}

/** All children with this local name. */
export function children(node: XmlNode, name: string): XmlNode[] {
  return node.children.filter((c) => c.name === name);
}

/** Text of the first child with this name, or undefined. */
export function childText(node: XmlNode, name: string): string | undefined {
  return child(node, name)?.text;
}

function malformed(_reason: string): S3Error {
  return new S3Error("MalformedXML");
}

function decodeEntities(s: string): string {
  if (!s.includes("&")) return s;
  // Bare `&` is checked on the raw text: after decoding, `&amp;` is a legitimate `&`.
  if (/&(?!amp;|lt;|gt;|quot;|apos;|#[0-9]+;|#x[0-9a-fA-F]+;)/.test(s)) throw malformed("bare &");
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);?/g, (m, e: string) => {
    if (!m.endsWith(";")) throw malformed("unterminated entity");
    if (e === "amp") return "&";
    if (e === "lt") return "<";
    if (e === "gt") return ">";
    if (e === "quot") return '"';
    if (e === "apos") return "'";
    const cp = e.startsWith("#x") ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
    if (!isXmlChar(cp)) throw malformed("character reference to a non-character");
    return String.fromCodePoint(cp);
  });
}

/** XML 1.0 `Char`: tab, line feed, carriage return and the rest minus surrogates, FFFE, FFFF. */
function isXmlChar(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

function localName(qname: string): string {
  const i = qname.indexOf(":");
  return i >= 0 ? qname.slice(i + 1) : qname;
}

const NAME = /^[A-Za-z_][\w.\-:]*/;

/** Parses a whole document; throws `MalformedXML` on anything not well-formed. */
export function parseXml(input: string): XmlNode {
  let i = 0;
  const s = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  const skipWs = () => {
    while (i < s.length && /\s/.test(s[i])) i++;
  };
  const skipMisc = () => {
    for (;;) {
      skipWs();
      if (s.startsWith("<?", i)) {
        const end = s.indexOf("?>", i);
        if (end < 0) throw malformed("unterminated processing instruction");
        i = end + 2;
      } else if (s.startsWith("<!--", i)) {
        const end = s.indexOf("-->", i);
        if (end < 0) throw malformed("unterminated comment");
        i = end + 3;
      } else if (s.startsWith("<!", i) && !s.startsWith("<![CDATA[", i)) {
        throw malformed("DOCTYPE is not allowed");
      } else return;
    }
  };
  const parseElement = (depth: number): XmlNode => {
    if (depth > 64) throw malformed("nesting too deep");
    if (s[i] !== "<") throw malformed("expected element");
    i++;
    const m = NAME.exec(s.slice(i, i + 256));
    if (!m) throw malformed("bad element name");
    const qname = m[0];
    i += qname.length;
    const node: XmlNode = { name: localName(qname), attrs: {}, children: [], text: "" };
    for (;;) {
      skipWs();
      if (s.startsWith("/>", i)) {
        i += 2;
        return node;
      }
      if (s[i] === ">") {
        i++;
        break;
      }
      const am = NAME.exec(s.slice(i, i + 256));
      if (!am) throw malformed("bad attribute");
      i += am[0].length;
      skipWs();
      if (s[i] !== "=") throw malformed("expected =");
      i++;
      skipWs();
      const q = s[i];
      if (q !== '"' && q !== "'") throw malformed("expected quote");
      const end = s.indexOf(q, i + 1);
      if (end < 0) throw malformed("unterminated attribute");
      node.attrs[localName(am[0])] = decodeEntities(s.slice(i + 1, end));
      i = end + 1;
    }
    const text: string[] = [];
    for (;;) {
      if (i >= s.length) throw malformed(`unclosed <${qname}>`);
      if (s.startsWith("</", i)) {
        i += 2;
        if (!s.startsWith(qname, i)) throw malformed(`mismatched </${qname}>`);
        i += qname.length;
        skipWs();
        if (s[i] !== ">") throw malformed("expected >");
        i++;
        node.text = text.join("");
        return node;
      }
      if (s.startsWith("<![CDATA[", i)) {
        const end = s.indexOf("]]>", i);
        if (end < 0) throw malformed("unterminated CDATA");
        text.push(s.slice(i + 9, end));
        i = end + 3;
      } else if (s.startsWith("<!--", i)) {
        const end = s.indexOf("-->", i);
        if (end < 0) throw malformed("unterminated comment");
        i = end + 3;
      } else if (s.startsWith("<?", i)) {
        const end = s.indexOf("?>", i);
        if (end < 0) throw malformed("unterminated processing instruction");
        i = end + 2;
      } else if (s[i] === "<") {
        if (s[i + 1] === "!") throw malformed("DOCTYPE is not allowed");
        node.children.push(parseElement(depth + 1));
      } else {
        const next = s.indexOf("<", i);
        const end = next < 0 ? s.length : next;
        text.push(decodeEntities(s.slice(i, end)));
        i = end;
      }
    }
  };
  skipMisc();
  if (i >= s.length) throw malformed("empty document");
  const root = parseElement(0);
  skipMisc();
  if (i < s.length) throw malformed("content after root element");
  return root;
}

/** Reads at most `limit` bytes of a request body as UTF-8 text (`MaxMessageLengthExceeded` past it). */
export async function readBodyText(
  body: ReadableStream<Uint8Array> | null,
  limit = 1024 * 1024,
): Promise<string> {
  return utf8Text(await readBodyBytes(body, limit));
}

/** Reads and parses an XML request body; an empty body is `MissingRequestBodyError` unless allowed. */
export async function readXmlBody(
  body: ReadableStream<Uint8Array> | null,
  opts: { root: string; limit?: number },
): Promise<XmlNode> {
  return parseXmlDocument(await readBodyText(body, opts.limit), opts.root);
}

/**
 * A request's XML document whose root element must be `root`: an empty body is
 * `MissingRequestBodyError`, another root (or bad XML) `MalformedXML`.
 */
export function parseXmlDocument(text: string, root: string): XmlNode {
  if (!text.trim()) throw new S3Error("MissingRequestBodyError");
  const doc = parseXml(text);
  if (doc.name !== root) throw new S3Error("MalformedXML");
  return doc;
}

/**
 * A configuration document S3 accepts only with Content-MD5 or an `x-amz-checksum-*` value
 * (body.ts `readIntegrityCheckedBody`), read whole and parsed with root element `root`.
 */
export async function readCheckedXmlDocument(
  req: Request,
  auth: { body: ReadableStream<Uint8Array> | null; trailers: Map<string, string> },
  root: string,
  limit: number,
): Promise<XmlNode> {
  const bytes = await readIntegrityCheckedBody(req, auth.body, auth.trailers, limit);
  return parseXmlDocument(utf8Text(bytes), root);
}
