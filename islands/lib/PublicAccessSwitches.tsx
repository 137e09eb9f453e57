/**
 * The four public access block switches, for a bucket (PutPublicAccessBlock through the S3
 * passthrough) or a tenant (the console API): the owner of the component says how to load and
 * save. A loader that answers `null` means the server does not offer the setting.
 */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { PAB_FLAGS, type PublicAccessBlock } from "./access_xml.ts";
import { useActions } from "./actions.ts";
import { errorText } from "./api.ts";
import { Alerts, Loading } from "./ui.tsx";

const LABELS: Record<typeof PAB_FLAGS[number], string> = {
  BlockPublicAcls: "Block public ACLs (refuse new ACLs that grant to everyone)",
  IgnorePublicAcls: "Ignore public ACLs (existing public grants stop counting)",
  BlockPublicPolicy: "Block public bucket policies (refuse a policy that makes it public)",
  RestrictPublicBuckets: "Restrict public buckets (a public policy serves only its own tenant)",
};

export interface PublicAccessSwitchesProps {
  id: string;
  title: string;
  load: () => Promise<PublicAccessBlock | null>;
  save: (pab: PublicAccessBlock) => Promise<void>;
  /** Removes the configuration (all switches off); absent when the setting cannot be removed. */
  remove?: () => Promise<void>;
}

export function PublicAccessSwitches(p: PublicAccessSwitchesProps) {
  /** undefined: loading; null: not available on this server. */
  const pab = useSignal<PublicAccessBlock | null | undefined>(undefined);
  const { error, notice, act } = useActions(() => load(), errorText);

  const load = async () => {
    try {
      pab.value = await p.load();
    } catch (e) {
      error.value = errorText(e);
      pab.value = null;
    }
  };
  useEffect(() => {
    load();
  }, []);

  const submit = (ev: Event) => {
    ev.preventDefault();
    const f = new FormData(ev.currentTarget as HTMLFormElement);
    const next = {} as PublicAccessBlock;
    for (const k of PAB_FLAGS) next[k] = f.get(k) === "on";
    act(() => p.save(next), "Public access block saved.");
  };

  const v = pab.value;
  return (
    <section class="panel stack-wide" id={p.id}>
      <h2>{p.title}</h2>
      <Alerts error={error.value} notice={notice.value} />
      {v === undefined ? <Loading /> : v === null
        ? (
          <p class="hint" data-unavailable>
            The public access block is not available on this server.
          </p>
        )
        : (
          <form class="stack" onSubmit={submit}>
            {PAB_FLAGS.map((k) => (
              <label class="check" key={k}>
                <input type="checkbox" name={k} checked={v[k]} /> {LABELS[k]}
              </label>
            ))}
            <div class="row">
              <button class="primary" type="submit">Save</button>
              {p.remove && (
                <button
                  type="button"
                  onClick={() => act(p.remove!, "Public access block removed.")}
                >
                  Remove
                </button>
              )}
            </div>
          </form>
        )}
    </section>
  );
}
