// Builds the npm package: TypeScript to dist/, plus the wasm-bindgen glue and
// pennon.wasm that wasm/build.sh left in src/wasm/.
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const generated = `${root}src/wasm/`;
for (const file of ["pennon_wasm.js", "pennon_wasm.d.ts", "pennon.wasm"]) {
  if (!existsSync(generated + file)) {
    console.error(`missing src/wasm/${file}: run wasm/build.sh first`);
    process.exit(1);
  }
}
rmSync(`${root}dist`, { recursive: true, force: true });
execFileSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, "-p", root], { stdio: "inherit" });
mkdirSync(`${root}dist/wasm`, { recursive: true });
copyFileSync(generated + "pennon_wasm.js", `${root}dist/wasm/pennon_wasm.js`);
copyFileSync(generated + "pennon_wasm.d.ts", `${root}dist/wasm/pennon_wasm.d.ts`);
copyFileSync(generated + "pennon.wasm", `${root}dist/pennon.wasm`);
console.log("built bindings/dist");
