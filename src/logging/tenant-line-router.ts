import { pino, type DestinationStream, type Logger } from "pino";
import { isTenantId } from "../tenancy/index.js";
import { boundIdsOf } from "./logger-bindings.js";

/** Where the lines of one tenant go besides standard output. */
export interface TenantLineSink {
  /** Takes one finished line of `tenantId`; must not block or throw. */
  append(tenantId: string, line: string): void;
}

/**
 * The destination of every logger `createLogger` makes: each line goes to
 * the main destination (standard output), and a line written for one
 * tenant also goes to that tenant's sink, once one is attached.
 *
 * A line's tenant is the `tenantId` its logger was bound to (`child`), and
 * nothing else: a field `tenantId` passed to one call chooses no file, so
 * an id a client merely sent never names one. A line whose fields name a
 * tenant other than its logger's, or whose logger was bound to two
 * tenants, goes to standard output only.
 */
export class TenantLineRouter implements DestinationStream {
  /** Asks pino to set `lastLogger` and `lastObj` before each write. */
  readonly [pino.symbols.needsMetadataGsym] = true;
  lastLogger: Logger | undefined;
  lastObj: object | undefined;

  readonly #main: DestinationStream;
  #sink: TenantLineSink | null = null;

  constructor(main: DestinationStream) {
    this.#main = main;
  }

  write(line: string): void {
    this.#main.write(line);
    const sink = this.#sink;
    if (!sink) return;

    const tenantId = this.#tenantOfLastLine();
    if (tenantId !== null) sink.append(tenantId, line);
  }

  /** Sends tenant lines to `sink` from now on; the answer detaches it again. */
  attach(sink: TenantLineSink): () => void {
    this.#sink = sink;

    return () => {
      if (this.#sink === sink) this.#sink = null;
    };
  }

  #tenantOfLastLine(): string | null {
    const named = (this.lastObj as { tenantId?: unknown } | undefined)?.tenantId;
    const tenantId = this.lastLogger ? boundIdsOf(this.lastLogger).tenantId : null;
    if (tenantId === null || tenantId === "mixed") return null;
    if (named !== undefined && named !== tenantId) return null;

    return isTenantId(tenantId) ? tenantId : null;
  }
}
