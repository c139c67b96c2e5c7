// Test helper process: takes the run lock of the folder given as its argument, prints "locked",
// and holds it until killed (SIGINT exits through Deno.exit, as the bench CLI does).
import { acquireRunLock } from "../../store/lock.ts";

const lock = await acquireRunLock(Deno.args[0], { command: "hold-lock.ts" });
Deno.addSignalListener("SIGINT", () => Deno.exit(130));
console.log(`locked ${lock.path}`);
setInterval(() => {}, 1 << 30); // hold the lock until killed
