/**
 * Sign-in: password, then the TOTP step when 2FA is on, then a forced password change when the
 * account requires one. Errors from the API (wrong password, lockout, rate limit) are shown as
 * they come, with the lockout time when the server gives one.
 */
import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { api, ApiError } from "./lib/api.ts";

export interface LoginFormProps extends Record<string, unknown> {
  next: string;
  /** "change" when a signed-in user must change the password first. */
  step?: string;
}

type Step = "password" | "totp" | "change";

/** A same-origin path only: never redirect to another site after login. */
function safeNext(next: string): string {
  return next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/\\") ? next : "/";
}

export function loginErrorMessage(e: unknown): string {
  if (!(e instanceof ApiError)) return "Sign-in failed. Try again.";
  switch (e.code) {
    case "InvalidCredentials":
      return "Wrong username or password.";
    case "InvalidTotp":
      return "That code is not valid. Enter the current 6-digit code or a backup code.";
    case "AccountLocked": {
      const wait = e.retryAfter ? ` Try again in ${Math.ceil(e.retryAfter / 60)} min.` : "";
      return `This account is locked after too many failed sign-ins.${wait}`;
    }
    case "TooManyRequests":
      return "Too many sign-in attempts from this address. Wait a minute and try again.";
    case "AccountDisabled":
      return "This account is disabled. Ask an administrator.";
    case "WeakPassword":
      return `The new password does not meet the policy: ${e.message}`;
    default:
      return e.message;
  }
}

export default function LoginForm({ next, step: initial }: LoginFormProps) {
  const step = useSignal<Step>(initial === "change" ? "change" : "password");
  const error = useSignal("");
  const busy = useSignal(false);
  const challenge = useSignal("");
  const currentPassword = useSignal("");
  const first = useRef<HTMLInputElement>(null);
  useEffect(() => first.current?.focus(), [step.value]);

  const done = (user: { mustChangePassword?: boolean } | undefined, must?: boolean) => {
    if (user?.mustChangePassword || must) {
      step.value = "change";
      return;
    }
    location.href = safeNext(next);
  };

  const run = async (fn: () => Promise<void>) => {
    busy.value = true;
    error.value = "";
    try {
      await fn();
    } catch (e) {
      error.value = loginErrorMessage(e);
    } finally {
      busy.value = false;
    }
  };

  const onPassword = (ev: Event) => {
    ev.preventDefault();
    const f = new FormData(ev.currentTarget as HTMLFormElement);
    const username = String(f.get("username") ?? "");
    const password = String(f.get("password") ?? "");
    run(async () => {
      const res = await api<Record<string, unknown>>("auth/login", {
        body: { username, password },
      });
      if (res.totpRequired) {
        challenge.value = String(res.challenge ?? "");
        currentPassword.value = password;
        step.value = "totp";
        return;
      }
      currentPassword.value = password;
      done(res.user as { mustChangePassword?: boolean }, !!res.mustChangePassword);
    });
  };

  const onTotp = (ev: Event) => {
    ev.preventDefault();
    const f = new FormData(ev.currentTarget as HTMLFormElement);
    const code = String(f.get("code") ?? "").replace(/\s+/g, "");
    run(async () => {
      const res = await api<Record<string, unknown>>("auth/2fa/verify", {
        body: { challenge: challenge.value, code },
      });
      done(res.user as { mustChangePassword?: boolean }, !!res.mustChangePassword);
    });
  };

  const onChange = (ev: Event) => {
    ev.preventDefault();
    const f = new FormData(ev.currentTarget as HTMLFormElement);
    const current = String(f.get("current") ?? "");
    const pw = String(f.get("new") ?? "");
    if (pw !== String(f.get("confirm") ?? "")) {
      error.value = "The two new passwords are not the same.";
      return;
    }
    run(async () => {
      await api("auth/password", { body: { currentPassword: current, newPassword: pw } });
      location.href = safeNext(next);
    });
  };

  return (
    <div class="panel login">
      <h2>
        {step.value === "password"
          ? "Sign in to MaxIOFS"
          : step.value === "totp"
          ? "Two-factor authentication"
          : "Choose a new password"}
      </h2>
      {error.value && <div class="alert error" role="alert" id="login-error">{error.value}</div>}
      {step.value === "password" && (
        <form class="stack" onSubmit={onPassword}>
          <label>
            Username
            <input ref={first} name="username" autocomplete="username" required />
          </label>
          <label>
            Password
            <input name="password" type="password" autocomplete="current-password" required />
          </label>
          <button class="primary" type="submit" disabled={busy.value}>
            {busy.value ? "Signing in…" : "Sign in"}
          </button>
        </form>
      )}
      {step.value === "totp" && (
        <form class="stack" onSubmit={onTotp}>
          <label>
            Authentication code
            <input
              ref={first}
              name="code"
              inputMode="numeric"
              autocomplete="one-time-code"
              required
            />
            <span class="hint">The 6-digit code from your app, or one of your backup codes.</span>
          </label>
          <button class="primary" type="submit" disabled={busy.value}>Verify</button>
        </form>
      )}
      {step.value === "change" && (
        <form class="stack" onSubmit={onChange}>
          <p class="hint">Your password must be changed before you continue.</p>
          <label>
            Current password
            <input
              ref={first}
              name="current"
              type="password"
              autocomplete="current-password"
              value={currentPassword.value}
              required
            />
          </label>
          <label>
            New password
            <input name="new" type="password" autocomplete="new-password" required />
          </label>
          <label>
            Repeat the new password
            <input name="confirm" type="password" autocomplete="new-password" required />
          </label>
          <button class="primary" type="submit" disabled={busy.value}>Change password</button>
        </form>
      )}
    </div>
  );
}
