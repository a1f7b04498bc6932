import "reflect-metadata";
import { writeFile } from "node:fs/promises";
import { buildBareSchema, printGatewaySchema } from "../server/schema.js";

/** Writes `schema.graphql` from the type-graphql schema (`npm run schema`). */
const sdl = printGatewaySchema(await buildBareSchema());
await writeFile(new URL("../../schema.graphql", import.meta.url), sdl);
process.stdout.write(`schema.graphql written (${sdl.length} bytes)\n`);
