import { Isolation, MembershipRole } from "../generated/prisma/enums.js";
import type { LifecycleServices } from "../lifecycle/lifecycle-services.js";
import { provisionTenant } from "../lifecycle/provision.js";
import { newId } from "../modules/common/ids.js";
import { MEMBER_ROLE } from "../rbac/permissions.js";

/** How much a benchmark tenant holds. */
export interface VolumeSpec {
  readonly users: number;
  readonly organizations: number;
  /** Each user joins between 1 and this many organizations. */
  readonly maxMembershipsPerUser: number;
  readonly challenges: number;
  readonly submissionsPerChallenge: number;
  readonly dashboards: number;
}

/** A mid-sized tenant: enough rows that batching and caching matter. */
export const DEFAULT_VOLUME: VolumeSpec = Object.freeze({
  users: 500,
  organizations: 20,
  maxMembershipsPerUser: 3,
  challenges: 50,
  submissionsPerChallenge: 20,
  dashboards: 5,
});

export interface SeededUser {
  id: string;
  name: string;
  /** Names of the organizations the user belongs to. */
  organizations: string[];
}

export interface SeededChallenge {
  id: string;
  title: string;
  submissions: { id: string; authorId: string; score: number }[];
}

/** What was written, so the benchmark can predict every answer. */
export interface SeededVolume {
  tenantId: string;
  /** A plain member of the tenant, the benchmark's caller. */
  callerId: string;
  users: Map<string, SeededUser>;
  challenges: SeededChallenge[];
  memberships: number;
}

const FIRST_NAMES = [
  "Ada",
  "Bruno",
  "Chiara",
  "Dmitri",
  "Elif",
  "Farid",
  "Greta",
  "Hiro",
  "Ines",
  "Jonas",
  "Kavya",
  "Luca",
  "Mei",
  "Nadia",
  "Omar",
  "Priya",
  "Quentin",
  "Rosa",
  "Sven",
  "Tariq",
  "Uma",
  "Viktor",
  "Wanjiru",
  "Ximena",
  "Yusuf",
];
const LAST_NAMES = [
  "Abe",
  "Bauer",
  "Costa",
  "Diallo",
  "Eriksen",
  "Fischer",
  "Garcia",
  "Haddad",
  "Ivanova",
  "Jensen",
  "Kowalski",
  "Lopez",
  "Moreau",
  "Nakamura",
  "Okafor",
  "Petrov",
  "Rossi",
  "Silva",
  "Tanaka",
  "Weber",
];
const TEAMS = ["Research", "Sales", "Support", "Platform", "Design", "Finance", "Legal"];

/**
 * A small seeded generator (mulberry32): the same tenant every run, so runs compare.
 * Not for anything secret.
 */
function createRandom(seed: number): () => number {
  let state = seed >>> 0;

  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);

    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** The item at `index`; the caller has already bounded it by the list's length. */
function at<T>(items: readonly T[], index: number): T {
  const item = items[index];
  if (item === undefined) throw new RangeError(`No item ${index} in a list of ${items.length}.`);

  return item;
}

function pickDistinct<T>(items: readonly T[], count: number, random: () => number): T[] {
  const pool = [...items];
  const picked: T[] = [];
  while (picked.length < count && pool.length > 0) {
    picked.push(...pool.splice(Math.floor(random() * pool.length), 1));
  }

  return picked;
}

/**
 * Provisions a shared tenant and fills it with `spec`'s rows in one transaction bound to
 * the tenant, as the gateway's own writes are. Every seeded user holds the built-in
 * `member` role.
 */
export async function seedVolume(
  lifecycle: LifecycleServices,
  tenantId: string,
  spec: VolumeSpec = DEFAULT_VOLUME,
): Promise<SeededVolume> {
  const random = createRandom(20_261_204);
  const { database } = lifecycle;
  await provisionTenant(
    lifecycle,
    {
      id: tenantId,
      name: `Benchmark ${tenantId}`,
      isolation: Isolation.SHARED,
      adminEmail: `admin@${tenantId}.test`,
    },
    "bench:seed",
  );

  // People, organizations and who belongs where.
  const users = Array.from({ length: spec.users }, (_, n) => ({
    tenantId,
    id: newId(),
    email: `user${n + 1}@${tenantId}.test`,
    name: `${at(FIRST_NAMES, n % FIRST_NAMES.length)} ${at(LAST_NAMES, Math.floor(n / FIRST_NAMES.length) % LAST_NAMES.length)}`,
  }));
  const organizations = Array.from({ length: spec.organizations }, (_, n) => ({
    tenantId,
    id: newId(),
    name: `${at(TEAMS, n % TEAMS.length)} ${Math.floor(n / TEAMS.length) + 1}`,
  }));
  const memberships = users.flatMap((user) => {
    const count = 1 + Math.floor(random() * spec.maxMembershipsPerUser);
    return pickDistinct(organizations, count, random).map((org) => ({
      tenantId,
      organizationId: org.id,
      userId: user.id,
      role: random() < 0.05 ? MembershipRole.ADMIN : MembershipRole.MEMBER,
    }));
  });

  // Challenges, each answered by authors drawn from every user.
  const challenges: SeededChallenge[] = Array.from({ length: spec.challenges }, (_, n) => ({
    id: newId(),
    title: `Challenge ${n + 1}`,
    submissions: Array.from({ length: spec.submissionsPerChallenge }, () => ({
      id: newId(),
      authorId: at(users, Math.floor(random() * users.length)).id,
      score: Math.round(random() * 1_000) / 10,
    })),
  }));
  const dashboards = Array.from({ length: spec.dashboards }, (_, n) => ({
    tenantId,
    id: newId(),
    title: `Dashboard ${n + 1}`,
    ownerId: at(users, Math.floor(random() * users.length)).id,
    modules: ["overview", "challenges"],
  }));

  await database.forTenant(tenantId).transaction(async (tx) => {
    await tx.user.createMany({ data: users });
    await tx.roleAssignment.createMany({
      data: users.map((user) => ({ tenantId, userId: user.id, roleName: MEMBER_ROLE })),
    });
    await tx.organization.createMany({ data: organizations });
    await tx.membership.createMany({ data: memberships });
    await tx.challenge.createMany({
      data: challenges.map(({ id, title }) => ({ tenantId, id, title })),
    });
    await tx.submission.createMany({
      data: challenges.flatMap((challenge) =>
        challenge.submissions.map((s) => ({ tenantId, challengeId: challenge.id, ...s })),
      ),
    });
    await tx.dashboard.createMany({ data: dashboards });
  });

  const orgNames = new Map(organizations.map((org) => [org.id, org.name]));
  const seededUsers = new Map<string, SeededUser>(
    users.map((user) => [user.id, { id: user.id, name: user.name, organizations: [] }]),
  );
  for (const membership of memberships) {
    seededUsers
      .get(membership.userId)
      ?.organizations.push(orgNames.get(membership.organizationId) ?? "");
  }

  return {
    tenantId,
    callerId: at(users, 0).id,
    users: seededUsers,
    challenges,
    memberships: memberships.length,
  };
}
