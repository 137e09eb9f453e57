/** Profile: password change, 2FA setup (QR code, then backup codes), 2FA disable, sessions. */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { api, formatTime, listOf } from "./lib/api.ts";
import { qrSvgDataUrl } from "./lib/qr.ts";
import { ActionsTh, formField } from "./lib/ui.tsx";

export interface ProfileProps extends Record<string, unknown> {
  username: string;
  twoFactorEnabled: boolean;
}

interface Session {
  id: string;
  createdAt: number;
  expiresAt: number;
  ip?: string;
  userAgent?: string;
  current?: boolean;
}

export default function Profile({ username, twoFactorEnabled }: ProfileProps) {
  const pwMsg = useSignal<{ ok: boolean; text: string } | null>(null);
  const tfa = useSignal(twoFactorEnabled);
  const setup = useSignal<{ secret: string; otpauthUrl: string } | null>(null);
  const codes = useSignal<string[] | null>(null);
  const tfaMsg = useSignal<{ ok: boolean; text: string } | null>(null);
  const sessions = useSignal<Session[]>([]);

  const loadSessions = () =>
    api("auth/sessions").then((d) => sessions.value = listOf<Session>(d)).catch(() => {});
  useEffect(() => {
    loadSessions();
  }, []);

  const changePassword = async (ev: Event) => {
    ev.preventDefault();
    const form = ev.currentTarget as HTMLFormElement;
    const f = new FormData(form);
    if (f.get("new") !== f.get("confirm")) {
      pwMsg.value = { ok: false, text: "The two new passwords are not the same." };
      return;
    }
    try {
      await api("auth/password", {
        body: { currentPassword: f.get("current"), newPassword: f.get("new") },
      });
      form.reset();
      pwMsg.value = { ok: true, text: "Password changed. Your other sessions were signed out." };
      loadSessions();
    } catch (e) {
      pwMsg.value = { ok: false, text: (e as Error).message };
    }
  };

  const tfaRun = async (fn: () => Promise<void>) => {
    tfaMsg.value = null;
    try {
      await fn();
    } catch (e) {
      tfaMsg.value = { ok: false, text: (e as Error).message };
    }
  };

  const startSetup = () =>
    tfaRun(async () => {
      setup.value = await api("auth/2fa/setup", { body: {} });
      codes.value = null;
    });

  const enable = (ev: Event) => {
    ev.preventDefault();
    const code = formField(ev, "code");
    tfaRun(async () => {
      const res = await api<{ backupCodes: string[] }>("auth/2fa/enable", { body: { code } });
      codes.value = res.backupCodes;
      setup.value = null;
      tfa.value = true;
      tfaMsg.value = { ok: true, text: "Two-factor authentication is on." };
    });
  };

  const disable = (ev: Event) => {
    ev.preventDefault();
    const f = new FormData(ev.currentTarget as HTMLFormElement);
    tfaRun(async () => {
      await api("auth/2fa/disable", { body: { password: f.get("password"), code: f.get("code") } });
      tfa.value = false;
      codes.value = null;
      tfaMsg.value = { ok: true, text: "Two-factor authentication is off." };
    });
  };

  const regenerate = (ev: Event) => {
    ev.preventDefault();
    const code = formField(ev, "code");
    tfaRun(async () => {
      const res = await api<{ backupCodes: string[] }>("auth/2fa/backup-codes", { body: { code } });
      codes.value = res.backupCodes;
    });
  };

  const revoke = (id: string) =>
    api(`auth/sessions/${encodeURIComponent(id)}`, { method: "DELETE" }).then(loadSessions)
      .catch(() => {});

  return (
    <div>
      <div class="panel">
        <h2>Password</h2>
        <p class="hint">Signed in as {username}.</p>
        {pwMsg.value && (
          <div class={`alert ${pwMsg.value.ok ? "ok" : "error"}`} role="status">
            {pwMsg.value.text}
          </div>
        )}
        <form class="stack" onSubmit={changePassword} id="password-form">
          <label>
            Current password
            <input name="current" type="password" autocomplete="current-password" required />
          </label>
          <label>
            New password <input name="new" type="password" autocomplete="new-password" required />
          </label>
          <label>
            Repeat the new password
            <input name="confirm" type="password" autocomplete="new-password" required />
          </label>
          <div>
            <button class="primary" type="submit">Change password</button>
          </div>
        </form>
      </div>
      <div class="panel">
        <h2>Two-factor authentication</h2>
        {tfaMsg.value && (
          <div class={`alert ${tfaMsg.value.ok ? "ok" : "error"}`} role="status">
            {tfaMsg.value.text}
          </div>
        )}
        {!tfa.value && !setup.value && (
          <>
            <p>Protect your account with a code from an authenticator app.</p>
            <button type="button" class="primary" onClick={startSetup}>Set up 2FA</button>
          </>
        )}
        {setup.value && (
          <div class="stack">
            <p>Scan this code with your authenticator app, then enter the 6-digit code it shows.</p>
            <img
              class="qr"
              src={qrSvgDataUrl(setup.value.otpauthUrl)}
              alt="QR code for your authenticator app"
            />
            <p class="hint">
              Or enter this key by hand: <code id="totp-secret">{setup.value.secret}</code>
            </p>
            <form class="row" onSubmit={enable}>
              <label>
                Code <input name="code" inputMode="numeric" autocomplete="one-time-code" required />
              </label>
              <button type="submit" class="primary">Turn on 2FA</button>
            </form>
          </div>
        )}
        {codes.value && (
          <div class="alert warn">
            <p>
              <strong>Backup codes.</strong>{" "}
              Each works once if you lose your device. They are shown only now.
            </p>
            <ul class="codes" id="backup-codes">{codes.value.map((c) => <li key={c}>{c}</li>)}</ul>
          </div>
        )}
        {tfa.value && !setup.value && (
          <div class="stack">
            <form class="row" onSubmit={regenerate}>
              <label>
                Code <input name="code" inputMode="numeric" required />
              </label>
              <button type="submit">New backup codes</button>
            </form>
            <form class="row" onSubmit={disable}>
              <label>
                Password <input name="password" type="password" required />
              </label>
              <label>
                Code <input name="code" inputMode="numeric" required />
              </label>
              <button type="submit" class="danger">Turn off 2FA</button>
            </form>
          </div>
        )}
      </div>
      <div class="panel table-wrap">
        <h2>Sessions</h2>
        <table>
          <thead>
            <tr>
              <th>Started</th>
              <th>Expires</th>
              <th class="hide-sm">From</th>
              <ActionsTh />
            </tr>
          </thead>
          <tbody>
            {sessions.value.map((s) => (
              <tr key={s.id}>
                <td>
                  {formatTime(s.createdAt)} {s.current && <span class="badge ok">this one</span>}
                </td>
                <td>{formatTime(s.expiresAt)}</td>
                <td class="hide-sm" title={s.userAgent}>{s.ip}</td>
                <td>
                  {!s.current && (
                    <button type="button" onClick={() => revoke(s.id)}>Sign out</button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
