/**
 * One Prisma client for every SCHEMA tenant.
 *
 * Prisma bakes the schema into each client's query compiler, so a client per
 * schema costs about 1.4 MB before its first query; with hundreds of schema
 * tenants the clients became most of the gateway's memory (914 MB peak RSS
 * at 150 schema tenants, see the README's scale benchmark). Instead, one
 * client is built for `public`, and its driver adapter sends each statement
 * to the schema its transaction was bound to.
 *
 * Every tenant statement runs in a transaction whose first statement is the
 * bind statement (see tenant-client.ts), which sets the search path to the
 * tenant's schema. The transaction wrapper reads the schema from it, then
 * rewrites the `"public".` qualifier Prisma puts on every table and enum in
 * the statements that follow. Values travel as parameters, never in the SQL
 * text, so only qualifiers change. It fails closed: a statement outside a
 * transaction, or before the bind statement, is refused.
 *
 * The schema is kept per transaction, not in async context: Prisma runs
 * queued work in whatever context started the queue, which sent statements
 * of one request to another request's schema when tried that way.
 */

/** The bind statement's opening, which names the schema (see tenant-client.ts). */
const BIND_PREFIX = /^SELECT set_config\('search_path', '"([a-z_][a-z0-9_]{0,62})"', true\)/;

const PUBLIC_QUALIFIER = '"public".';

interface SqlQuery {
  sql: string;
}

type Runner = (query: SqlQuery) => unknown;

class UnboundStatementError extends Error {
  override name = "UnboundStatementError";
}

/** Wraps one transaction: learns its schema from the bind statement, then rewrites. */
function routedTransaction<T extends object>(transaction: T): T {
  let schema: string | undefined;
  const route = (query: SqlQuery): SqlQuery => {
    if (schema === undefined) {
      const bound = BIND_PREFIX.exec(query.sql);
      if (!bound?.[1]) {
        throw new UnboundStatementError(
          "A SCHEMA tenant statement ran before its transaction was bound to a tenant.",
        );
      }
      schema = bound[1];
      return query;
    }

    return { ...query, sql: query.sql.replaceAll(PUBLIC_QUALIFIER, `"${schema}".`) };
  };

  return new Proxy(transaction, {
    get(object, property, receiver) {
      const value: unknown = Reflect.get(object, property, receiver);
      if (typeof value !== "function") return value;
      const method = value as Runner;
      if (property === "queryRaw" || property === "executeRaw") {
        return (query: SqlQuery) => method.call(object, route(query));
      }

      return method.bind(object);
    },
  });
}

/** Wraps the adapter: statements only inside transactions, each one routed. */
function routedAdapter<T extends object>(adapter: T): T {
  return new Proxy(adapter, {
    get(object, property, receiver) {
      const value: unknown = Reflect.get(object, property, receiver);
      if (typeof value !== "function") return value;
      const method = value as (...args: unknown[]) => unknown;
      switch (property) {
        case "queryRaw":
        case "executeRaw":
          return () =>
            Promise.reject(
              new UnboundStatementError(
                "A SCHEMA tenant statement ran outside a transaction bound to a tenant.",
              ),
            );
        case "startTransaction":
          return async (...args: unknown[]) =>
            routedTransaction((await method.apply(object, args)) as object);
        default:
          return method.bind(object);
      }
    },
  });
}

/** An adapter factory whose adapters send each transaction to the schema it was bound to. */
export function routeToBoundSchema<F extends { connect(): Promise<object> }>(factory: F): F {
  return new Proxy(factory, {
    get(object, property, receiver) {
      if (property === "connect") return async () => routedAdapter(await object.connect());
      const value: unknown = Reflect.get(object, property, receiver);
      return typeof value === "function" ? (value as () => unknown).bind(object) : value;
    },
  });
}
