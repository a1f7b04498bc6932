/** Who is calling, as a verified token says. Tenant roles are not here: they live in tenant data. */
export interface Principal {
  /** The token's `sub`. */
  userId: string;
  /** The token's `tid`; `null` for platform staff, whose tokens name no tenant. */
  tenantId: string | null;
  /** The token's `roles` (platform roles such as `global_admin`); empty when absent. */
  platformRoles: string[];
  /** `global_admin` in `roles` on a token without `tid`. */
  isGlobalAdmin: boolean;
}

/** Turns a bearer token into a {@link Principal}. */
export interface TokenVerifier {
  /**
   * Verifies signature, algorithm, expiry, issuer and audience, then the claims.
   *
   * @throws GatewayError `UNAUTHENTICATED` with a message fit to show a person.
   */
  verify(token: string): Promise<Principal>;
}

/** The platform role of NewFinity staff who administer every tenant. */
export const GLOBAL_ADMIN_ROLE = "global_admin";
