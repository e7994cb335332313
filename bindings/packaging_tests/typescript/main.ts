// Type-checked, never run (`tsconfig.node.json`): a Node service on `lib: ["es2022"]`
// and `@types/node`, without the DOM lib and without `skipLibCheck`.
import { Engine, init, initSync, isPennonError, type CompiledModule, type Resolution, type WasmSource } from "pennon";
import { PennonServerProvider, type PennonLogger } from "pennon/server";
import type { Logger } from "@openfeature/server-sdk";
import { PennonServerProvider as WorkerdProvider } from "pennon/workerd";
import { PennonWebProvider, type KeyValueStorage } from "pennon/web";
import imported from "pennon/pennon.wasm";
import importedForVercel from "pennon/pennon.wasm?module";

export async function evaluate(envelope: Uint8Array, key: string, wasm: WasmSource): Promise<boolean> {
  await init(wasm);
  using engine = new Engine({ keys: [key], environment: "production" });
  engine.load(envelope, Date.now());
  const resolution: Resolution = engine.evaluate("new-checkout", { targetingKey: "user-1", plan: "pro" }, Date.now());
  return resolution.value === true;
}

export function fromCompiled(module: CompiledModule): void {
  initSync(module);
  initSync(imported); // Workers: the subpath imported as a compiled module
  initSync(importedForVercel); // Vercel Edge's `?module` import
  // @ts-expect-error a number is neither a module nor bytes
  initSync(42);
}

export function refusalKind(error: unknown): string | undefined {
  return isPennonError(error) ? error.kind : undefined;
}

export const providers = [new PennonServerProvider({ keys: [], environment: "production" }), WorkerdProvider];

// Server rendering builds the web provider too, without the DOM lib: its storage type
// must not need `Storage`.
export function renderedProvider(envelope: string, store: Map<string, string>): PennonWebProvider {
  const storage: KeyValueStorage = { getItem: (key) => store.get(key) ?? null, setItem: (key, value) => void store.set(key, value) };
  return new PennonWebProvider({ keys: ["ed25519:…"], environment: "production", envelope, storage });
}

// A `logger` needs `warn`; an OpenFeature-style literal with every level is taken as it is
// (it was an excess-property error, TS2353), and so is an OpenFeature `Logger`.
export function logged(openFeature: Logger): PennonServerProvider[] {
  const literal = { keys: [], environment: "production", logger: { error: console.error, warn: console.warn, info: console.info, debug: console.debug } };
  const warnOnly: PennonLogger = { warn: (message: string) => void message };
  // @ts-expect-error `warn` is what the provider calls
  const noWarn: PennonLogger = { error: console.error };
  void noWarn;
  return [
    new PennonServerProvider(literal),
    new PennonServerProvider({ keys: [], environment: "production", logger: { error() {}, warn() {}, info() {}, debug() {} } }),
    new PennonServerProvider({ keys: [], environment: "production", logger: openFeature }),
    new PennonServerProvider({ keys: [], environment: "production", logger: warnOnly }),
  ];
}
