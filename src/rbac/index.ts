export { createPermissions, RULE_TREE } from "./rule-tree.js";
export { guard, negate } from "./rules.js";
export type { Check, RuleScope } from "./rules.js";
export { ANONYMOUS, hasPermission, holdsAll, isTenantAdmin } from "./access.js";
export type { Access } from "./access.js";
export * from "./permissions.js";
