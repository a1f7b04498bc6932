import { Field, ObjectType, type ClassType } from "type-graphql";
import { badInput } from "../../errors/index.js";
import { isEntityKey } from "../../loaders/index.js";

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

@ObjectType("PageInfo")
export class PageInfo {
  @Field(() => Boolean)
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true })
  endCursor!: string | null;
}

/** Cursors are opaque to clients: the base64url of the last row's id. */
export function encodeCursor(id: string): string {
  return Buffer.from(`v1:${id}`).toString("base64url");
}

/** Returns the id inside a cursor; BAD_USER_INPUT for anything we did not issue. */
export function decodeCursor(cursor: string): string {
  const decoded = Buffer.from(cursor, "base64url").toString("utf8");
  const id = decoded.startsWith("v1:") ? decoded.slice(3) : "";
  if (!isEntityKey(id) || encodeCursor(id) !== cursor) {
    throw badInput("after", "The cursor is not one this API issued. Start again without `after`.");
  }

  return id;
}

export interface PageRequest {
  take: number;
  afterId: string | undefined;
}

/** Checks `first` and `after`; `first` defaults to 20 and may not pass 100. */
export function parsePageRequest(
  first: number | null | undefined,
  after: string | null | undefined,
): PageRequest {
  const take = first ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(take) || take < 0 || take > MAX_PAGE_SIZE) {
    throw badInput("first", `first must be a whole number from 0 to ${MAX_PAGE_SIZE}.`);
  }

  return { take, afterId: after ? decodeCursor(after) : undefined };
}

export interface Edge<T> {
  cursor: string;
  node: T;
}

export interface Connection<T> {
  edges: Edge<T>[];
  pageInfo: PageInfo;
}

/**
 * Turns `take + 1` rows into a page: the extra row only tells whether a
 * next page exists.
 */
export function toConnection<T extends { id: string }>(rows: T[], take: number): Connection<T> {
  const page = rows.slice(0, take);
  const last = page.at(-1);

  return {
    edges: page.map((node) => ({ cursor: encodeCursor(node.id), node })),
    pageInfo: { hasNextPage: rows.length > take, endCursor: last ? encodeCursor(last.id) : null },
  };
}

/** Declares `<Name>Connection` and `<Name>Edge` object types for a node type. */
export function createConnectionType<T extends object>(name: string, node: ClassType<T>) {
  @ObjectType(`${name}Edge`)
  class EdgeType {
    @Field(() => String)
    cursor!: string;

    @Field(() => node)
    node!: T;
  }

  @ObjectType(`${name}Connection`)
  class ConnectionType {
    @Field(() => [EdgeType])
    edges!: EdgeType[];

    @Field(() => PageInfo)
    pageInfo!: PageInfo;
  }

  return ConnectionType;
}
