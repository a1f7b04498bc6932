import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const HOST = "127.0.0.1";

/** Longest wait (ms) for a fresh redis-server to answer PING. */
const START_TIMEOUT_MS = 5_000;

/** Every server started by this process, so a crashed test run leaves none behind. */
const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/** A port on the loopback that nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("No TCP port given.");

  return address.port;
}

/** Whether a Redis on `port` answers PING right now. */
async function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: HOST, port });
    socket.setTimeout(500);
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (data) => {
      socket.destroy();
      resolve(data.toString().startsWith("+PONG"));
    });
    socket.once("error", () => resolve(false));
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/**
 * A private redis-server on the loopback, without persistence, for tests that must
 * kill, freeze or restart Redis without disturbing the shared one on 6379.
 */
export class PrivateRedis {
  readonly port: number;
  readonly url: string;
  #child: ChildProcess | undefined;
  readonly #dir = mkdtempSync(join(tmpdir(), "ogc-cache-redis-"));

  constructor(port: number) {
    this.port = port;
    this.url = `redis://${HOST}:${port}`;
  }

  /** Starts the server (again, after `kill`) and resolves once it answers PING. */
  async start(): Promise<void> {
    const child = spawn(
      "redis-server",
      ["--port", String(this.port), "--bind", HOST, "--save", "", "--appendonly", "no"],
      { cwd: this.#dir, stdio: "ignore" },
    );
    this.#child = child;
    running.add(child);
    child.once("exit", () => running.delete(child));

    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!(await answersPing(this.port))) {
      if (child.exitCode !== null) throw new Error(`redis-server on ${this.port} exited.`);
      if (Date.now() > deadline) throw new Error(`redis-server on ${this.port} did not start.`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** Sends a signal: SIGKILL to crash it, SIGSTOP to freeze it, SIGCONT to thaw it. */
  signal(signal: NodeJS.Signals): void {
    this.#child?.kill(signal);
  }

  /** Kills the server and waits until it is gone. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;

    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
  }

  /** Kills the server and removes its directory; safe to call more than once. */
  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

/** Starts a private Redis on a free loopback port. */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const server = new PrivateRedis(await freePort());
  await server.start();

  return server;
}
