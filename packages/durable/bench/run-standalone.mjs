// What each durable benchmark does when run on its own (`node packages/durable/bench/X.mjs`): needs a
// PostgreSQL admin URL in KILN_TEST_PG_URL, prints the figures as JSON and exits.

/** Runs `bench({ pgUrl })` and prints its figures when `moduleUrl` is the script node was started with. */
export async function runStandalone(moduleUrl, bench) {
  if (moduleUrl !== `file://${process.argv[1]}`) return;
  const pgUrl = process.env.KILN_TEST_PG_URL;
  if (!pgUrl) {
    process.stderr.write('KILN_TEST_PG_URL is not set: eval "$(scripts/pg-test-cluster.sh start)"\n');
    process.exit(1);
  }
  process.stdout.write(`${JSON.stringify(await bench({ pgUrl }), null, 2)}\n`);
  process.exit(0);
}
