/**
 * `npm run token -- --tenant ID --user ID [--role global_admin] [--expires 8h]`
 *
 * Prints a signed development token, signed with `JWT_SECRET` (or the development key), and
 * nothing else on standard output, so `TOKEN=$(npm run -s token -- …)` works. Warnings and
 * errors go to standard error. Kept free of anything heavy: no database, no server.
 */
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { GLOBAL_ADMIN_ROLE, issueDevelopmentToken } from "../auth/index.js";
import { loadConfig } from "../config/index.js";
import { isTenantId } from "../tenancy/index.js";

const USAGE = [
  "Usage: npm run token -- --tenant ID --user ID [--role ROLE]... [--expires 8h]",
  "       npm run token -- --user ID --role global_admin [--expires 8h]",
  "",
  "  --tenant   tenant id of a tenant user (omit for a global admin)",
  "  --user     user id, the token's sub (required)",
  "  --role     platform role, may repeat (global_admin)",
  "  --expires  lifetime such as 30m, 8h, 2 days (default 8h)",
  "",
].join("\n");

/** What one run of the script produced; the caller writes it out. */
export interface TokenScriptResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/**
 * Runs the script on `argv` (the arguments after the script name) and `env`, without touching
 * the process, so tests can call it directly.
 */
export async function main(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<TokenScriptResult> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        tenant: { type: "string" },
        user: { type: "string" },
        role: { type: "string", multiple: true },
        expires: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    return failure(`${messageOf(error)}\n\n${USAGE}`);
  }

  if (values.help) return { stdout: USAGE, stderr: "", exitCode: 0 };
  if (values.user === undefined || values.user.trim() === "") return failure(USAGE);

  const roles = [...new Set(values.role ?? [])];
  const isGlobalAdmin = roles.includes(GLOBAL_ADMIN_ROLE);
  if (isGlobalAdmin && values.tenant !== undefined) {
    return failure(
      "A global admin token names no tenant: drop --tenant when using --role global_admin.\n",
    );
  }
  if (!isGlobalAdmin && values.tenant === undefined) {
    return failure(`--tenant is required unless --role ${GLOBAL_ADMIN_ROLE} is given.\n\n${USAGE}`);
  }
  if (values.tenant !== undefined && !isTenantId(values.tenant)) {
    return failure(
      "--tenant must be 3 to 40 lowercase letters, digits or hyphens, starting with a letter.\n",
    );
  }
  if (roles.some((role) => role.trim() === "")) return failure("--role must not be empty.\n");

  let config;
  try {
    // It signs a token and exits: it serves no /metrics.
    config = loadConfig(env, { servesMetrics: false });
  } catch (error) {
    return failure(`${messageOf(error)}\n`);
  }

  const warnings: string[] = [];
  if (config.jwt.usingDevelopmentSecret) {
    warnings.push("warning: JWT_SECRET is not set; signing with the development key.");
  }
  if (config.jwt.jwksUrl !== undefined) {
    warnings.push("warning: JWKS_URL is set, so the gateway will not accept this HS256 token.");
  }

  try {
    const token = await issueDevelopmentToken(
      config.jwt.secret,
      {
        sub: values.user,
        ...(values.tenant === undefined ? {} : { tid: values.tenant }),
        ...(roles.length === 0 ? {} : { roles }),
        expiresIn: values.expires ?? "8h",
      },
      { issuer: config.jwt.issuer, audience: config.jwt.audience },
    );

    return { stdout: `${token}\n`, stderr: lines(warnings), exitCode: 0 };
  } catch (error) {
    // jose rejects an unreadable --expires with a TypeError ("Invalid time period format").
    return failure(`${lines(warnings)}Could not sign the token: ${messageOf(error)}\n`);
  }
}

function failure(stderr: string): TokenScriptResult {
  return { stdout: "", stderr, exitCode: 1 };
}

function lines(messages: string[]): string {
  return messages.map((message) => `${message}\n`).join("");
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  const result = await main(process.argv.slice(2), process.env);
  process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);
  process.exitCode = result.exitCode;
}
