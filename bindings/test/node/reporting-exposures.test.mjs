// Exposures as the control plane takes them: both providers check each exposure as the
// control plane does and leave out (and count as dropped) what it would drop, so that
// no exposure costs a report; and what the control plane says of a refusal is logged,
// with the member it names.
import { test } from "node:test";
import assert from "node:assert/strict";
import { envelope, payload } from "./sign.mjs";
import { telemetryServer } from "./telemetry-server.mjs";
import { KINDS, ann, reporting, times } from "./reporting-setup.mjs";

/** A boolean flag whose one rule, `id`, serves `on` to everyone. */
const ruled = (id) => ({ type: "boolean", enabled: true, variants: { on: true, off: false }, off_variant: "off", fallthrough: { variant: "off" }, rules: [{ id, serve: { variant: "on" } }] });
const flags = envelope(payload(1, {
  "empty-rule": ruled(""),
  "long-rule": ruled("r".repeat(1_025)),
  "longest-rule": ruled("r".repeat(1_024)),
  plain: { type: "boolean", enabled: true, variants: { on: true, off: false }, off_variant: "off", fallthrough: { variant: "on" } },
}));
/** A display name cut mid-emoji with `.slice()`: it ends in half a surrogate pair. */
const cut = "Zo\u00eb \u{1f600} Smith".slice(0, 5);

for (const kind of Object.keys(KINDS)) {
  test(`${kind}: exposures the control plane would drop are left out and counted, never failing the report`, async (t) => {
    const server = await telemetryServer();
    t.after(server.close);
    const { provider, evaluate } = await reporting(t, kind, server, { envelope: flags, exposureCapacity: 100, exposures: "all" });
    assert.equal((await evaluate("empty-rule", ann)).value, true);
    assert.equal((await evaluate("longest-rule", ann)).value, true);
    assert.equal((await evaluate("long-rule", ann)).value, true);
    await times(50, () => evaluate("plain", ann));
    const zoe = await evaluate("plain", { targetingKey: cut });
    assert.equal(zoe.value, true, `${zoe.errorCode}`);
    assert.equal(await provider.flushTelemetry(), "accepted");
    const [report] = server.accepted();
    assert.deepEqual(report.counts.map((c) => [c.flag, c.count]), [["empty-rule", 1], ["long-rule", 1], ["longest-rule", 1], ["plain", 51]]);
    const sent = report.exposures.map((e) => [e.flag, e.rule_id?.length, e.targeting_key]);
    assert.deepEqual(sent.slice(0, 2), [["empty-rule", 0, "ann"], ["longest-rule", 1_024, "ann"]]);
    assert.equal(sent.length, 2 + 50, "the 50 of `plain` for ann");
    assert.equal(report.exposures_dropped, 2, "a rule id over 1,024 bytes, and a lone surrogate");
  });

  test(`${kind}: what the control plane says of a refusal is logged with the member it names`, async (t) => {
    const server = await telemetryServer();
    t.after(server.close);
    const refusal = { field: "exposures[1].rule_id", message: "must be 0 to 1024 bytes long" };
    server.script.push(
      { status: 422, field: "counts[0].count", message: "must be a whole number from 1 to 9007199254740991" },
      { status: 202, extra: { exposures_refused: 2, exposure_refusal: refusal } },
      { status: 202, extra: { exposures_refused: 1, exposure_refusal: refusal } },
    );
    const { provider, evaluate, warnings } = await reporting(t, kind, server);
    for (let i = 0; i < 3; i++) {
      await evaluate("beta", ann);
      await provider.flushTelemetry();
    }
    assert.match(warnings.join("\n"), /HTTP 422: counts\[0\]\.count: must be a whole number from 1 to 9007199254740991; the report is dropped/);
    const dropped = warnings.filter((w) => w.includes("dropped 2 exposures"));
    assert.deepEqual(dropped, ["pennon: telemetry: the control plane dropped 2 exposures of a report (the first: exposures[1].rule_id: must be 0 to 1024 bytes long); its counts were kept"]);
    assert.equal(warnings.filter((w) => w.includes("dropped 1 exposure ")).length, 1, "another count is another message");
  });
}
