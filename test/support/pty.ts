import { spawn } from 'node:child_process';
import { UMS } from './cli.js';

/**
 * Run `ums` on a real pseudo-terminal (stdin and stdout are TTYs, as for a person at a terminal),
 * type `keys` once `prompt` appears, and return what the terminal showed and the exit code.
 * Python's pty module gives the terminal (python3 is on every machine this project builds on).
 */
export function runOnTerminal(
  args: string[],
  opts: { cwd: string; prompt: string; keys: string; env?: Record<string, string>; timeoutMs?: number },
): Promise<{ code: number | null; screen: string }> {
  const driver = `
import os, pty, sys, select, time, json
args = json.loads(sys.argv[1]); prompt = sys.argv[2].encode(); keys = json.loads(sys.argv[3]).encode()
pid, fd = pty.fork()
if pid == 0:
    os.execv(args[0], args)
seen = b''; typed = False; deadline = time.time() + float(sys.argv[4])
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.1)
    if fd in r:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    if not typed and prompt in seen:
        time.sleep(0.2)
        os.write(fd, keys); typed = True
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(seen)
sys.exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))
`;
  return new Promise((resolve, reject) => {
    const child = spawn(
      'python3',
      [
        '-c',
        driver,
        JSON.stringify([process.execPath, UMS, ...args]),
        opts.prompt,
        JSON.stringify(opts.keys),
        String((opts.timeoutMs ?? 30_000) / 1000),
      ],
      {
        cwd: opts.cwd,
        env: { ...process.env, NO_COLOR: '1', ...opts.env },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let screen = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (screen += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, screen }));
  });
}
