import type { SeededTenant } from "./fleet-provisioning.js";

/**
 * The scale benchmark's request: the tenant, the caller, and a page of challenges with their
 * submissions' authors. Every value in the answer names its tenant (the ids, the caller's
 * e-mail, the challenge title, a score unique to the tenant), so an answer that carries
 * another tenant's data cannot pass for right.
 */
export const TENANT_QUERY =
  "{ tenant { id name } me { id email } challenges(first: 5) { edges { node { title " +
  "submissions { score author { email } } } } } }";

/** What one answer was: right, an error, or data that is not the tenant's. */
export type Verdict =
  | { readonly kind: "right" }
  | { readonly kind: "error"; readonly message: string }
  | { readonly kind: "wrong"; readonly message: string };

interface TenantBody {
  data?: {
    tenant?: { id?: unknown; name?: unknown } | null;
    me?: { id?: unknown; email?: unknown } | null;
    challenges?: {
      edges?: {
        node?: {
          title?: unknown;
          submissions?: { score?: unknown; author?: { email?: unknown } }[];
        };
      }[];
    } | null;
  } | null;
  errors?: { message?: unknown; extensions?: { code?: unknown } }[];
}

const RIGHT: Verdict = { kind: "right" };

/** The first field of the answer that differs from the tenant's seeded rows, or null. */
function firstDifference(data: NonNullable<TenantBody["data"]>, tenant: SeededTenant) {
  const edges = data.challenges?.edges ?? [];
  const node = edges[0]?.node;
  const submissions = node?.submissions ?? [];
  const checks: [field: string, got: unknown, expected: unknown][] = [
    ["tenant.id", data.tenant?.id, tenant.id],
    ["tenant.name", data.tenant?.name, tenant.name],
    ["me.id", data.me?.id, tenant.callerId],
    ["me.email", data.me?.email, tenant.callerEmail],
    ["challenges", edges.length, 1],
    ["challenge title", node?.title, tenant.challengeTitle],
    ["submissions", submissions.length, 1],
    ["submission score", submissions[0]?.score, tenant.score],
    ["author email", submissions[0]?.author?.email, tenant.callerEmail],
  ];
  const differing = checks.find(([, got, expected]) => got !== expected);
  if (!differing) return null;
  const [field, got, expected] = differing;

  return `${field} was ${JSON.stringify(got)}, expected ${JSON.stringify(expected)}`;
}

/** Judges one answer sent for `tenant`. */
export function judgeAnswer(status: number, body: unknown, tenant: SeededTenant): Verdict {
  const answer = body as TenantBody;
  const first = answer.errors?.[0];
  if (first) {
    const count = answer.errors?.length ?? 0;
    return {
      kind: "error",
      message: `HTTP ${status}, ${count} error(s), first ${String(first.extensions?.code)}: ${String(first.message)}`,
    };
  }
  if (status !== 200) return { kind: "error", message: `HTTP ${status} without GraphQL errors` };
  if (!answer.data) return { kind: "error", message: "an answer without data" };

  const difference = firstDifference(answer.data, tenant);

  return difference ? { kind: "wrong", message: difference } : RIGHT;
}
