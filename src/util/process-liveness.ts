import { readFileSync } from 'node:fs';

/** The kernel's start time of a process (Linux, field 22 of /proc/<pid>/stat), or null where unknown. */
export function processStartTime(pid: number): string | null {
  try {
    // The command name (field 2) may hold spaces, so count from its closing ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/**
 * Whether a process of this machine is running. With the start time recorded when it was seen, a
 * recycled pid (another process now) counts as dead.
 */
export function pidAlive(pid: number, startTime: string | null = null): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const started = startTime === null ? null : processStartTime(pid);
  return started === null || started === startTime;
}
