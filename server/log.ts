/**
 * Structured line logger with a level threshold: `text` lines (time LEVEL message {fields}) or
 * `json` lines (`{"time","level","msg",...fields}`, one object per line, for log collectors).
 */
import type { LogFormat, LogLevel } from "./config.ts";

/** Structured logging: a message and optional fields, at four levels. */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** One log line in `format`. */
export function formatLine(
  format: LogFormat,
  time: Date,
  level: LogLevel,
  msg: string,
  fields?: Record<string, unknown>,
): string {
  if (format === "json") {
    return JSON.stringify({ time: time.toISOString(), level, msg, ...fields });
  }
  const f = fields && Object.keys(fields).length ? " " + JSON.stringify(fields) : "";
  return `${time.toISOString()} ${level.toUpperCase()} ${msg}${f}`;
}

export function createLogger(
  level: LogLevel,
  sink: (line: string) => void = (l) => console.error(l),
  format: LogFormat = "text",
): Logger {
  const min = ORDER[level];
  const emit = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[lvl] < min) return;
    sink(formatLine(format, new Date(), lvl, msg, fields));
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
  };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
