// The one place fmbench imports tfjs from, so every module shares a single engine instance.
import * as tf from "@tensorflow/tfjs";

// Production mode: skips debug-only checks and the "install tfjs-node" banner of the cpu backend.
tf.enableProdMode();

export { tf };
export type Tensor = tf.Tensor;
export type Tensor1D = tf.Tensor1D;
export type Scalar = tf.Scalar;
