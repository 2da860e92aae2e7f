/**
 * The Python value model: the tree of values a checkpoint's pickle yields and a save writes.
 *
 * <p>Scalars are Java's ({@code null} for None, {@code Boolean}, {@code Long} or
 * {@code BigInteger}, {@code Double}, {@code String}); containers are {@code Map} (dict, in
 * insertion order), {@link io.ckpt4j.value.PyOrderedDict}, {@code List} (list),
 * {@link io.ckpt4j.value.PyTuple}, {@code Set}; the rest are {@link io.ckpt4j.value.PyBytes},
 * inert objects ({@link io.ckpt4j.value.PyObject}, {@link io.ckpt4j.value.PyGlobalRef}), torch's
 * small values ({@link io.ckpt4j.value.TorchValues}) and tensor references
 * ({@link io.ckpt4j.value.TensorRef} over a {@link io.ckpt4j.value.StorageRef}) that read no bytes.
 *
 * <p>{@link io.ckpt4j.value.PyValues} reads a value as the Java type a caller needs, with one-line
 * errors; {@link io.ckpt4j.value.TreeWalker} visits a tree's leaves with their key paths;
 * {@link io.ckpt4j.value.TreeCopy} copies a tree with some leaves replaced.
 *
 * <p>This package imports no LibTorch class and nothing of ckpt4j but
 * {@link io.ckpt4j.CheckpointException}: every layer above may use it.
 */
package io.ckpt4j.value;
