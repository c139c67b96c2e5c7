// Files on disk, knowing nothing of flow matching: durable writes, locks, folder rules and formats.
/**
 * The store room: atomic writes and locks, the folder rules shared by the launcher and the CLI,
 * phase markers for the kill test, and the file formats fmbench reads and writes (safetensors,
 * PyTorch checkpoints through a restricted unpickler, zip, tar.gz, PNG, MD5), with the one rule
 * for files read back: checked against a schema (validate.ts), set aside when bad
 * (move-aside.ts, read-checked.ts), quoted safely in messages (quote.ts).
 * @example
 * import { writeFileAtomic } from "./store/mod.ts";
 * await writeFileAtomic("/tmp/x.json", "{}");
 * @module
 */
export { removeDurably, removeStaleTemps, writeFileAtomic } from "./atomic.ts";
export { acquireRunLock, LOCK_FILE, LockHeldError, type LockInfo, type RunLock } from "./lock.ts";
export { copy } from "./copy.ts";
export { pathExists } from "./path-exists.ts";
export { sha256FileSync } from "./sha256.ts";
export { dataDirOf, defaultOutDir } from "./folders.ts";
export { phase, PHASE_PREFIX } from "./trace.ts";
export {
  detectTaskRunner,
  shellQuote,
  TASK_RUNNER_ENV,
  taskCommand,
  taskRunner,
} from "./task-command.ts";
export {
  encodeSafetensors,
  readSafetensors,
  readSafetensorsMetadata,
  SafetensorsError,
  type TensorToWrite,
} from "./safetensors.ts";
export {
  readTorchCheckpoint,
  readTorchCheckpointFile,
  type TorchCheckpoint,
  TorchCheckpointError,
  type TorchTensor,
} from "./torch-checkpoint.ts";
export { PickleError, unpickle } from "./pickle.ts";
export { extractTarGz, listTarGz, TAR_LIMITS, TarError } from "./tar.ts";
export { quote, safeMessage, safeText } from "./quote.ts";
export {
  checkFile,
  FileCheckError,
  MAX_JSON_DEPTH,
  parseJson,
  ValidationError,
} from "./validate.ts";
export { moveAside, setAside } from "./move-aside.ts";
export { readChecked } from "./read-checked.ts";
export { md5File, verifyMd5 } from "./md5.ts";
export { encodePng, imageGridDataUri } from "./png.ts";
export {
  type Downloaded,
  type DownloadRefusal,
  downloadVerified,
  type VerifiedDownloadOptions,
  WeightsDownloadError,
} from "./download.ts";
