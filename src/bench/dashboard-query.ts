import type { SeededVolume } from "./seed-volume.js";

/** The dashboard's query: challenges, their submissions, authors and authors' teams. */
export const DASHBOARD_QUERY =
  "{ challenges(first: 50) { edges { node { title submissions { score author { name " +
  "organizations { name } } } } } } }";

/** A dashboard answer in a form that compares as a string. */
interface Summary {
  title: string;
  submissions: { score: number; author: string; organizations: string[] }[];
}

interface DashboardBody {
  data?: {
    challenges: {
      edges: {
        node: {
          title: string;
          submissions: {
            score: number;
            author: { name: string; organizations: { name: string }[] };
          }[];
        };
      }[];
    };
  } | null;
  errors?: { message: string; extensions?: { code?: unknown } }[];
}

// Memberships made in one statement share their creation time, so the order of a user's
// organizations is not defined; both sides sort them.
const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The exact answer the seeded tenant must give: the first 50 challenges and their
 * submissions in id order, as the gateway pages them.
 */
export function expectedDashboard(volume: SeededVolume): string {
  const challenges = [...volume.challenges].sort((a, b) => byText(a.id, b.id)).slice(0, 50);
  const summary: Summary[] = challenges.map((challenge) => ({
    title: challenge.title,
    submissions: [...challenge.submissions]
      .sort((a, b) => byText(a.id, b.id))
      .map((submission) => {
        const author = volume.users.get(submission.authorId);
        return {
          score: submission.score,
          author: author?.name ?? "(unknown author)",
          organizations: [...(author?.organizations ?? [])].sort(byText),
        };
      }),
  }));

  return JSON.stringify(summary);
}

function summarize(body: DashboardBody): Summary[] {
  return (body.data?.challenges.edges ?? []).map(({ node }) => ({
    title: node.title,
    submissions: node.submissions.map((submission) => ({
      score: submission.score,
      author: submission.author.name,
      organizations: submission.author.organizations.map((org) => org.name).sort(byText),
    })),
  }));
}

/**
 * Says what is wrong with one answer, or returns null when it is exactly `expected`
 * (from {@link expectedDashboard}).
 */
export function checkDashboard(status: number, body: unknown, expected: string): string | null {
  const answer = body as DashboardBody;
  if (answer.errors?.length) {
    const first = answer.errors[0];
    return `HTTP ${status}, ${answer.errors.length} error(s), first ${String(first?.extensions?.code)}: ${first?.message}`;
  }
  if (status !== 200) return `HTTP ${status} without GraphQL errors`;

  let summary: Summary[];
  try {
    summary = summarize(answer);
  } catch (error) {
    return `malformed data: ${error instanceof Error ? error.message : String(error)}`;
  }
  if (summary.length !== 50) return `${summary.length} challenges instead of 50`;
  const short = summary.findIndex((challenge) => challenge.submissions.length !== 20);
  if (short >= 0) {
    const count = summary[short]?.submissions.length;
    return `challenge ${short + 1} has ${count} submissions instead of 20`;
  }
  if (JSON.stringify(summary) !== expected) {
    const wanted = JSON.parse(expected) as Summary[];
    const first = summary.findIndex((c, n) => JSON.stringify(c) !== JSON.stringify(wanted[n]));
    return `challenge ${first + 1} differs from the seeded data: ${JSON.stringify(summary[first]).slice(0, 300)}`;
  }

  return null;
}
