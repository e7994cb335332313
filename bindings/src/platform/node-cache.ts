/// <reference types="node" />
/**
 * The server provider's cache file in Node (and Deno and Bun, which take the `node`
 * condition): the Rust provider's `cache_dir` file (`provider/src/cache.rs`), with the
 * same name, so that providers of either kind may share a directory.
 *
 * Named by environment and trust policy (keys, threshold, audience): providers of two
 * control planes, or of both audiences, do not replace each other's file, and a changed
 * key set starts with a file of its own. Written atomically (temp file, fsync, rename,
 * fsync of the directory): a crash leaves the old file or the new one, never half of
 * one. Never written over with an older version than the file verifies as, which
 * would lower the next start's rollback floor. Writes run in the background, one at a
 * time; the start's read is synchronous (once, before anything is served).
 */

import { createHash } from "node:crypto";
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { mkdir, open, rename, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { CacheFile, CacheFileOptions } from "../cache-dir.js";
import type { StoredEnvelope } from "../sync-options.js";

const SUFFIX = ".envelope.json";
/** Hex digits of the policy tag, as the Rust provider's (48 bits). */
const TAG_HEX = 12;

/** Temp files written by this process so far: each write's name is its own. */
let temps = 0;

/** The cache file for `options`; nothing is read or written until asked. */
export function cacheFile(options: CacheFileOptions): CacheFile {
  return new EnvelopeFile(options);
}

class EnvelopeFile implements CacheFile {
  readonly where: string;
  readonly #dir: string;
  readonly #name: string;
  readonly #path: string;
  readonly #options: CacheFileOptions;
  /** The newest version this process wrote, or found on disk when it meant to. */
  #written = 0;
  /** The SHA-256 of that version's file: found again on disk, it needs no verifying. */
  #writtenDigest: string | undefined;
  /** The writes asked for, one after another. */
  #writes: Promise<void> = Promise.resolve();

  constructor(options: CacheFileOptions) {
    this.#options = options;
    this.#dir = resolve(options.dir instanceof URL ? fileURLToPath(options.dir) : options.dir);
    this.#name = `${environmentPart(options.environment)}.${policyTag(options)}${SUFFIX}`;
    this.#path = join(this.#dir, this.#name);
    this.where = `the last-known-good cache ${this.#path}`;
  }

  /** The file's text; none when there is no file yet, or it cannot be read (warned of). */
  load(): StoredEnvelope | undefined {
    let bytes: Uint8Array | undefined;
    try {
      bytes = readCapped(this.#path, this.#options.maxBytes);
    } catch (error) {
      this.#options.warn(`cannot read ${this.where}: ${message(error)}; ignoring it`);
      return undefined;
    }
    // Unverified: the engine verifies it before anything serves it.
    return bytes === undefined ? undefined : { text: new TextDecoder().decode(bytes), version: undefined, validator: undefined };
  }

  /** Writes `text`, version `version` (verified and served), in the background. */
  save(text: string, version: number): void {
    this.#writes = this.#writes
      .then(() => this.#write(text, version))
      .catch((error: unknown) => this.#options.warn(`cannot write ${this.where}: ${message(error)}; serving version ${version} without it`));
  }

  flush(): Promise<void> {
    return this.#writes;
  }

  /**
   * Writes unless the file verifies as this version or a newer one: another process
   * sharing the directory may have written it. Node has no file lock, so two processes
   * writing at the same moment may each check before the other renames, and the older
   * of their versions can end on disk; the next version written mends it.
   */
  async #write(text: string, version: number): Promise<void> {
    if (version <= this.#written) return;
    await mkdir(this.#dir, { recursive: true });
    const onDisk = await readCappedAsync(this.#path, this.#options.maxBytes);
    const onDiskDigest = onDisk === undefined ? undefined : sha256(onDisk);
    const held = onDisk === undefined ? undefined : onDiskDigest === this.#writtenDigest ? this.#written : this.#options.versionOf(onDisk);
    if (held !== undefined && held >= version) {
      [this.#written, this.#writtenDigest] = [held, onDiskDigest];
      return;
    }
    const temp = join(this.#dir, `.${this.#name}.${process.pid}.${temps++}.tmp`);
    try {
      const file = await open(temp, "wx");
      try {
        await file.writeFile(text);
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temp, this.#path);
    } catch (error) {
      await rm(temp, { force: true }).catch(() => {});
      throw error;
    }
    await syncDirectory(this.#dir);
    [this.#written, this.#writtenDigest] = [version, sha256(text)];
  }
}

/** Makes the rename durable where a directory can be synced (not on Windows); where it
 *  cannot, the rename is atomic still. */
async function syncDirectory(dir: string): Promise<void> {
  if (process.platform === "win32") return;
  try {
    const handle = await open(dir, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // The file is written; only its survival of a power cut is less sure.
  }
}

/** At most one byte over `maxBytes` of the file at `path` (enough for the engine to
 *  refuse it as too large); none when there is no file. */
function readCapped(path: string, maxBytes: number): Uint8Array | undefined {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  try {
    const bytes = new Uint8Array(Math.min(fstatSync(fd).size, maxBytes + 1));
    return bytes.subarray(0, readSync(fd, bytes, 0, bytes.length, 0));
  } finally {
    closeSync(fd);
  }
}

/** `readCapped`, without blocking: the check before each write. */
async function readCappedAsync(path: string, maxBytes: number): Promise<Uint8Array | undefined> {
  let file;
  try {
    file = await open(path, "r");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  try {
    const bytes = new Uint8Array(Math.min((await file.stat()).size, maxBytes + 1));
    const { bytesRead } = await file.read(bytes, 0, bytes.length, 0);
    return bytes.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}

function sha256(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/** A file system error as a log line: Node's message names the call and the path. */
function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * `pennon-<environment>`, or `pennon-hex.<hex>` when the environment holds anything but
 * ASCII letters, digits, `-` and `_`: any environment gives a safe file name, and the
 * two forms cannot collide (the first has no `.`).
 */
function environmentPart(environment: string): string {
  if (/^[A-Za-z0-9_-]*$/.test(environment)) return `pennon-${environment}`;
  return `pennon-hex.${Buffer.from(environment, "utf8").toString("hex")}`;
}

/**
 * Names what decides whether a cached envelope verifies, apart from the environment:
 * the trusted keys (by key id, in any order), the threshold and the audience, hashed
 * as the Rust provider's `policy_tag` does. A key that is not `ed25519:<base64>` is
 * refused at start by the engine; its tag is whatever its bytes give.
 */
function policyTag({ keys, threshold, audience }: CacheFileOptions): string {
  const ids = [...new Set(keys.map(keyId))].sort();
  const text = `pennon cache policy 1\n${audience}\n${threshold}\n${ids.join(",")}`;
  return createHash("sha256").update(text).digest("hex").slice(0, TAG_HEX);
}

/** A key's id (SPEC 2.1): hex of the first 8 bytes of SHA-256 over the raw key. */
function keyId(key: string): string {
  const raw = Buffer.from(key.trim().replace(/^ed25519:/, ""), "base64");
  return createHash("sha256").update(raw).digest("hex").slice(0, 16);
}
