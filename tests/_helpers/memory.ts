/**
 * A child process's resident memory from Linux's /proc: its current size (VmRSS) and its peak
 * (VmHWM), which writing "5" to /proc/<pid>/clear_refs resets to the current size, so a test can
 * measure the peak of one phase of a server's work.
 */

/** VmRSS and VmHWM of `pid`, in bytes. */
export async function residentMemory(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const field = (name: string) => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB$`, "m").exec(status);
    if (!m) throw new Error(`Cannot read ${name} of process ${pid}: not in /proc/${pid}/status`);
    return Number(m[1]) * 1024;
  };
  return { rss: field("VmRSS"), peak: field("VmHWM") };
}

/** Resets the peak (VmHWM) of `pid` to its current resident size. */
export async function resetPeakMemory(pid: number): Promise<void> {
  await Deno.writeTextFile(`/proc/${pid}/clear_refs`, "5");
}
