// The small schema checkers (store/validate.ts) and safe quoting (store/quote.ts) every reader of
// fmbench's own files uses: what each accepts, what it refuses, and how the message reads.
import assert from "node:assert/strict";
import {
  arr,
  checkFile,
  FileCheckError,
  jsonDepth,
  literal,
  MAX_JSON_DEPTH,
  nullable,
  num,
  obj,
  optional,
  parseJson,
  record,
  show,
  str,
  tuple,
  ValidationError,
} from "../store/validate.ts";
import { quote, quoteList, safeMessage, safeText } from "../store/quote.ts";
import { moveAside, setAside } from "../store/move-aside.ts";

/** The message a check throws for `v` (it must throw a ValidationError). */
function refusal(check: (v: unknown, at: string) => unknown, v: unknown): string {
  try {
    check(v, "x");
  } catch (e) {
    assert.ok(e instanceof ValidationError, String(e));
    return e.message;
  }
  throw new Error(`accepted ${show(v)}`);
}

Deno.test("validate: numbers: finite by default, integer and range bounds inclusive", () => {
  const step = num({ int: true, min: 0, max: 40 });
  assert.equal(step(0, "x"), 0);
  assert.equal(step(40, "x"), 40);
  assert.equal(refusal(step, -1e308), "x = -1e+308, expected an integer in [0, 40]");
  assert.equal(refusal(step, 41), "x = 41, expected an integer in [0, 40]");
  assert.equal(refusal(step, 2.5), "x = 2.5, expected an integer in [0, 40]");
  assert.equal(refusal(step, "20"), 'x = "20", expected an integer in [0, 40]');
  assert.equal(refusal(num(), NaN), "x = NaN, expected a finite number");
  assert.equal(refusal(num({ min: 0 }), Infinity), "x = Infinity, expected a finite number >= 0");
  assert.equal(num({ finite: false })(Infinity, "x"), Infinity);
  assert.equal(refusal(num({ max: 1 }), 2), "x = 2, expected a finite number <= 1");
  assert.equal(refusal(num(), undefined), "x is missing, expected a finite number");
});

Deno.test("validate: strings, literals, arrays, tuples, objects, optional, nullable, records", () => {
  assert.equal(str({ max: 3 })("abc", "x"), "abc");
  assert.equal(refusal(str({ max: 3 }), "abcd"), 'x = "abcd", expected a string of <= 3 chars');
  assert.equal(refusal(literal("a@1", "b@2"), "c"), 'x = "c", expected "a@1" or "b@2"');
  assert.deepEqual(arr(num(), { max: 2 })([1, 2], "x"), [1, 2]);
  assert.equal(
    refusal(arr(num(), { max: 2 }), [1, 2, 3]),
    "x = an array of 3, expected an array of <= 2 items",
  );
  assert.equal(
    refusal(arr(num(), { min: 1, max: 1 }), []),
    "x = an array of 0, expected an array of 1 to 1 items",
  );
  assert.equal(refusal(arr(num()), [1, "2"]), 'x[1] = "2", expected a finite number');
  assert.equal(refusal(arr(num()), 0.178), "x = 0.178, expected an array of <= 10000000 items");
  assert.deepEqual(tuple(num({ int: true }), num())([10, 0.5], "x"), [10, 0.5]);
  assert.equal(
    refusal(tuple(num(), num()), [1]),
    "x = an array of 1, expected an array of 2 items",
  );
  assert.equal(refusal(tuple(num(), num()), [1, null]), "x[1] = null, expected a finite number");
  const shape = obj({ a: num(), b: optional(str()), c: nullable(num()) });
  assert.deepEqual(shape({ a: 1, c: null, extra: true }, "x"), { a: 1, c: null, extra: true });
  assert.equal(refusal(shape, { a: 1 }), "x.c is missing, expected a value");
  assert.equal(
    refusal(shape, { a: 1, b: 2, c: 3 }),
    "x.b = 2, expected a string of <= 10000 chars",
  );
  assert.equal(refusal(shape, [1]), "x = an array of 1, expected an object");
  assert.equal(refusal(shape, null), "x = null, expected an object");
  assert.deepEqual(record(num())({ rtol: 1e-5 }, "x"), { rtol: 1e-5 });
  assert.equal(
    refusal(record(num(), { max: 1 }), { a: 1, b: 2 }),
    "x = an object, expected an object of <= 1 keys",
  );
  // An inherited name is not a field: a JSON object must hold its own.
  assert.equal(refusal(obj({ toString: num() }), {}), "x.toString is missing, expected a value");
});

Deno.test("validate: JSON depth is counted without recursion; parseJson names syntax, depth and field", () => {
  assert.equal(jsonDepth(1), 0);
  assert.equal(jsonDepth([[1], { a: [] }]), 3);
  let deep: unknown = 0;
  for (let i = 0; i < 1_000_000; i++) deep = [deep];
  assert.equal(jsonDepth(deep, 64), 65, "stops counting past the limit");
  const text = "[".repeat(100_000) + "]".repeat(100_000);
  assert.throws(
    () => parseJson(text, arr(num()), "state"),
    /^ValidationError: state nests deeper than 64 levels$/,
  );
  assert.equal(MAX_JSON_DEPTH, 64);
  assert.throws(
    () => parseJson("[1, \u001b]", arr(num()), "state"),
    (e: Error) => e instanceof ValidationError && /^state is not JSON \(.*\\u001b/.test(e.message),
  );
  assert.throws(
    () => parseJson('{"step": -1}', obj({ step: num({ min: 0 }) }), "state"),
    /state\.step = -1/,
  );
  assert.throws(
    () => checkFile("ck.safetensors", () => num()(NaN, "lastLoss")),
    (e: Error) =>
      e instanceof FileCheckError && e.file === "ck.safetensors" &&
      e.message === "ck.safetensors: lastLoss = NaN, expected a finite number",
  );
  assert.throws(
    () => checkFile("f", () => JSON.parse("{")),
    SyntaxError,
    "only ValidationErrors are wrapped",
  );
});

Deno.test("quote: control, separator and bidi characters escaped, length cut and said", () => {
  assert.equal(safeText("a\u001b[31mb\n\t\r"), "a\\u001b[31mb\\n\\t\\r");
  assert.equal(safeText("\u0085\u2028\u202e\ufeff\u007f"), "\\u0085\\u2028\\u202e\\ufeff\\u007f");
  assert.equal(safeText("back\\slash"), "back\\\\slash");
  assert.equal(safeText("abcdef", 3), "abc...(+3 chars)");
  assert.equal(quote('say "hi"\n'), '"say \\"hi\\"\\n"');
  assert.equal(quote("x".repeat(1000)).length, 2 + 120 + "...(+880 chars)".length);
  assert.equal(quoteList(["a", "b", "c"], 2), '"a", "b" and 1 more');
  assert.equal(
    safeMessage(new SyntaxError("Unexpected token '\u0007'")),
    "Unexpected token '\\u0007'",
  );
  assert.equal(show("a\nb"), '"a\\nb"');
  assert.equal(show(-1e308), "-1e+308");
  assert.equal(show([1, 2]), "an array of 2");
});

Deno.test("move aside: renamed to <file>.unreadable-<time>, the reason logged; a gone file is fine", async () => {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/ck.safetensors`;
  await Deno.writeTextFile(file, "bad");
  const lines: string[] = [];
  const backup = await setAside({
    file,
    reason: `${file}: bad`,
    then: "training starts over",
    log: (l) => lines.push(l),
  });
  assert.match(backup!, /ck\.safetensors\.unreadable-\d{4}-\d\d-\d\dT[\d-]+Z$/);
  assert.equal(await Deno.readTextFile(backup!), "bad");
  assert.deepEqual(lines, [`${file}: bad; moved it to ${backup}; training starts over`]);
  assert.equal(await moveAside(file), null, "already gone");
  await Deno.remove(dir, { recursive: true });
});
