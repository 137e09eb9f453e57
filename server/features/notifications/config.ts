/**
 * A bucket's notification configuration: the `NotificationConfiguration` document of
 * PutBucketNotificationConfiguration parsed and validated (with the errors AWS answers), the
 * stored form, the document GetBucketNotificationConfiguration returns, and the matching of an
 * object change against the configured rules.
 *
 * Queue, Topic and CloudFunction configurations all name a webhook target (targets.ts); the kind
 * is kept so GET returns the document as it was sent.
 */
import { S3Error } from "../../s3/errors.ts";
import { child, children, type XmlNode, type XmlObject } from "../../s3/xml.ts";

/** Bucket config kind of the notification configuration (Backend `getBucketConfig`). */
export const NOTIFICATION_CONFIG = "notification";

/** The feed follower name buckets with a configuration list in `BucketRecord.feed`. */
export const NOTIFICATIONS_FOLLOWER = "notifications";

export type DestinationKind = "Queue" | "Topic" | "CloudFunction";

/** The configuration elements in the order AWS returns them, with their ARN element. */
const KINDS: { kind: DestinationKind; element: string; arnElement: string }[] = [
  { kind: "Topic", element: "TopicConfiguration", arnElement: "Topic" },
  { kind: "Queue", element: "QueueConfiguration", arnElement: "Queue" },
  { kind: "CloudFunction", element: "CloudFunctionConfiguration", arnElement: "CloudFunction" },
];

/**
 * The event types S3 accepts in a configuration (with `s3:`). Every one is accepted; the server
 * produces those its writes and the lifecycle worker cause (storage ChangeEvent).
 */
export const NOTIFICATION_EVENTS: readonly string[] = [
  "s3:ObjectCreated:*",
  "s3:ObjectCreated:Put",
  "s3:ObjectCreated:Post",
  "s3:ObjectCreated:Copy",
  "s3:ObjectCreated:CompleteMultipartUpload",
  "s3:ObjectRemoved:*",
  "s3:ObjectRemoved:Delete",
  "s3:ObjectRemoved:DeleteMarkerCreated",
  "s3:ObjectRestore:*",
  "s3:ObjectRestore:Post",
  "s3:ObjectRestore:Completed",
  "s3:ObjectRestore:Delete",
  "s3:ReducedRedundancyLostObject",
  "s3:Replication:*",
  "s3:Replication:OperationFailedReplication",
  "s3:Replication:OperationMissedThreshold",
  "s3:Replication:OperationReplicatedAfterThreshold",
  "s3:Replication:OperationNotTracked",
  "s3:LifecycleExpiration:*",
  "s3:LifecycleExpiration:Delete",
  "s3:LifecycleExpiration:DeleteMarkerCreated",
  "s3:LifecycleTransition",
  "s3:IntelligentTiering",
  "s3:ObjectTagging:*",
  "s3:ObjectTagging:Put",
  "s3:ObjectTagging:Delete",
  "s3:ObjectAcl:Put",
];
const EVENT_SET = new Set(NOTIFICATION_EVENTS);

/** AWS's bounds: configurations per bucket, and a filter value's UTF-8 bytes. */
export const MAX_RULES = 100;
const MAX_FILTER_VALUE_BYTES = 1024;
const MAX_ID_LENGTH = 255;

/** One configuration (a Queue, Topic or CloudFunction element), values as sent. */
export interface NotificationRule {
  kind: DestinationKind;
  id: string;
  /** The destination ARN (a webhook target, targets.ts). */
  arn: string;
  /** Event types with `s3:`, wildcards as sent. */
  events: string[];
  /**
   * The FilterRules (null: no Filter element), named `Prefix`/`Suffix` in that order as AWS
   * returns them whatever the case sent; `prefix`/`suffix` are what match.
   */
  filterRules: { name: string; value: string }[] | null;
  prefix: string;
  suffix: string;
}

/** What a bucket stores. */
export interface NotificationConfig {
  v: 1;
  rules: NotificationRule[];
}

const malformed = () => new S3Error("MalformedXML");
const invalid = (message: string, fields?: Record<string, string>) =>
  new S3Error("InvalidArgument", { message, fields });

/** Generates the Id AWS gives a configuration sent without one. */
export type NewId = () => string;

const randomId: NewId = () => {
  const b = new Uint8Array(24);
  crypto.getRandomValues(b);
  return btoa(String.fromCharCode(...b)).replace(/[+/=]/g, "");
};

/**
 * Parses and validates a PutBucketNotificationConfiguration body (its root already checked to be
 * `NotificationConfiguration`). Destinations are not looked up here (`destinationsOf`); an empty
 * document gives a configuration without rules, which removes the bucket's.
 */
export function parseNotificationConfiguration(
  doc: XmlNode,
  newId: NewId = randomId,
): NotificationConfig {
  if (doc.text.trim() !== "") throw malformed();
  const rules: NotificationRule[] = [];
  for (const node of doc.children) {
    if (node.name === "EventBridgeConfiguration") {
      throw invalid("EventBridge is not supported by this server; use a webhook target", {
        ArgumentName: "EventBridgeConfiguration",
      });
    }
    const k = KINDS.find((k) => k.element === node.name);
    if (!k) throw malformed();
    rules.push(readRule(node, k.kind, k.arnElement, newId));
  }
  if (rules.length > MAX_RULES) {
    throw invalid(`A bucket may have at most ${MAX_RULES} notification configurations`);
  }
  const ids = new Set<string>();
  for (const r of rules) {
    if (ids.has(r.id)) {
      throw invalid("Same ID used for multiple configurations", {
        ArgumentName: "Id",
        ArgumentValue: r.id,
      });
    }
    ids.add(r.id);
  }
  checkOverlaps(rules);
  return { v: 1, rules };
}

function readRule(
  node: XmlNode,
  kind: DestinationKind,
  arnElement: string,
  newId: NewId,
): NotificationRule {
  const allowed = new Set(["Id", arnElement, "Event", "Filter"]);
  for (const c of node.children) if (!allowed.has(c.name)) throw malformed();
  const single = (name: string) => {
    const found = children(node, name);
    if (found.length > 1) throw malformed();
    return found[0];
  };
  const idNode = single("Id");
  const arnNode = single(arnElement);
  if (!arnNode) throw malformed();
  const arn = arnNode.text.trim();
  if (!/^arn:[^:]+:[^:]+:[^:]*:[^:]*:.+$/.test(arn)) {
    throw invalid("The ARN could not be parsed", { ArgumentName: arnElement, ArgumentValue: arn });
  }
  const eventNodes = children(node, "Event");
  if (eventNodes.length === 0) throw malformed();
  const events: string[] = [];
  for (const e of eventNodes) {
    const name = e.text.trim();
    if (!EVENT_SET.has(name)) {
      throw invalid("The event is not supported for notifications", {
        ArgumentName: "Event",
        ArgumentValue: name,
      });
    }
    if (!events.includes(name)) events.push(name);
  }
  const id = idNode ? idNode.text : newId();
  if (id.length > MAX_ID_LENGTH) {
    throw invalid(`The Id may be at most ${MAX_ID_LENGTH} characters`, { ArgumentName: "Id" });
  }
  const filter = readFilter(single("Filter"));
  return { kind, id, arn, events, ...filter };
}

function readFilter(
  node: XmlNode | undefined,
): Pick<NotificationRule, "filterRules" | "prefix" | "suffix"> {
  if (!node) return { filterRules: null, prefix: "", suffix: "" };
  for (const c of node.children) if (c.name !== "S3Key") throw malformed();
  const keyNodes = children(node, "S3Key");
  if (keyNodes.length > 1) throw malformed();
  const filterRules: { name: string; value: string }[] = [];
  let prefix: string | null = null;
  let suffix: string | null = null;
  for (const fr of keyNodes[0]?.children ?? []) {
    if (fr.name !== "FilterRule") throw malformed();
    for (const c of fr.children) if (c.name !== "Name" && c.name !== "Value") throw malformed();
    const nameNode = child(fr, "Name");
    const valueNode = child(fr, "Value");
    if (!nameNode || children(fr, "Name").length > 1 || children(fr, "Value").length > 1) {
      throw malformed();
    }
    const name = nameNode.text;
    const value = valueNode?.text ?? "";
    if (new TextEncoder().encode(value).length > MAX_FILTER_VALUE_BYTES) {
      throw invalid(
        "The size of a filter rule value cannot exceed 1024 bytes in UTF-8 representation",
        {
          ArgumentName: "FilterRule.Value",
          ArgumentValue: value.slice(0, 64),
        },
      );
    }
    const lower = name.toLowerCase();
    if (lower === "prefix") {
      if (prefix !== null) {
        throw invalid(
          "Cannot specify more than one prefix rule in a filter.",
          filterArg(name),
        );
      }
      prefix = value;
    } else if (lower === "suffix") {
      if (suffix !== null) {
        throw invalid(
          "Cannot specify more than one suffix rule in a filter.",
          filterArg(name),
        );
      }
      suffix = value;
    } else {
      throw invalid("filter rule name must be either prefix or suffix", filterArg(name));
    }
  }
  // Stored as AWS returns them: capitalized, Prefix first.
  if (prefix !== null) filterRules.push({ name: "Prefix", value: prefix });
  if (suffix !== null) filterRules.push({ name: "Suffix", value: suffix });
  return { filterRules, prefix: prefix ?? "", suffix: suffix ?? "" };
}

/** AWS names the rule's Name element and gives the name sent (not its value). */
const filterArg = (name: string) => ({ ArgumentName: "FilterRule.Name", ArgumentValue: name });

/** Whether two event patterns (wildcards allowed) name a common event. */
function eventsOverlap(a: string, b: string): boolean {
  if (a === b) return true;
  const base = (p: string) => p.endsWith(":*") ? p.slice(0, -1) : null;
  const ba = base(a);
  const bb = base(b);
  return (ba !== null && b.startsWith(ba)) || (bb !== null && a.startsWith(bb));
}

/**
 * AWS refuses two configurations that share an event type when one's prefix starts the other's
 * and one's suffix ends the other's: an object could match both, ambiguously.
 */
function checkOverlaps(rules: NotificationRule[]): void {
  for (let i = 0; i < rules.length; i++) {
    for (let j = i + 1; j < rules.length; j++) {
      const a = rules[i];
      const b = rules[j];
      if (!a.events.some((x) => b.events.some((y) => eventsOverlap(x, y)))) continue;
      const prefixes = a.prefix.startsWith(b.prefix) || b.prefix.startsWith(a.prefix);
      const suffixes = a.suffix.endsWith(b.suffix) || b.suffix.endsWith(a.suffix);
      if (prefixes && suffixes) {
        throw invalid(
          "Configuration is ambiguously defined. Cannot have overlapping suffixes in two rules " +
            "if the prefixes are overlapping for the same event type.",
        );
      }
    }
  }
}

/** The GetBucketNotificationConfiguration document's body (root `NotificationConfiguration`). */
export function notificationXml(cfg: NotificationConfig | null): XmlObject {
  const out: XmlObject = {};
  for (const k of KINDS) {
    const rules = (cfg?.rules ?? []).filter((r) => r.kind === k.kind);
    if (rules.length === 0) continue;
    out[k.element] = rules.map((r) => {
      const el: XmlObject = { Id: r.id, [k.arnElement]: r.arn, Event: r.events };
      if (r.filterRules) el.Filter = { S3Key: { FilterRule: normalizedRules(r.filterRules) } };
      return el;
    });
  }
  return out;
}

/**
 * The filter rules as AWS returns them, whatever case they were sent in: `Prefix` first, then
 * `Suffix` (configurations stored before this normalization are shown the same way).
 */
function normalizedRules(rules: { name: string; value: string }[]): XmlObject[] {
  const out: XmlObject[] = [];
  for (const name of ["Prefix", "Suffix"]) {
    const r = rules.find((f) => f.name.toLowerCase() === name.toLowerCase());
    if (r) out.push({ Name: name, Value: r.value });
  }
  return out;
}

/** Whether a configured event pattern (`s3:ObjectCreated:*`) covers an event (`ObjectCreated:Put`). */
export function eventMatches(pattern: string, event: string): boolean {
  const p = pattern.startsWith("s3:") ? pattern.slice(3) : pattern;
  if (p.endsWith(":*")) return event.startsWith(p.slice(0, -1));
  return p === event;
}

/** The rules an event on `key` matches, in configuration order. */
export function matchingRules(
  cfg: NotificationConfig,
  event: string,
  key: string,
): NotificationRule[] {
  return cfg.rules.filter((r) =>
    key.startsWith(r.prefix) && key.endsWith(r.suffix) &&
    r.events.some((p) => eventMatches(p, event))
  );
}
