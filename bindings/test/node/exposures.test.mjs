// Which evaluations are exposures (`exposures`), and the host's listener (`onExposure`)
// beside the reports, in both providers: the listener and the control plane both get
// every exposure, a kill switch takes no room in the queue, and a listener that throws
// (or rejects) is logged once while every evaluation returns its value.
import { test } from "node:test";
import assert from "node:assert/strict";
import { envelope, payload } from "./sign.mjs";
import { telemetryServer } from "./telemetry-server.mjs";
import { KINDS, reporting } from "./reporting-setup.mjs";

const boolean = (extra = {}) => ({ type: "boolean", enabled: true, variants: { on: true, off: false }, off_variant: "off", fallthrough: { variant: "on" }, ...extra });
const rollout = (on, off) => ({ rollout: { variants: [{ variant: "on", weight: on }, { variant: "off", weight: off }] } });
/** A kill switch, a flag a rule decides, one switched off, a 50/50 experiment and a
 *  rollout now at 100%. */
const flags = envelope(payload(1, {
  "kill-switch": boolean(),
  "staff-only": boolean({ rules: [{ id: "staff", serve: { variant: "on" } }] }),
  "switched-off": boolean({ enabled: false }),
  experiment: boolean({ fallthrough: rollout(1, 1) }),
  launched: boolean({ fallthrough: rollout(1, 0) }),
}));
const FLAGS = ["kill-switch", "staff-only", "switched-off", "experiment", "launched"];
const user = (n) => ({ targetingKey: `user-${n}` });

/** Evaluates every flag for `users` users; the values served, in order. */
async function evaluateAll(evaluate, users) {
  const values = [];
  for (let n = 0; n < users; n++) for (const flag of FLAGS) values.push((await evaluate(flag, user(n))).value);
  return values;
}

for (const kind of Object.keys(KINDS)) {
  test(`${kind}: the listener and the reports both get every exposure, and a kill switch takes no room`, async (t) => {
    const server = await telemetryServer();
    t.after(server.close);
    const heard = [];
    const users = 300;
    // Room for the experiment's exposures only (the trial: 100 drained, 200 dropped).
    const { provider, evaluate } = await reporting(t, kind, server, { envelope: flags, exposureCapacity: users, onExposure: (e) => heard.push(e) });
    for (let n = 0; n < users; n++) {
      assert.equal((await evaluate("kill-switch", user(n))).value, true);
      await evaluate("experiment", user(n));
    }
    assert.equal(await provider.flushTelemetry(), "accepted");
    const [report] = server.accepted();
    const sent = report.exposures.map((e) => [e.flag, e.variant, e.targeting_key, e.timestamp_ms]);
    assert.equal(sent.length, users);
    assert.deepEqual(heard.map((e) => [e.flag, e.variant, e.targetingKey, e.timestampMs]), sent, "the same exposures, in order");
    assert.deepEqual(new Set(sent.map(([, variant]) => variant)), new Set(["on", "off"]), "both arms");
    assert.equal(report.exposures_dropped, 0);
    assert.ok(report.counts.some((c) => c.flag === "kill-switch" && c.variant === "on" && c.count === users), "counted, not exposed");
  });

  test(`${kind}: by default only rollouts make exposures; "all" makes one of every variant served`, async (t) => {
    const server = await telemetryServer();
    t.after(server.close);
    const heard = [];
    const split = await reporting(t, kind, server, { envelope: flags, exposureCapacity: 10, onExposure: (e) => heard.push(e) });
    await evaluateAll(split.evaluate, 1);
    const queued = split.provider.telemetry.drainExposures();
    assert.deepEqual(queued.map((e) => [e.flag, e.reason]), [["experiment", "SPLIT"], ["launched", "SPLIT"]], "a rollout at 100% is a split still");
    assert.deepEqual(heard, queued, "the listener gets the record the queue holds");
    assert.equal(split.provider.telemetry.counts().counts.length, FLAGS.length, "every flag is counted");

    heard.length = 0;
    const all = await reporting(t, kind, server, { envelope: flags, exposureCapacity: 10, exposures: "all", onExposure: (e) => heard.push(e) });
    await evaluateAll(all.evaluate, 1);
    const every = all.provider.telemetry.drainExposures();
    const reasons = [["kill-switch", "STATIC"], ["staff-only", "TARGETING_MATCH"], ["switched-off", "DISABLED"], ["experiment", "SPLIT"], ["launched", "SPLIT"]];
    assert.deepEqual(every.map((e) => [e.flag, e.reason]), reasons);
    assert.deepEqual(heard, every);
  });

  test(`${kind}: the listener gets every exposure without a queue, and past a full one`, async (t) => {
    const server = await telemetryServer();
    t.after(server.close);
    const heard = [];
    const alone = await reporting(t, kind, server, { envelope: flags, onExposure: (e) => heard.push(e) });
    await evaluateAll(alone.evaluate, 20);
    assert.equal(heard.length, 2 * 20);
    assert.deepEqual([alone.provider.telemetry.drainExposures().length, alone.provider.telemetry.exposuresDropped], [0, 0], "no queue, none dropped");

    heard.length = 0;
    const full = await reporting(t, kind, server, { envelope: flags, exposureCapacity: 15, onExposure: (e) => heard.push(e) });
    await evaluateAll(full.evaluate, 20);
    assert.deepEqual([heard.length, full.provider.telemetry.exposuresDropped], [2 * 20, 2 * 20 - 15]);
    assert.deepEqual(full.provider.telemetry.drainExposures(), heard.slice(0, 15), "the queue holds the first 15 the listener got");
  });

  test(`${kind}: a listener that throws, changes the record or rejects is logged once, and evaluations return their values`, async (t) => {
    const server = await telemetryServer();
    t.after(server.close);
    const plain = await reporting(t, kind, server, { envelope: flags });
    const expected = await evaluateAll(plain.evaluate, 10);
    const listeners = {
      throws: (e) => { throw new Error(`no route to the warehouse for ${e.flag}`); },
      // The record is frozen: the reports send the same one.
      changes: (e) => { e.variant = "tampered"; },
      rejects: async (e) => { throw new Error(`the warehouse refused ${e.flag}`); },
    };
    const said = {
      throws: "no route to the warehouse for experiment",
      changes: "TypeError: Cannot assign to read only property 'variant'",
      rejects: "the warehouse refused experiment",
    };
    for (const [name, onExposure] of Object.entries(listeners)) {
      let calls = 0;
      const counted = (e) => { calls++; return onExposure(e); };
      const { provider, evaluate, warnings } = await reporting(t, kind, server, { envelope: flags, exposureCapacity: 100, onExposure: counted });
      assert.deepEqual(await evaluateAll(evaluate, 10), expected, `${name}: every evaluation returned its value`);
      await new Promise((resolve) => setTimeout(resolve, 0)); // the rejections are handled
      assert.equal(calls, 2 * 10, `${name}: called with every exposure, after failing too`);
      const queued = provider.telemetry.drainExposures();
      assert.equal(queued.length, 2 * 10, `${name}: and the queue still got each`);
      assert.ok(queued.every((e) => e.variant === "on" || e.variant === "off"), `${name}: unchanged`);
      const logged = warnings.filter((w) => w.includes("onExposure"));
      assert.equal(logged.length, 1, `${name}: logged once: ${logged.join("\n")}`);
      assert.ok(logged[0].startsWith("pennon: the exposure listener (onExposure) failed on an exposure of `experiment`: "), logged[0]);
      assert.ok(logged[0].includes(said[name]), `${name}: ${logged[0]}`);
    }
  });
}
